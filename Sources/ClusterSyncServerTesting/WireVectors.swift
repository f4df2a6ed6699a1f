import ClusterSyncCore
import Foundation

/// The golden session transcripts in `Protocol/vectors/wire/` (format in Protocol/PROTOCOL.md,
/// "Test vectors"), for the tests of any implementation of the protocol: the codec and
/// line decoder tests, and the session tests that play them through the real `SessionHandler`.
public enum WireVectors {
    /// `Protocol/vectors/wire/` of the checkout this library was built from.
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ClusterSyncServerTesting
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // the package root
        .appendingPathComponent("Protocol")
        .appendingPathComponent("vectors")
        .appendingPathComponent("wire")

    /// Every transcript the protocol promises, one exchange each.
    public static let names = [
        "hello-token", "hello-certificate", "push-ack", "push-resend-duplicates", "push-resend-superseded", "push-resend-altered", "pull-paging", "subscribe", "ping", "bye",
        "malformed-json", "unknown-message", "line-too-long", "batch-too-large", "invalid-field", "patient-data",
        "forbidden-scope", "clock-skew", "out-of-order", "unauthenticated", "version-unsupported", "cursor-not-issued",
        "credential-expiring", "credential-expired", "bad-signature",
        "role-cluster-lead", "role-pcpg", "role-health-board", "oversight-pcpg", "lead-only", "supersedes-unsynced",
        "snapshot", "cursor-expired", "welcome-store", "replica-retired",
    ]

    public struct Connection: Sendable {
        public var certificate: String?
        public var nowMillis: Int64
        /// The server store's identity (`welcome.store`); nil: the server sends none.
        public var store: String?
        public var limits: WireLimits

        public init(certificate: String?, nowMillis: Int64, limits: WireLimits) {
            self.certificate = certificate
            self.nowMillis = nowMillis
            self.limits = limits
        }
    }

    public enum Entry: Equatable {
        /// A line the client sends (canonical text of the message object).
        case client(String)
        /// Raw text the client sends as one line.
        case clientRaw(String)
        /// A line of this many bytes, newline included, that the client sends.
        case clientOversized(Int)
        /// A line another session of the cluster pushes (its own answers are not shown).
        case other(String)
        /// A line the server sends.
        case server(String)
        /// The server closes the connection.
        case serverClose
        /// The server's operator compacts every tenant's log through its current end
        /// (`clustersyncd compact --horizon-days 0`), between two lines.
        case operatorCompacts
        /// The server's operator retires a replica (`clustersyncd replica retire ID`), at the
        /// connection's clock, between two lines.
        case operatorRetires(ReplicaID)
    }

    public struct Transcript {
        public var name: String
        public var connection: Connection
        public var entries: [Entry]

        /// The text of every message line, with who sent it.
        public var messageLines: [(from: String, line: String)] {
            entries.compactMap {
                switch $0 {
                case .client(let l): ("client", l)
                case .other(let l): ("other", l)
                case .server(let l): ("server", l)
                default: nil
                }
            }
        }
    }

    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func lines(_ name: String) throws -> [String] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".jsonl"))
        guard let text = String(data: data, encoding: .utf8) else { throw FormatError(description: "\(name).jsonl is not UTF-8") }
        guard text.hasSuffix("\n") else { throw FormatError(description: "\(name).jsonl must end with a newline") }
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    public static func load(_ name: String) throws -> Transcript {
        var connection: Connection?
        var entries: [Entry] = []
        for (n, text) in try lines(name).enumerated() {
            let at = "\(name).jsonl:\(n + 1)"
            let value = try JSONValue(parsing: text)
            guard value.canonicalText == text else { throw FormatError(description: "\(at) is not canonical JSON") }
            guard case .object(let o) = value, let from = o["from"]?.stringValue else {
                throw FormatError(description: "\(at) is not an object with \"from\"")
            }
            func keys(_ expected: Set<String>) throws {
                guard Set(o.keys) == expected else { throw FormatError(description: "\(at) has keys \(o.keys.sorted()), expected \(expected.sorted())") }
            }
            func message() throws -> String {
                guard case .object = o["line"] else { throw FormatError(description: "\(at): \"line\" must be an object") }
                return o["line"]!.canonicalText
            }
            switch from {
            case "connection":
                guard n == 0 else { throw FormatError(description: "\(at): the connection line must come first") }
                var limits = WireLimits.default
                if case .object(let l)? = o["limits"] {
                    limits = WireLimits(
                        maxLineBytes: Int(l["maxLineBytes"]!.intValue!), maxChangesPerPush: Int(l["maxChangesPerPush"]!.intValue!),
                        maxChangesPerPage: Int(l["maxChangesPerPage"]!.intValue!), maxClockSkewMillis: l["maxClockSkewMillis"]!.intValue!,
                        idleTimeoutMillis: l["idleTimeoutMillis"]?.intValue ?? WireLimits.default.idleTimeoutMillis)
                }
                try keys(Set(["from", "certificate", "nowMillis"] + ["limits", "store"].filter { o[$0] != nil }))
                guard let now = o["nowMillis"]?.intValue else { throw FormatError(description: "\(at): nowMillis must be a number") }
                connection = Connection(certificate: o["certificate"]?.stringValue, nowMillis: now, limits: limits)
                connection?.store = o["store"]?.stringValue
            case "client" where o["raw"] != nil:
                try keys(["from", "raw"])
                guard let raw = o["raw"]?.stringValue else { throw FormatError(description: "\(at): raw must be a string") }
                entries.append(.clientRaw(raw))
            case "client" where o["oversized"] != nil:
                try keys(["from", "oversized"])
                guard let size = o["oversized"]?.intValue else { throw FormatError(description: "\(at): oversized must be a number") }
                entries.append(.clientOversized(Int(size)))
            case "client":
                try keys(["from", "line"])
                entries.append(.client(try message()))
            case "other":
                try keys(["from", "line"])
                entries.append(.other(try message()))
            case "server" where o["close"] != nil:
                try keys(["from", "close"])
                guard o["close"] == .bool(true) else { throw FormatError(description: "\(at): close must be true") }
                entries.append(.serverClose)
            case "server":
                try keys(["from", "line"])
                entries.append(.server(try message()))
            case "operator" where o["retire"] != nil:
                try keys(["from", "retire"])
                guard let id = o["retire"]?.stringValue.flatMap(ReplicaID.init) else { throw FormatError(description: "\(at): retire must be a replica id") }
                entries.append(.operatorRetires(id))
            case "operator":
                try keys(["from", "compact"])
                guard o["compact"] == .bool(true) else { throw FormatError(description: "\(at): compact must be true") }
                entries.append(.operatorCompacts)
            default:
                throw FormatError(description: "\(at): unknown \"from\" \(from)")
            }
        }
        guard let connection else { throw FormatError(description: "\(name).jsonl has no connection line") }
        return Transcript(name: name, connection: connection, entries: entries)
    }

    public static func all() throws -> [Transcript] {
        try names.map(load)
    }
}
