import ClusterSyncCore
import ClusterSyncServer
import Testing

/// A pushed change supersedes another replica's changes only when the server has been given
/// them (`SupersessionReach`, PROTOCOL.md §6 step 10), on every store. Before, a practice could
/// name the lead's next change (`6@lead` when the lead had synced 5) and so cancel the lead's
/// escalation before it was made: the store kept the supersession as an orphan and stored the
/// lead's change already superseded when it came (a security review, forty-sixth session).
@Suite struct SupersessionReachStoreTests {
    static let lead = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn", role: .clusterLead)
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let leadReplica = ReplicaID("00000000000000f1")!, rhylReplica = ReplicaID("00000000000000f2")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let risk = RecordID("RSK-7K3M9Q2X1F")!

    static func write(_ replica: ReplicaID, _ n: Int64, _ field: String, _ value: String, supersedes: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n * 10),
               record: risk, scope: shared, field: field, value: .string(value), supersedes: supersedes)
    }

    /// The lead's risk at `cluster`, its title and escalation the lead's first two changes.
    func store(_ kind: StoreBackend) async throws -> any ServerStore {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        for (replica, identity) in [(Self.leadReplica, Self.lead), (Self.rhylReplica, Self.rhyl)] {
            _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: replica, session: identity, person: nil)
        }
        let made = [Self.write(Self.leadReplica, 1, "title", "Locum cover for winter"), Self.write(Self.leadReplica, 2, "escalation", "cluster")]
        #expect(try await store.push(made, as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 2, duplicates: 0))
        return store
    }

    @Test(arguments: StoreBackend.available) func aChangeTheLeadHasNotMadeYetCannotBeSuperseded(kind: StoreBackend) async throws {
        let store = try await store(kind)
        let preemptive = Self.write(Self.rhylReplica, 1, "escalation", "cluster", supersedes: [ChangeID(replica: Self.leadReplica, counter: 3)])
        let refused = await #expect(throws: PushRejection.self) {
            try await store.push([preemptive], as: Self.rhyl, from: Self.rhylReplica)
        }
        #expect(refused?.change == preemptive.id && refused?.error.code == .supersedesUnsynced, "\(String(describing: refused))")
        #expect(refused?.error.message.contains("which this server has not been given") == true, "\(String(describing: refused))")
        // The lead escalates: stored live, so withdrawing it is still the lead's.
        let escalation = Self.write(Self.leadReplica, 3, "escalation", "pcpg", supersedes: [ChangeID(replica: Self.leadReplica, counter: 2)])
        #expect(try await store.push([escalation], as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 1, duplicates: 0))
        let withdrawal = Self.write(Self.rhylReplica, 1, "escalation", "cluster", supersedes: [escalation.id])
        let leadOnly = await #expect(throws: PushRejection.self) {
            try await store.push([withdrawal], as: Self.rhyl, from: Self.rhylReplica)
        }
        #expect(leadOnly?.error.code == .leadOnly, "\(String(describing: leadOnly))")
    }

    /// What an honest client writes is taken: a write over a change the server holds, over one
    /// given earlier in the same push (a relay of the lead's change), and over its own replica's
    /// change not pushed yet (its own later edit supersedes it; the store keeps that as before).
    @Test(arguments: StoreBackend.available) func changesTheServerHoldsOrIsGivenInThePushMayBeSuperseded(kind: StoreBackend) async throws {
        let store = try await store(kind)
        let overStored = Self.write(Self.rhylReplica, 1, "title", "Locum cover, winter", supersedes: [ChangeID(replica: Self.leadReplica, counter: 1)])
        #expect(try await store.push([overStored], as: Self.rhyl, from: Self.rhylReplica) == PushOutcome(accepted: 1, duplicates: 0))
        let relayed = Self.write(Self.leadReplica, 3, "title", "Locum cover, winter 2026", supersedes: [overStored.id])
        let overRelayed = Self.write(Self.rhylReplica, 2, "title", "Locum cover, winter 2026-27", supersedes: [relayed.id])
        #expect(try await store.push([relayed, overRelayed], as: Self.rhyl, from: Self.rhylReplica) == PushOutcome(accepted: 2, duplicates: 0))
        let overOwnUnpushed = Self.write(Self.rhylReplica, 4, "title", "Winter locums", supersedes: [ChangeID(replica: Self.rhylReplica, counter: 3)])
        #expect(try await store.push([overOwnUnpushed], as: Self.rhyl, from: Self.rhylReplica) == PushOutcome(accepted: 1, duplicates: 0))
        // A gap below the lead's latest (its change 4, never given to the server): refused too.
        let lead5 = Self.write(Self.leadReplica, 5, "owner", "Cluster lead")
        #expect(try await store.push([lead5], as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 1, duplicates: 0))
        let gap = await #expect(throws: PushRejection.self) {
            try await store.push([Self.write(Self.rhylReplica, 5, "title", "Winter cover", supersedes: [ChangeID(replica: Self.leadReplica, counter: 4)])],
                                 as: Self.rhyl, from: Self.rhylReplica)
        }
        #expect(gap?.error.code == .supersedesUnsynced, "\(String(describing: gap))")
        // Past the latest of the lead's by one: refused, and the refusal stores nothing of its push.
        let ahead = Self.write(Self.rhylReplica, 6, "title", "Winter", supersedes: [ChangeID(replica: Self.leadReplica, counter: 6)])
        let refused = await #expect(throws: PushRejection.self) {
            try await store.push([Self.write(Self.rhylReplica, 5, "owner", "Cluster lead"), ahead], as: Self.rhyl, from: Self.rhylReplica)
        }
        #expect(refused?.change == ahead.id && refused?.error.code == .supersedesUnsynced, "\(String(describing: refused))")
    }
}
