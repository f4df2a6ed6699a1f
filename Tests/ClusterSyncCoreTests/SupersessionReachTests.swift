import ClusterSyncCore
import Testing

/// The rule itself, without a store: another replica's changes may be superseded, or seen by a
/// delete, only when the store holds them or accepted them earlier in the push; a replica's own,
/// always.
@Suite struct SupersessionReachTests {
    static let lead = ReplicaID("00000000000000a1")!, rhyl = ReplicaID("00000000000000a2")!, nia = ReplicaID("00000000000000a3")!

    static func change(_ replica: ReplicaID, _ counter: Int64, supersedes: [ChangeID] = [], seen: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_700_000_000_000), record: RecordID("RSK-7K3M9Q2X1G")!,
               scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "title", value: .string("Locums"), supersedes: supersedes, seen: seen)
    }

    static func id(_ replica: ReplicaID, _ counter: Int64) -> ChangeID { ChangeID(replica: replica, counter: counter) }

    @Test func anotherReplicasChangeIsSupersededOnlyWhenHeld() throws {
        let overHeld = Self.change(Self.rhyl, 1, supersedes: [Self.id(Self.lead, 2), Self.id(Self.rhyl, 9)])
        let overNext = Self.change(Self.rhyl, 2, supersedes: [Self.id(Self.lead, 4)])
        // A gap below the lead's latest (its change 3 held back at the lead) is no more reachable.
        let overGap = Self.change(Self.rhyl, 3, supersedes: [Self.id(Self.lead, 3)])
        let seenAhead = Self.change(Self.rhyl, 4, seen: [Self.id(Self.nia, 1)])
        #expect(SupersessionReach.idsToRead([overHeld, overNext, overGap, seenAhead])
                == [Self.id(Self.lead, 2), Self.id(Self.lead, 4), Self.id(Self.lead, 3), Self.id(Self.nia, 1)])
        var reach = SupersessionReach(held: [Self.id(Self.lead, 2), Self.id(Self.lead, 5)])
        try reach.check(overHeld)
        let refused = #expect(throws: ClusterSyncError.self) { try reach.check(overNext) }
        #expect(refused?.code == .supersedesUnsynced && refused?.message.contains("supersedes 4@\(Self.lead)") == true, "\(String(describing: refused))")
        #expect(throws: ClusterSyncError.self) { try reach.check(overGap) }
        let unseen = #expect(throws: ClusterSyncError.self) { try reach.check(seenAhead) }
        #expect(unseen?.message.contains("has seen 1@\(Self.nia)") == true, "\(String(describing: unseen))")
        // The lead's fourth change accepted earlier in the push (a relay): now within reach.
        reach.admit(Self.change(Self.lead, 4))
        try reach.check(overNext)
    }
}
