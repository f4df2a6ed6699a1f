import ClusterSyncCore
import Testing

/// The rule itself, without a store: another replica's changes may be superseded up to the latest
/// the store holds of that replica, or accepted earlier in the push; a replica's own, always.
@Suite struct SupersessionReachTests {
    static let lead = ReplicaID("00000000000000a1")!, rhyl = ReplicaID("00000000000000a2")!, nia = ReplicaID("00000000000000a3")!

    static func change(_ replica: ReplicaID, _ counter: Int64, supersedes: [ChangeID]) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_700_000_000_000), record: RecordID("RSK-7K3M9Q2X1G")!,
               scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "title", value: .string("Locums"), supersedes: supersedes)
    }

    @Test func anotherReplicasChangeIsSupersededOnlyUpToTheLatestHeld() throws {
        let overSecond = Self.change(Self.rhyl, 1, supersedes: [ChangeID(replica: Self.lead, counter: 2), ChangeID(replica: Self.rhyl, counter: 9)])
        let overThird = Self.change(Self.rhyl, 2, supersedes: [ChangeID(replica: Self.lead, counter: 3)])
        let overUnknown = Self.change(Self.rhyl, 3, supersedes: [ChangeID(replica: Self.nia, counter: 1)])
        #expect(SupersessionReach.replicasToRead([overSecond, overThird, overUnknown]) == [Self.lead, Self.nia])
        var reach = SupersessionReach(highestStored: [Self.lead: 2])
        try reach.check(overSecond)
        let refused = #expect(throws: ClusterSyncError.self) { try reach.check(overThird) }
        #expect(refused?.code == .supersedesUnsynced && refused?.message.contains("3@\(Self.lead)") == true, "\(String(describing: refused))")
        #expect(throws: ClusterSyncError.self) { try reach.check(overUnknown) }
        // The lead's third change accepted earlier in the push (a relay): now within reach.
        reach.admit(Self.change(Self.lead, 3, supersedes: []))
        try reach.check(overThird)
        // Earlier in the push, not later: admitting a lower counter takes nothing back.
        reach.admit(Self.change(Self.lead, 1, supersedes: []))
        try reach.check(overThird)
    }
}
