import ClusterSyncCore
import ClusterSyncServer
import Testing

/// A replica retired by the administrator (its laptop lost, its file copied): on every store,
/// no change in its name that the store does not hold is taken, whoever pushes it, while a
/// resend of what it stored before is still a duplicate; its hello is refused; listing shows
/// it; and others may write over its changes the store never received (PROTOCOL.md §6.2).
@Suite struct ReplicaRetirementStoreTests {
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let prestatyn = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn")
    static let lost = ReplicaID("00000000000000e1")!, other = ReplicaID("00000000000000e2")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")

    static func write(_ replica: ReplicaID, _ n: Int64, _ value: String, record: String? = nil, supersedes: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n * 10),
               record: RecordID(record ?? "RSK-7K3M9Q2X1\(replica == lost ? "A" : "B")")!, scope: shared, field: "title", value: .string(value),
               supersedes: supersedes)
    }

    func store(_ kind: StoreBackend) async throws -> (any ServerStore, lostKey: ReplicaPublicKey) {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addTenant("cvuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        let lostKey = ReplicaSigningKey().publicKey
        _ = try await store.registerReplicaKey(lostKey, replica: Self.lost, session: Self.rhyl, person: "laptop")
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.other, session: Self.prestatyn, person: nil)
        #expect(try await store.push([Self.write(Self.lost, 1, "Estates lease")], as: Self.rhyl, from: Self.lost) == PushOutcome(accepted: 1, duplicates: 0))
        return (store, lostKey)
    }

    @Test(arguments: StoreBackend.available) func aRetiredReplicasNewChangesAreRefusedWhoeverPushesThem(kind: StoreBackend) async throws {
        let (store, lostKey) = try await store(kind)
        let listed = try await store.registeredReplicas(tenant: "bcuhb", cluster: nil)
        #expect(listed.map(\.registration.replica) == [Self.lost, Self.other])
        #expect(listed.first?.changesStored == 1 && listed.first?.lastCounter == 1 && listed.first?.registration.person == "laptop")
        #expect(listed.allSatisfy { $0.registration.retiredAt == nil })

        let retired = try await store.retireReplica(Self.lost, tenant: "bcuhb", cluster: nil, at: 1_800_000_000_000)
        #expect(retired.registration.retiredAt == 1_800_000_000_000 && retired.cluster == "north")
        // Retiring again keeps the first time.
        #expect(try await store.retireReplica(Self.lost, tenant: "bcuhb", cluster: "north", at: 1_900_000_000_000).registration.retiredAt == 1_800_000_000_000)
        #expect(try await store.registeredReplicas(tenant: "bcuhb", cluster: "north").first?.registration.retiredAt == 1_800_000_000_000)

        // Its own push of a new change, and prestatyn's relay of one (a merged file), are refused,
        // and nothing of the push is stored; a resend of what it stored before is a duplicate.
        for (identity, from) in [(Self.rhyl, Self.lost), (Self.prestatyn, Self.other)] {
            let refused = await #expect(throws: PushRejection.self) {
                try await store.push([Self.write(Self.other, identity == Self.rhyl ? 1 : 2, "Own"), Self.write(Self.lost, 2, "Forged")],
                                     as: identity, from: from)
            }
            #expect(refused?.change == ChangeID(replica: Self.lost, counter: 2) && refused?.error.code == .replicaRetired, "\(String(describing: refused))")
            #expect(refused?.error.message.contains("retired") == true)
        }
        #expect(try await store.push([Self.write(Self.lost, 1, "Estates lease")], as: Self.prestatyn, from: Self.other) == PushOutcome(accepted: 0, duplicates: 1))
        let page = try await store.pull(for: Self.prestatyn, after: nil, limit: 100)
        #expect(page.changes.map(\.id) == [ChangeID(replica: Self.lost, counter: 1)])
        // Another practice's replica goes on as before.
        #expect(try await store.push([Self.write(Self.other, 1, "Own")], as: Self.prestatyn, from: Self.other) == PushOutcome(accepted: 1, duplicates: 0))

        // Its key at a first push (the session's registration) is refused.
        let hello = await #expect(throws: ClusterSyncError.self) {
            try await store.registerReplicaKey(lostKey, replica: Self.lost, session: Self.rhyl, person: "laptop")
        }
        #expect(hello?.code == .replicaRetired && hello?.message.contains("clustersync init") == true, "\(String(describing: hello))")
    }

    /// A practice that merged a lost laptop's change writes over it, and over the stored value that
    /// change replaced (as the reference client does): while the laptop is in use that waits for
    /// the laptop's own sync (`supersedes-unsynced`); once it is retired the store will never take
    /// the change, so the write goes through, an ordinary edit over another practice's value (not
    /// the settling of a conflict between two of its values, which needs the lead).
    @Test(arguments: StoreBackend.available) func aChangeTheRetiredReplicaNeverSyncedMayBeWrittenOver(kind: StoreBackend) async throws {
        let (store, _) = try await store(kind)
        let unsynced = ChangeID(replica: Self.lost, counter: 2)
        let over = Self.write(Self.other, 1, "Estates lease renewal", record: "RSK-7K3M9Q2X1A",
                              supersedes: [unsynced, ChangeID(replica: Self.lost, counter: 1)])
        let waits = await #expect(throws: PushRejection.self) { try await store.push([over], as: Self.prestatyn, from: Self.other) }
        #expect(waits?.error.code == .supersedesUnsynced, "\(String(describing: waits))")
        _ = try await store.retireReplica(Self.lost, tenant: "bcuhb", cluster: nil, at: 1_800_000_000_000)
        #expect(try await store.push([over], as: Self.prestatyn, from: Self.other) == PushOutcome(accepted: 1, duplicates: 0))
        // Another replica's change not held still waits: the exemption is the retired one's only.
        let overOther = Self.write(Self.other, 2, "Lease", record: "RSK-7K3M9Q2X1A", supersedes: [ChangeID(replica: ReplicaID("00000000000000e3")!, counter: 1)])
        let still = await #expect(throws: PushRejection.self) { try await store.push([overOther], as: Self.prestatyn, from: Self.other) }
        #expect(still?.error.code == .supersedesUnsynced, "\(String(describing: still))")
    }

    /// An id is looked up within the tenant only: another tenant's administrator cannot name it.
    @Test(arguments: StoreBackend.available) func aReplicaIsRetiredWithinItsTenantOnly(kind: StoreBackend) async throws {
        let (store, _) = try await store(kind)
        let elsewhere = await #expect(throws: ClusterSyncError.self) {
            try await store.retireReplica(Self.lost, tenant: "cvuhb", cluster: nil, at: 1_800_000_000_000)
        }
        #expect(elsewhere?.code == .unknownRecord && elsewhere?.message.contains("replica list") == true, "\(String(describing: elsewhere))")
        let unknownTenant = await #expect(throws: ClusterSyncError.self) { try await store.registeredReplicas(tenant: "nowhere", cluster: nil) }
        #expect(unknownTenant?.code == .invalidValue)
        #expect(try await store.registeredReplicas(tenant: "cvuhb", cluster: nil).isEmpty)
        #expect(try await store.registeredReplicas(tenant: "bcuhb", cluster: nil).allSatisfy { $0.registration.retiredAt == nil })
    }
}
