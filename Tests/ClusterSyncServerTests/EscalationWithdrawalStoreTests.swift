import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// Withdrawing a risk's escalation beyond the cluster is the lead's (`LeadPowers`), on every
/// store: each looks up the level the change supersedes.
@Suite struct EscalationWithdrawalStoreTests {
    static let lead = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn", role: .clusterLead)
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let leadReplica = ReplicaID("00000000000000d1")!, rhylReplica = ReplicaID("00000000000000d2")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let risk = RecordID("RSK-7K3M9Q2X1C")!

    static func change(_ replica: ReplicaID, _ n: Int64, _ field: String, _ value: String, supersedes: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n * 10 + (replica == leadReplica ? 0 : 1)),
               record: risk, scope: shared, field: field, value: .string(value), supersedes: supersedes)
    }

    @Test(arguments: StoreBackend.available) func onlyTheLeadWithdrawsAnEscalation(kind: StoreBackend) async throws {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.leadReplica, session: Self.lead, person: nil)
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: Self.rhylReplica, session: Self.rhyl, person: nil)

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
