import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// The one admission rule, seen from both ends: every line of
/// `Protocol/vectors/changes/invalid.jsonl` pushed to the server (the production
/// `SessionHandler` over a SQLite store, without sockets: `HandlerPush`)
/// and received by a replica in a page (`WireCodec`, then `Replica.applyPulled`, as a sync
/// does) gets the same code at both: a change the server would store is one every replica
/// applies, and one a replica would refuse never gets stored.
@Suite struct AdmissionVectorTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/changes")

    struct Vector {
        var number: Int
        var line: String
        var code: String
    }

    static func lines(_ name: String) throws -> [String] {
        let text = try String(contentsOf: vectors.appendingPathComponent(name), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static func invalid() throws -> [Vector] {
        try lines("invalid.jsonl").enumerated().map { n, text in
            let o = try JSONValue(parsing: text)
            return Vector(number: n + 1, line: try #require(o["line"]?.stringValue), code: try #require(o["code"]?.stringValue))
        }
    }

    static let identity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "w95010", author: "w95010")
    static let pusher = ReplicaID("00000000000000c1")!

    /// The push line of a vector's change: a change that is not JSON makes the push line not
    /// JSON (the empty line included).
    static func pushLine(_ line: String) -> String {
        (try? JSONValue(parsing: line)) == nil
            ? #"{"batch":"v","changes":["# + line : #"{"batch":"v","changes":["# + line + #"],"type":"push"}"#
    }

    /// What a replica makes of `line` sent in a page: `applied`, or the code it was set aside with.
    static func replicaAnswer(_ line: String, replica: Replica, page: Int) throws -> String {
        // A server sends a log row that is not JSON as a JSON string (SQLiteServerStore.pull).
        let element = (try? JSONValue(parsing: line)) == nil ? JSONValue.string(line).canonicalText : line
        let message = try WireCodec.decode(#"{"changes":["# + element + #"],"cursor":"s1:\#(page)","more":false,"type":"changes"}"#)
        guard case .changes(let changes) = message else { return "not a page" }
        let outcome = try replica.applyPulled(changes)
        if outcome.setAside == 1 { return try replica.setAside().last?.code.rawValue ?? "?" }
        return outcome.applied == 1 ? "applied" : "applied \(outcome.applied), set aside \(outcome.setAside)"
    }

    @Test func everyInvalidVectorGetsTheSameCodeFromTheServerAndFromAReplica() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-admission-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await HandlerPush.store(in: directory, practice: PracticePath(tenant: "ctmuhb", cluster: "rhondda", practice: "w95010"),
                                                label: nil)
        let replica = try Replica(path: directory.appendingPathComponent("replica.sqlite").path)
        try replica.initialise(tenant: "ctmuhb", cluster: "rhondda", practice: "w95010", displayName: "Treorchy")
        // No key is registered: every invalid vector fails an earlier check than the signature's,
        // which comes last.
        var server = HandlerPush(store: store, nowMillis: Int64(Date().timeIntervalSince1970 * 1000), replica: Self.pusher)

        let vectors = try Self.invalid()
        #expect(vectors.count >= 150)
        for v in vectors {
            let server = try await server.answer(Self.pushLine(v.line))
            let replicaCode = try Self.replicaAnswer(v.line, replica: replica, page: v.number)
            #expect(server == v.code && replicaCode == v.code,
                    "invalid.jsonl:\(v.number): server \(server), replica \(replicaCode), expected \(v.code): \(v.line.prefix(160))")
        }
        // Nothing was stored or applied.
        #expect(try await store.pull(for: Self.identity, after: nil, limit: 10).changes.isEmpty)
        #expect(try replica.allChanges().isEmpty)
    }

    @Test func everyValidVectorOfTheReceiversScopeIsAdmittedByBoth() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-admission-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let replica = try Replica(path: directory.appendingPathComponent("replica.sqlite").path)
        let changes = try Self.lines("valid.jsonl").map { try Change(jsonText: $0) }
        // The scope most valid vectors are in, as the receiver's.
        let scopes = Dictionary(grouping: changes) { RecordScope(tenant: $0.scope.tenant, cluster: $0.scope.cluster) }
        let (scope, mine) = try #require(scopes.max { $0.value.count < $1.value.count })
        let practice = mine.compactMap(\.scope.practice).first ?? "p1"
        let path = PracticePath(tenant: scope.tenant, cluster: scope.cluster, practice: practice)
        let store = try await HandlerPush.store(in: directory, practice: path, label: nil)
        try replica.initialise(tenant: scope.tenant, cluster: scope.cluster, practice: practice, displayName: "Receiver")
        let identity = SessionIdentity(tenant: scope.tenant, cluster: scope.cluster, practice: practice, author: practice)
        var server = HandlerPush(store: store, nowMillis: Int64(Date().timeIntervalSince1970 * 1000), replica: Self.pusher)
        let received = mine.filter { $0.scope.practice == nil || $0.scope.practice == practice }
        #expect(received.count >= 10)
        var applied = 0
        var keys: [ReplicaID: ReplicaSigningKey] = [:]
        for (n, change) in received.enumerated() {
            // Signed by its maker, whose key is registered (the vectors' changes predate signing).
            let makerKey = keys[change.id.replica] ?? ReplicaSigningKey()
            if keys[change.id.replica] == nil {
                keys[change.id.replica] = makerKey
                _ = try await store.registerReplicaKey(makerKey.publicKey, replica: change.id.replica, session: identity, person: nil)
            }
            let line = ChangeSignature.signed(change, with: makerKey).jsonText
            let answer = try await server.answer(#"{"batch":"v\#(n)","changes":["# + line + #"],"type":"push"}"#)
            #expect(answer == "accepted:1", "\(line)")
            let outcome = try replica.applyPulled(ChangesPage(changes: [change], cursor: Cursor("s1:\(n + 1)"), more: false))
            #expect(outcome.applied == 1 && outcome.setAside == 0, "\(line)")
            applied += outcome.applied
        }
        #expect(applied == received.count)
        #expect(try await store.pull(for: identity, after: nil, limit: 1_000).changes.count == received.count)
        #expect(try replica.setAsideCount() == 0)
    }
}
