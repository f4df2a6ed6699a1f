import ClusterSyncCore
import ClusterSyncServer
import Testing

/// A push resent after a dropped connection, by a replica whose key is registered (every client
/// since signed changes): the stores count what they hold as duplicates, log the rest in order
/// without a gap, and never refuse a change they already hold. PostgreSQL takes such a push as
/// all new first and looks its ids up only when its log's unique key meets one it holds.
@Suite struct ResentPushStoreTests {
    static let identity = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let replica = ReplicaID("00000000000000c7")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let record = RecordID("RSK-7K3M9Q2X1B")!

    static func change(_ n: Int64, scope: RecordScope = shared) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n),
               record: record, scope: scope, field: "description", value: .string("Note \(n)"))
    }

    @Test(arguments: StoreBackend.persistent) func aResentPushCountsWhatIsStoredAndLogsTheRestWithoutAGap(kind: StoreBackend) async throws {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.replica, session: Self.identity, person: nil)

        #expect(try await store.push((1...3).map { Self.change($0) }, as: Self.identity, from: Self.replica)
            == PushOutcome(accepted: 3, duplicates: 0))
        // The connection dropped before the ack of 2 and 3: they go again with 4 and 5.
        #expect(try await store.push((2...5).map { Self.change($0) }, as: Self.identity, from: Self.replica)
            == PushOutcome(accepted: 2, duplicates: 2))
        // All held: nothing is logged. A copy that differs from the stored change (here its
        // scope) is no resend: refused, naming the change, and nothing of its push is stored
        // (ReplicaOwnership.checkResent; before, it counted as a duplicate and was dropped).
        let privateScope = RecordScope(tenant: "bcuhb", cluster: "north", practice: "rhyl")
        #expect(try await store.push([Self.change(4), Self.change(5)], as: Self.identity, from: Self.replica)
            == PushOutcome(accepted: 0, duplicates: 2))
        let altered = await #expect(throws: PushRejection.self) {
            try await store.push([Self.change(4), Self.change(5, scope: privateScope)], as: Self.identity, from: Self.replica)
        }
        #expect(altered?.change == Self.change(5).id && altered?.error.code == .invalidValue && altered?.error.field == "id")
        var retitled = Self.change(3)
        retitled.value = .string("Note 3, retitled")
        await #expect(throws: PushRejection.self) {
            try await store.push([retitled], as: Self.identity, from: Self.replica)
        }
        // A new change in another scope than its record's is still refused.
        await #expect(throws: PushRejection.self) {
            try await store.push([Self.change(6, scope: privateScope)], as: Self.identity, from: Self.replica)
        }

        let page = try await store.pull(for: Self.identity, after: nil, limit: 100)
        #expect(page.changes.map(\.id.counter) == [1, 2, 3, 4, 5])
        #expect(try await store.chainHead(tenant: "bcuhb")?.seq == 5)
        let chain = try await #require(store as? any OperatedStore).verifyChain(tenant: "bcuhb", expectedHead: nil)
        #expect(chain.isIntact && chain.entries == 5, "\(chain.problems)")
    }
}
