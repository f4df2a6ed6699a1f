import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// One field of one record holds at most `FieldGrowth.maxLiveWrites` live writes, on every store:
/// a practice cannot grow a record that PCPG and Health Board replicas must carry without end.
@Suite struct FieldGrowthStoreTests {
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let replica = ReplicaID("00000000000000f1")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let risk = RecordID("RSK-7K3M9Q2X1G")!, decision = RecordID("DEC-7K3M9Q2X1G")!
    static let limit = FieldGrowth.maxLiveWrites

    static func change(_ n: Int, _ field: String, _ value: String?, on record: RecordID = risk, supersedes: [Int] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: Int64(n)), hlc: HLCTimestamp(millis: 1_700_000_000_000 + Int64(n)),
               record: record, scope: shared, field: field, value: value.map(JSONValue.string),
               supersedes: supersedes.map { ChangeID(replica: replica, counter: Int64($0)) })
    }

    func makeStore(_ kind: StoreBackend) async throws -> any ServerStore {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.replica, session: Self.rhyl, person: nil)
        return store
    }

    func expectRefused(_ changes: [Change], _ refused: Int, field: String, on store: any ServerStore,
                       saying words: String = "the most one field may hold (\(Self.limit))") async {
        let rejection = await #expect(throws: PushRejection.self) {
            try await store.push(changes, as: Self.rhyl, from: Self.replica)
        }
        #expect(rejection?.change == ChangeID(replica: Self.replica, counter: Int64(refused)) && rejection?.error.code == .invalidValue,
                "\(String(describing: rejection))")
        #expect(rejection?.error.field == field)
        #expect(rejection?.error.message.contains(words) == true, "\(String(describing: rejection))")
    }

    @Test(arguments: StoreBackend.available) func aFullSetTakesNoNewMember(kind: StoreBackend) async throws {
        let store = try await makeStore(kind)
        let members = (1...Self.limit).map { Self.change($0, "tags", "tag \($0)") }
        #expect(try await store.push([Self.change(5_000, "title", "Out-of-hours cover")] + members, as: Self.rhyl, from: Self.replica)
            == PushOutcome(accepted: Self.limit + 1, duplicates: 0))
        let extra = Self.change(5_001, "tags", "one too many")
        await expectRefused([Self.change(5_002, "owner", "Rhyl"), extra], 5_001, field: "tags", on: store)

        // A member removed earlier in the same push makes room; a member stored already is a
        // duplicate, whatever the count; another field of the record is not counted with it.
        #expect(try await store.push([Self.change(5_001, "tags", nil, supersedes: [1]), Self.change(5_002, "tags", "winter")],
                                     as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: 2, duplicates: 0))
        #expect(try await store.push([members[1]], as: Self.rhyl, from: Self.replica).duplicates == 1)
        #expect(try await store.push([Self.change(5_003, "owner", "Rhyl")], as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: 1, duplicates: 0))
        // Full again: a second add in one push is refused, the first taken.
        await expectRefused([Self.change(5_004, "tags", nil, supersedes: [2]), Self.change(5_005, "tags", "spring"),
                             Self.change(5_006, "tags", "summer")], 5_006, field: "tags", on: store)
        // A member's add naming a write it does not replace is still an add.
        await expectRefused([Self.change(5_004, "tags", "autumn", supersedes: [99_999])], 5_004, field: "tags", on: store)
    }

    /// One record is the source of at most `FieldGrowth.maxActionsPerSource` actions: a risk's
    /// go with it to the PCPG and the Health Board once it is escalated.
    @Test(arguments: StoreBackend.available) func aRiskIsTheSourceOfBoundedlyManyActions(kind: StoreBackend) async throws {
        let store = try await makeStore(kind)
        let actions = (1...FieldGrowth.maxActionsPerSource).map { _ in RecordID.random(for: .action) }
        let named = actions.enumerated().map { Self.change($0.offset + 1, "source", Self.risk.rawValue, on: $0.element) }
        #expect(try await store.push([Self.change(5_000, "title", "Out-of-hours cover")] + named.prefix(600), as: Self.rhyl, from: Self.replica)
            == PushOutcome(accepted: 601, duplicates: 0))
        #expect(try await store.push(Array(named.dropFirst(600)), as: Self.rhyl, from: Self.replica)
            == PushOutcome(accepted: FieldGrowth.maxActionsPerSource - 600, duplicates: 0))
        let another = RecordID.random(for: .action)
        await expectRefused([Self.change(5_001, "title", "Recruit a locum", on: another), Self.change(5_002, "source", Self.risk.rawValue, on: another)],
                            5_002, field: "source", on: store, saying: "the most one record may be the source of (\(FieldGrowth.maxActionsPerSource))")
        // An action naming it already may name it again; another source is another count.
        #expect(try await store.push([Self.change(5_001, "source", Self.risk.rawValue, on: actions[0], supersedes: [1]),
                                      Self.change(5_002, "source", Self.decision.rawValue, on: another)],
                                     as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: 2, duplicates: 0))
    }

    /// An action whose source is in conflict names both sources, and counts towards each, on
    /// every store (PostgreSQL counted only the value shown until the forty-second session).
    @Test(arguments: StoreBackend.available) func anActionWhoseSourceIsInConflictCountsForBoth(kind: StoreBackend) async throws {
        let store = try await makeStore(kind)
        let actions = (1..<FieldGrowth.maxActionsPerSource).map { _ in RecordID.random(for: .action) }
        let named = actions.enumerated().map { Self.change($0.offset + 1, "source", Self.risk.rawValue, on: $0.element) }
        let torn = RecordID.random(for: .action)
        // Two live writes of its source, neither replacing the other: the later (the decision)
        // is the one shown, the risk the one in conflict with it.
        let conflict = [Self.change(4_001, "source", Self.risk.rawValue, on: torn), Self.change(4_002, "source", Self.decision.rawValue, on: torn)]
        #expect(try await store.push([Self.change(5_000, "title", "Out-of-hours cover")] + named + conflict, as: Self.rhyl, from: Self.replica)
            == PushOutcome(accepted: FieldGrowth.maxActionsPerSource + 2, duplicates: 0))
        let another = RecordID.random(for: .action)
        await expectRefused([Self.change(5_002, "source", Self.risk.rawValue, on: another)],
                            5_002, field: "source", on: store, saying: "the most one record may be the source of (\(FieldGrowth.maxActionsPerSource))")
        // Settled to the decision, the risk has room for one more.
        #expect(try await store.push([Self.change(5_003, "source", Self.decision.rawValue, on: torn, supersedes: [4_001, 4_002])],
                                     as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.push([Self.change(5_004, "source", Self.risk.rawValue, on: another)],
                                     as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: 1, duplicates: 0))
    }

    /// A map's entries count together: a decision takes no vote under a new name once it holds
    /// as many as a field may, and a member's vote can still be changed.
    @Test(arguments: StoreBackend.available) func aMapsEntriesCountTogether(kind: StoreBackend) async throws {
        let store = try await makeStore(kind)
        let votes = (1...Self.limit).map { Self.change($0, "votes:Member \($0)", "for", on: Self.decision) }
        #expect(try await store.push(votes, as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: Self.limit, duplicates: 0))
        await expectRefused([Self.change(5_000, "votes:Member 0", "against", on: Self.decision)], 5_000, field: "votes:Member 0", on: store)
        #expect(try await store.push([Self.change(5_000, "votes:Member 1", "against", on: Self.decision, supersedes: [1])],
                                     as: Self.rhyl, from: Self.replica) == PushOutcome(accepted: 1, duplicates: 0))
        // A new entry naming another entry's write replaces nothing (the store kills writes of a
        // change's own field only): still refused.
        await expectRefused([Self.change(5_001, "votes:Member 0", "against", on: Self.decision, supersedes: [2])], 5_001,
                            field: "votes:Member 0", on: store)
    }
}
