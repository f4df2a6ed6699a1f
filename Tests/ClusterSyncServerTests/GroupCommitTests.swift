import ClusterSyncCore
import Foundation
import GRDB
import Testing

@testable import ClusterSyncServer

/// Group commit in the SQLite server store (`GroupCommit`): writes that wait while the writer is
/// busy are committed together in one transaction, each in its own savepoint, so a refused push
/// fails alone, sequences stay gap-free and the chain unbroken. Real SQLite files throughout.
@Suite struct GroupCommitTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-group-\(UUID().uuidString)")
    let scope = RecordScope(tenant: "bcuhb", cluster: "north")

    func identity(_ practice: String) -> SessionIdentity {
        SessionIdentity(tenant: "bcuhb", cluster: "north", practice: practice, author: practice)
    }

    func change(_ replica: String, _ n: Int64, record: RecordID, scope: RecordScope? = nil) -> Change {
        Change(id: ChangeID(replica: ReplicaID(replica)!, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n),
               record: record, scope: scope ?? self.scope, field: "title", value: .string("Title \(n)"))
    }

    func makeStore() async throws -> SQLiteServerStore {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        for practice in ["rhyl", "prestatyn", "denbigh"] { try await store.addPractice(practice, cluster: "north", tenant: "bcuhb") }
        return store
    }

    /// Waits (with a deadline, not a timed assertion) until `condition` holds.
    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("gave up waiting"); return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func pushesWaitingForTheWriterCommitTogetherAndARefusedOneFailsAlone() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore()
        let record = RecordID("RSK-7K3M9Q2X1A")!
        let other = RecordID("RSK-7K3M9Q2X1B")!

        // Keep the writer busy until three pushes wait behind it.
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holder = Task { try await store.write { _ in entered.signal(); release.wait() } }
        while entered.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(5)) }
        let groupsBefore = store.commits.groupsCommitted

        // Queued in this order: rhyl creates the record cluster-shared; prestatyn then claims it
        // is private to prestatyn (refused: a record keeps its scope, which it can only know
        // from rhyl's uncommitted write in the same transaction); denbigh writes another record.
        let first = Task { try await store.push([change("00000000000000a1", 1, record: record), change("00000000000000a1", 2, record: record)],
                                                as: identity("rhyl")) }
        try await waitUntil { store.commits.waiting == 1 }
        let refused = Task {
            try await store.push([change("00000000000000b1", 1, record: other),
                                  change("00000000000000b1", 2, record: record, scope: RecordScope(tenant: "bcuhb", cluster: "north", practice: "prestatyn"))],
                                 as: identity("prestatyn"))
        }
        try await waitUntil { store.commits.waiting == 2 }
        let third = Task { try await store.push([change("00000000000000c1", 1, record: other)], as: identity("denbigh")) }
        try await waitUntil { store.commits.waiting == 3 }
        release.signal()
        try await holder.value

        #expect(try await first.value == PushOutcome(accepted: 2, duplicates: 0))
        let rejection = await #expect(throws: PushRejection.self) { try await refused.value }
        #expect(rejection?.change == ChangeID("2@00000000000000b1"))
        #expect(rejection?.error.code == .forbiddenScope)
        #expect(try await third.value == PushOutcome(accepted: 1, duplicates: 0))
        // The holder's transaction (still open when counted), then one for all three pushes.
        #expect(store.commits.groupsCommitted == groupsBefore + 2)

        // Nothing of the refused push is stored (not even its first, valid change); the others'
        // changes hold positions 1 to 3 with no gap, chained.
        let page = try await store.pull(for: identity("rhyl"), after: nil, limit: 100)
        #expect(page.changes.map(\.id.description) == ["1@00000000000000a1", "2@00000000000000a1", "1@00000000000000c1"])
        #expect(page.cursor == StreamCursor.cursor(at: 3))
        let report = try await store.verifyChain(tenant: "bcuhb", expectedHead: nil)
        #expect(report.isIntact && report.entries == 3, "\(report.problems)")
        // The refused push, sent again without its bad change, is accepted: nothing half-stored.
        #expect(try await store.push([change("00000000000000b1", 1, record: other)], as: identity("prestatyn")).accepted == 1)
        // And the accepted ones, sent again, are duplicates.
        #expect(try await store.push([change("00000000000000c1", 1, record: other)], as: identity("denbigh")) == PushOutcome(accepted: 0, duplicates: 1))
    }

    @Test func sessionStartWritesAndPushesShareACommit() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore()
        let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)
        let credential = try #require(try await store.credential(token: token))

        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holder = Task { try await store.write { _ in entered.signal(); release.wait() } }
        while entered.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(5)) }
        let groupsBefore = store.commits.groupsCommitted
        let used = Task { try await store.markUsed(credential: credential.id, at: 1_800_000_000_000) }
        try await waitUntil { store.commits.waiting == 1 }
        let logged = Task { try await store.recordAudit(AuditEntry(at: 1_800_000_000_000, event: .connected, tenant: "bcuhb"), keepAfter: 0) }
        try await waitUntil { store.commits.waiting == 2 }
        // A write that fails (a tenant that exists) in the middle of the group.
        let clash = Task { try await store.addTenant("bcuhb") }
        try await waitUntil { store.commits.waiting == 3 }
        let pushed = Task { try await store.push([change("00000000000000a1", 1, record: RecordID("RSK-7K3M9Q2X1A")!)], as: identity("rhyl")) }
        try await waitUntil { store.commits.waiting == 4 }
        release.signal()
        try await holder.value

        try await used.value
        try await logged.value
        await #expect(throws: ClusterSyncError.self) { try await clash.value }
        #expect(try await pushed.value.accepted == 1)
        #expect(store.commits.groupsCommitted == groupsBefore + 2)
        #expect(try await store.credential(id: credential.id)?.lastUsedAt == 1_800_000_000_000)
        #expect(try await store.audit(tenant: "bcuhb", since: nil, limit: 10).map(\.event) == [.connected])
    }
}
