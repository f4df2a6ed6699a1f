import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// Withdrawing a risk's escalation beyond the cluster, or taking an action off such a risk, is
/// the lead's (`LeadPowers`), on every store: each looks up the level the change supersedes,
/// or the escalation of the risk the action leaves.
@Suite struct EscalationWithdrawalStoreTests {
    static let lead = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn", role: .clusterLead)
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let leadReplica = ReplicaID("00000000000000d1")!, rhylReplica = ReplicaID("00000000000000d2")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let risk = RecordID("RSK-7K3M9Q2X1C")!

    static let action = RecordID("ACT-7K3M9Q2X1C")!, otherRisk = RecordID("RSK-8K3M9Q2X1C")!

    static func change(_ replica: ReplicaID, _ n: Int64, _ field: String, _ value: String?, on record: RecordID = risk,
                       supersedes: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n * 10 + (replica == leadReplica ? 0 : 1)),
               record: record, scope: shared, field: field, value: value.map(JSONValue.string), supersedes: supersedes)
    }

    func makeStore(_ kind: StoreBackend) async throws -> any ServerStore {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.leadReplica, session: Self.lead, person: nil)
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.rhylReplica, session: Self.rhyl, person: nil)
        return store
    }

    /// Taking an action off a risk escalated beyond the cluster takes it from the PCPG's view:
    /// the lead's, whether by the risk's linked actions or the action's source.
    @Test(arguments: StoreBackend.available) func onlyTheLeadTakesAnActionOffAnEscalatedRisk(kind: StoreBackend) async throws {
        let store = try await makeStore(kind)
        let linked = Self.change(Self.leadReplica, 2, "linked_actions", Self.action.rawValue)
        let source = Self.change(Self.leadReplica, 4, "source", Self.risk.rawValue, on: Self.action)
        #expect(try await store.push([
            Self.change(Self.leadReplica, 1, "title", "Out-of-hours cover"), linked,
            Self.change(Self.leadReplica, 3, "title", "Recruit a locum", on: Self.action), source,
            Self.change(Self.leadReplica, 5, "escalation", "pcpg"),
            Self.change(Self.leadReplica, 6, "title", "Estates", on: Self.otherRisk),
        ], as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 6, duplicates: 0))

        let unlink = Self.change(Self.rhylReplica, 1, "linked_actions", nil, supersedes: [linked.id])
        let moved = Self.change(Self.rhylReplica, 2, "source", Self.otherRisk.rawValue, on: Self.action, supersedes: [source.id])
        for refusedChange in [unlink, moved] {
            let refused = await #expect(throws: PushRejection.self) {
                try await store.push([refusedChange], as: Self.rhyl, from: Self.rhylReplica)
            }
            #expect(refused?.change == refusedChange.id && refused?.error.code == .leadOnly, "\(String(describing: refused))")
            #expect(refused?.error.message.contains("taking an action off a risk escalated beyond the cluster") == true)
        }
        // The risk it moves to is not escalated: moving it back is anyone's, as is the lead's own move.
        #expect(try await store.push([Self.change(Self.leadReplica, 7, "source", Self.otherRisk.rawValue, on: Self.action, supersedes: [source.id])],
                                     as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.push([Self.change(Self.rhylReplica, 3, "source", Self.risk.rawValue, on: Self.action,
                                                  supersedes: [ChangeID(replica: Self.leadReplica, counter: 7)])],
                                     as: Self.rhyl, from: Self.rhylReplica) == PushOutcome(accepted: 1, duplicates: 0))
    }

    @Test(arguments: StoreBackend.available) func onlyTheLeadWithdrawsAnEscalation(kind: StoreBackend) async throws {
        let store = try await makeStore(kind)

        let escalated = Self.change(Self.leadReplica, 2, "escalation", "pcpg")
        #expect(try await store.push([Self.change(Self.leadReplica, 1, "title", "Out-of-hours cover"), escalated],
                                     as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 2, duplicates: 0))
        // A practice's write over the PCPG level would take the risk from the PCPG's view.
        let withdrawal = Self.change(Self.rhylReplica, 1, "escalation", "cluster", supersedes: [escalated.id])
        let refused = await #expect(throws: PushRejection.self) {
            try await store.push([Self.change(Self.rhylReplica, 2, "owner", "Rhyl"), withdrawal], as: Self.rhyl, from: Self.rhylReplica)
        }
        #expect(refused?.change == withdrawal.id && refused?.error.code == .leadOnly, "\(String(describing: refused))")
        #expect(refused?.error.message.contains("withdrawing a risk's escalation beyond the cluster") == true)
        // Made without seeing the PCPG level, it supersedes nothing: kept beside it as a conflict.
        #expect(try await store.push([Self.change(Self.rhylReplica, 1, "escalation", "cluster")], as: Self.rhyl, from: Self.rhylReplica)
            == PushOutcome(accepted: 1, duplicates: 0))
        // The lead may raise the level and withdraw it again in one push (a practice could not push
        // the first of these at all: escalating is the lead's too).
        let again = Self.change(Self.leadReplica, 3, "escalation", "health-board", supersedes: [escalated.id])
        #expect(try await store.push([again, Self.change(Self.leadReplica, 4, "escalation", "cluster", supersedes: [again.id])],
                                     as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 2, duplicates: 0))
    }
}
