import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// The one admission rule, seen from both ends: every line of
/// `Protocol/vectors/changes/invalid.jsonl` pushed to the server (the session state machine
/// decodes the line, `PushValidation` and the SQLite store decide, as `SessionHandler` does)
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

    /// What the server answers to a push of `line`: an error code, or `accepted:N`.
    static func serverAnswer(_ line: String, store: SQLiteServerStore, now: Int64) async -> String {
        var machine = ServerSessionStateMachine(limits: .default, certificateIdentity: true)
        guard case .authenticate = machine.lineReceived(WireCodec.encode(.hello(Hello(replica: pusher))).dropLast()),
              case .send(.welcome) = machine.authenticated(identity, server: "test")
        else { return "no session" }
        // A change that is not JSON makes the push line not JSON (the empty line included).
        let push = (try? JSONValue(parsing: line)) == nil
            ? #"{"batch":"v","changes":["# + line : #"{"batch":"v","changes":["# + line + #"],"type":"push"}"#
        switch machine.lineReceived(push) {
        case .send(.error(let error)):
            return error.code
        case .store(let push):
            do throws(PushRejection) {
                // No key is registered: every invalid vector fails an earlier check than the
                // signature's, which comes last.
                try PushValidation.validate(push, for: identity, nowMillis: now, limits: .default, keys: [:])
            } catch {
                return error.error.code.rawValue
            }
            do {
                let outcome = try await store.push(push.changes, as: identity, from: pusher)
                return "accepted:\(outcome.accepted)"
            } catch let error as ClusterSyncError {
                return error.code.rawValue
            } catch {
                return "\(error)"
            }
        case let other:
            return "\(other)"
        }
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
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
        try await store.addTenant("ctmuhb")
        try await store.addCluster("rhondda", tenant: "ctmuhb")
        try await store.addPractice("w95010", cluster: "rhondda", tenant: "ctmuhb")
        let replica = try Replica(path: directory.appendingPathComponent("replica.sqlite").path)
        try replica.initialise(tenant: "ctmuhb", cluster: "rhondda", practice: "w95010", displayName: "Treorchy")
        let now = Int64(Date().timeIntervalSince1970 * 1000)

        let vectors = try Self.invalid()
        #expect(vectors.count >= 150)
        for v in vectors {
            let server = await Self.serverAnswer(v.line, store: store, now: now)
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
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
        let replica = try Replica(path: directory.appendingPathComponent("replica.sqlite").path)
        let changes = try Self.lines("valid.jsonl").map { try Change(jsonText: $0) }
        // The scope most valid vectors are in, as the receiver's.
        let scopes = Dictionary(grouping: changes) { RecordScope(tenant: $0.scope.tenant, cluster: $0.scope.cluster) }
        let (scope, mine) = try #require(scopes.max { $0.value.count < $1.value.count })
        #expect(mine.count >= 10)
        let practice = mine.compactMap(\.scope.practice).first ?? "p1"
        try await store.addTenant(scope.tenant)
        try await store.addCluster(scope.cluster, tenant: scope.tenant)
        try await store.addPractice(practice, cluster: scope.cluster, tenant: scope.tenant)
        try replica.initialise(tenant: scope.tenant, cluster: scope.cluster, practice: practice, displayName: "Receiver")
        let identity = SessionIdentity(tenant: scope.tenant, cluster: scope.cluster, practice: practice, author: practice)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for change in mine where change.scope.practice == nil || change.scope.practice == practice {
            // Signed by its maker, whose key is registered (the vectors' changes predate signing).
            let makerKey = ReplicaSigningKey()
            let line = ChangeSignature.signed(change, with: makerKey).jsonText
            var machine = ServerSessionStateMachine(limits: .default, certificateIdentity: true)
            _ = machine.lineReceived(WireCodec.encode(.hello(Hello(replica: Self.pusher))).dropLast())
            _ = machine.authenticated(identity, server: "test")
            guard case .store(let push) = machine.lineReceived(#"{"batch":"v","changes":["# + line + #"],"type":"push"}"#) else {
                Issue.record("not stored: \(line)")
                continue
            }
            #expect(throws: Never.self) {
                try PushValidation.validate(push, for: identity, nowMillis: now, limits: .default, keys: [change.id.replica: makerKey.publicKey])
            }
            _ = try await store.push(push.changes, as: identity, from: Self.pusher)
            let page = ChangesPage(changes: [change], cursor: Cursor("s1:1"), more: false)
            #expect(try replica.applyPulled(page).setAside == 0, "\(line)")
        }
        #expect(try replica.setAsideCount() == 0)
    }
}
