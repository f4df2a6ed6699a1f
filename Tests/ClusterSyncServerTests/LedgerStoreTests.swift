import ClusterSyncCore
@testable import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import GRDB
import Testing

/// The server stores' part of the tamper-evident log and of redaction: every accepted change is
/// chained in the push's transaction, a store from before the chain is chained by its migration,
/// and both stores (SQLite and in-memory) keep a redaction and never take the value back.
@Suite struct LedgerStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-ledger-\(UUID().uuidString)")
    let identity = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl", role: .clusterLead)
    let scope = RecordScope(tenant: "bcuhb", cluster: "north")
    let record = RecordID("RSK-7K3M9Q2X1A")!

    func change(_ n: Int64, _ field: String = "description", value: JSONValue?, record: RecordID? = nil) -> Change {
        Change(id: ChangeID(replica: ReplicaID("00000000000000a1")!, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n),
               record: record ?? self.record, scope: scope, field: field, value: value)
    }

    func redaction(_ n: Int64, of target: Int64, record: RecordID? = nil) -> Change {
        change(n, Redaction.field, value: Redaction.Request(
            change: ChangeID(replica: ReplicaID("00000000000000a1")!, counter: target), field: "description", reason: "a name").value,
               record: record)
    }

    func setUp(_ store: some ServerStore) async throws {
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
    }

    @Test func aStoreFromBeforeIsChainedAndEveryPushExtendsTheChain() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.sqlite").path
        let old = try DatabaseQueue(path: path)
        try SQLiteServerSchema.migrator.migrate(old, upTo: "v4: credential lifecycle and session log")
        try await old.write { db in
            try db.execute(sql: "INSERT INTO tenant (name) VALUES ('bcuhb')")
            try db.execute(sql: "INSERT INTO tenant_sequence (tenant, last) VALUES ('bcuhb', 2)")
            try db.execute(sql: "INSERT INTO cluster (tenant, name) VALUES ('bcuhb', 'north')")
            try db.execute(sql: "INSERT INTO practice (tenant, cluster, name) VALUES ('bcuhb', 'north', 'rhyl')")
            for n in Int64(1)...2 {
                try db.execute(sql: "INSERT INTO log (tenant, seq, cluster, practice, replica, counter, change_json) VALUES ('bcuhb', ?, 'north', NULL, ?, ?, ?)",
                               arguments: [n, "00000000000000a1", n, change(n, value: .string("Old \(n)")).jsonText])
            }
        }
        try old.close()
        let store = try SQLiteServerStore(path: path)
        var report = try await store.verifyChain(tenant: "bcuhb", expectedHead: nil)
        #expect(report.isIntact && report.entries == 2, "\(report.problems)")
        let head = try #require(report.head)
        _ = try await store.push([change(3, value: .string("New"))], as: identity)
        report = try await store.verifyChain(tenant: "bcuhb", expectedHead: head.hash)
        #expect(report.isIntact && report.entries == 3 && report.head?.seq == 3, "\(report.problems)")
        await #expect(throws: ClusterSyncError.self) { try await store.verifyChain(tenant: "powys", expectedHead: nil) }
    }

    @Test(arguments: StoreBackend.available) func aStoreKeepsARedactionAndNeverTakesTheValueBack(kind: StoreBackend) async throws {
        let store = try await kind.make()
        try await setUp(store)
        let written = change(1, value: .string("Mrs Example"))
        _ = try await store.push([written], as: identity)
        #expect(try await store.push([redaction(2, of: 1)], as: identity).accepted == 1)
        func stored(_ id: Int64) async throws -> Change? {
            try await store.pull(for: identity, after: nil, limit: 100).changes.first { $0.id.counter == id }
        }
        let marker = Redaction.marker(by: ChangeID("2@00000000000000a1")!)
        #expect(try await stored(1)?.value == marker)
        // A replica that had not heard pushes the value again: a duplicate, kept erased.
        #expect(try await store.push([written], as: identity) == PushOutcome(accepted: 0, duplicates: 1))
        #expect(try await stored(1)?.value == marker)
        // A redaction that reached the server before the change: the change is stored erased.
        let other = RecordID("RSK-7K3M9Q2X1B")!
        _ = try await store.push([redaction(4, of: 3, record: other)], as: identity)
        _ = try await store.push([change(3, value: .string("Mr Example"), record: other)], as: identity)
        #expect(try await stored(3)?.value == Redaction.marker(by: ChangeID("4@00000000000000a1")!))
        // Only a cluster lead's session may store one (`LeadPowers`).
        var practice = identity
        practice.role = .practice
        let refusal = await #expect(throws: PushRejection.self) { try await store.push([redaction(6, of: 3, record: other)], as: practice) }
        #expect(refusal?.error.code == .leadOnly)
        // A redaction naming a change of another record is refused, naming the redaction.
        let error = await #expect(throws: PushRejection.self) { try await store.push([redaction(5, of: 1, record: other)], as: identity) }
        #expect(error?.error.code == .invalidValue && error?.change == ChangeID("5@00000000000000a1"))
        if let operated = store as? any OperatedStore {
            let report = try await operated.verifyChain(tenant: "bcuhb", expectedHead: nil)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.redactions.map(\.redactedSeq) == [1, 4])
            #expect(report.redactions.map(\.erasedOnArrival) == [false, true])
        }
    }
}
