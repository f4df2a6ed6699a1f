import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// Settling a conflict over another practice's value is the lead's (`LeadPowers`), however a
/// client writes it to the wire: on every store, a change that supersedes only the other
/// practice's value while its maker's own write stays live is refused, since its second step
/// (superseding its maker's two values) would otherwise settle the conflict without the lead.
@Suite struct ConflictSettlementStoreTests {
    static let lead = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn", role: .clusterLead)
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let leadReplica = ReplicaID("00000000000000e1")!
    static let rhylLaptop = ReplicaID("00000000000000e2")!, rhylDesk = ReplicaID("00000000000000e3")!
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let risk = RecordID("RSK-7K3M9Q2X1E")!

    static func title(_ replica: ReplicaID, _ n: Int64, _ value: String, supersedes: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n * 10),
               record: risk, scope: shared, field: "title", value: .string(value), supersedes: supersedes)
    }

    /// A store where the lead's replica and Rhyl's laptop each wrote the risk's title without
    /// seeing the other's: a conflict, one of whose values is another practice's to Rhyl.
    func storeInConflict(_ kind: StoreBackend) async throws -> (any ServerStore, prestatyn: Change, rhyl: Change) {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        for (replica, identity) in [(Self.leadReplica, Self.lead), (Self.rhylLaptop, Self.rhyl), (Self.rhylDesk, Self.rhyl)] {
            _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: replica, session: identity, person: nil)
        }
        let prestatyn = Self.title(Self.leadReplica, 1, "Out-of-hours cover")
        let rhyl = Self.title(Self.rhylLaptop, 1, "Out of hours cover gaps")
        #expect(try await store.push([prestatyn], as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.push([rhyl], as: Self.rhyl, from: Self.rhylLaptop) == PushOutcome(accepted: 1, duplicates: 0))
        return (store, prestatyn, rhyl)
    }

    func expectRefused(_ changes: [Change], _ refusedChange: ChangeID, from replica: ReplicaID, on store: any ServerStore) async {
        let refused = await #expect(throws: PushRejection.self) {
            try await store.push(changes, as: Self.rhyl, from: replica)
        }
        #expect(refused?.change == refusedChange && refused?.error.code == .leadOnly, "\(String(describing: refused))")
        #expect(refused?.error.message.contains("resolving a conflict with another practice's value") == true)
    }

    @Test(arguments: StoreBackend.available) func pickingAnotherPracticesValueOutOfAConflictIsTheLeads(kind: StoreBackend) async throws {
        let (store, prestatyn, rhyl) = try await storeInConflict(kind)
        // Both values at once: the conflict settled in one change, refused as before.
        await expectRefused([Self.title(Self.rhylLaptop, 2, "Rhyl's", supersedes: [prestatyn.id, rhyl.id])], ChangeID(replica: Self.rhylLaptop, counter: 2),
                            from: Self.rhylLaptop, on: store)
        // The first of two steps: Prestatyn's value only, Rhyl's own left live beside it.
        let firstStep = Self.title(Self.rhylLaptop, 2, "Rhyl's", supersedes: [prestatyn.id])
        let secondStep = Self.title(Self.rhylLaptop, 3, "Rhyl's", supersedes: [rhyl.id, firstStep.id])
        await expectRefused([firstStep, secondStep], firstStep.id, from: Self.rhylLaptop, on: store)
        await expectRefused([firstStep], firstStep.id, from: Self.rhylLaptop, on: store)
        // Rhyl's own value superseded first, by its own write, and that one left live: the same.
        let ownFirst = Self.title(Self.rhylLaptop, 2, "Rhyl's draft", supersedes: [rhyl.id])
        await expectRefused([ownFirst, Self.title(Self.rhylLaptop, 3, "Rhyl's", supersedes: [prestatyn.id])], ChangeID(replica: Self.rhylLaptop, counter: 3),
                            from: Self.rhylLaptop, on: store)
        // The lead may, in either form.
        #expect(try await store.push([Self.title(Self.leadReplica, 2, "Out-of-hours cover", supersedes: [rhyl.id])], as: Self.lead, from: Self.leadReplica)
            == PushOutcome(accepted: 1, duplicates: 0))
    }

    /// What an honest replica writes is never refused: a write over another practice's value made
    /// by a replica with no write of its own live there (Rhyl's desk, which had not seen the
    /// laptop's), and a write over its own value only.
    @Test(arguments: StoreBackend.available) func editsThatSettleNoConflictTheyHoldStayEveryPractices(kind: StoreBackend) async throws {
        let (store, prestatyn, rhyl) = try await storeInConflict(kind)
        #expect(try await store.push([Self.title(Self.rhylLaptop, 2, "Out of hours cover gaps (Rhyl)", supersedes: [rhyl.id])],
                                     as: Self.rhyl, from: Self.rhylLaptop) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.push([Self.title(Self.rhylDesk, 1, "Out-of-hours cover, winter", supersedes: [prestatyn.id])],
                                     as: Self.rhyl, from: Self.rhylDesk) == PushOutcome(accepted: 1, duplicates: 0))
    }

    /// The CLI audit's case: Rhyl's edit over the conflict was held back for the lead, the lead
    /// settled it meanwhile, and Rhyl's replica shows its held-back value against the lead's.
    /// Giving way (the lead's value, over both) overrides nobody; a value of its own over both
    /// is still the lead's; and an edit over the two values that then agree is an ordinary edit.
    @Test(arguments: StoreBackend.available) func aPracticeGivesWayToTheLeadsSettlement(kind: StoreBackend) async throws {
        let (store, prestatyn, rhyl) = try await storeInConflict(kind)
        let heldBack = Self.title(Self.rhylLaptop, 2, "Rhyl's", supersedes: [prestatyn.id, rhyl.id])
        await expectRefused([heldBack], heldBack.id, from: Self.rhylLaptop, on: store)
        let settled = Self.title(Self.leadReplica, 2, "Out-of-hours cover", supersedes: [prestatyn.id, rhyl.id])
        #expect(try await store.push([settled], as: Self.lead, from: Self.leadReplica) == PushOutcome(accepted: 1, duplicates: 0))
        await expectRefused([Self.title(Self.rhylLaptop, 3, "Rhyl's again", supersedes: [heldBack.id, settled.id])],
                            ChangeID(replica: Self.rhylLaptop, counter: 3), from: Self.rhylLaptop, on: store)
        let givesWay = Self.title(Self.rhylLaptop, 3, "Out-of-hours cover", supersedes: [heldBack.id, settled.id])
        #expect(try await store.push([givesWay], as: Self.rhyl, from: Self.rhylLaptop) == PushOutcome(accepted: 1, duplicates: 0))
        // The lead's and Rhyl's writes agree: no conflict, and writing over both is everyone's.
        let later = Self.title(Self.rhylLaptop, 4, "Out-of-hours cover, winter", supersedes: [settled.id, givesWay.id])
        #expect(try await store.push([later], as: Self.rhyl, from: Self.rhylLaptop) == PushOutcome(accepted: 1, duplicates: 0))
    }

    /// A resend of changes the store already holds (an ack lost, a second laptop relaying after
    /// a merge) is a duplicate, never refused: the check is for changes new to the store. A write
    /// over Prestatyn's value, then the maker's own write over that one, both stored; the first
    /// resent meets the second live and would look like the first step of a settlement.
    @Test(arguments: StoreBackend.available) func aResendOfStoredChangesIsADuplicateNeverRefused(kind: StoreBackend) async throws {
        let (store, prestatyn, _) = try await storeInConflict(kind)
        let over = Self.title(Self.rhylDesk, 1, "Desk's", supersedes: [prestatyn.id])
        let again = Self.title(Self.rhylDesk, 2, "Desk's, again", supersedes: [over.id])
        #expect(try await store.push([over, again], as: Self.rhyl, from: Self.rhylDesk) == PushOutcome(accepted: 2, duplicates: 0))
        #expect(try await store.push([over, again], as: Self.rhyl, from: Self.rhylDesk).duplicates == 2)
        #expect(try await store.push([over], as: Self.rhyl, from: Self.rhylLaptop).duplicates == 1)
    }

    /// Within one push: a write of the maker made earlier in it counts as live, and one an earlier
    /// change of the push superseded does not.
    @Test(arguments: StoreBackend.available) func theChangesEarlierInAPushCount(kind: StoreBackend) async throws {
        let (store, prestatyn, rhyl) = try await storeInConflict(kind)
        let desk = Self.title(Self.rhylDesk, 1, "Desk's draft")
        await expectRefused([desk, Self.title(Self.rhylDesk, 2, "Desk's", supersedes: [prestatyn.id])], ChangeID(replica: Self.rhylDesk, counter: 2),
                            from: Self.rhylDesk, on: store)
        // The laptop's own value superseded by the desk's change relayed first: nothing of the
        // laptop's is left live, so its write over Prestatyn's is an ordinary edit.
        let relayed = Self.title(Self.rhylDesk, 1, "Desk's", supersedes: [rhyl.id])
        #expect(try await store.push([relayed, Self.title(Self.rhylLaptop, 2, "Laptop's", supersedes: [prestatyn.id])], as: Self.rhyl, from: Self.rhylLaptop)
            == PushOutcome(accepted: 2, duplicates: 0))
    }
}
