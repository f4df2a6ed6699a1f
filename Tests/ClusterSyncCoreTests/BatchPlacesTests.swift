import ClusterSyncCore
import Testing

/// `BatchPlaces` answers as a dictionary from each id to its first place in the batch would, for
/// runs of counters (stretches), scattered counters (the dictionary), copies of one id, ids not
/// in the batch, and counters at the ends of their range.
struct BatchPlacesTests {
    static func change(_ replica: ReplicaID, _ counter: Int64) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_700_000_000_000, logical: 0),
               record: Fixtures.risk, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title", value: .string("t"))
    }

    static func expected(_ batch: [Change]) -> [ChangeID: Int] {
        var first: [ChangeID: Int] = [:]
        for (index, change) in batch.enumerated() where first[change.id] == nil { first[change.id] = index }
        return first
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomBatchesAgreeWithADictionary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // a: a run; b: a run with gaps; c: scattered across the range.
        var batch: [Change] = []
        for counter in 1...300 { batch.append(Self.change(Fixtures.a, Int64(counter))) }
        for _ in 0..<200 { batch.append(Self.change(Fixtures.b, Int64.random(in: 1_000...1_600, using: &random))) }
        for _ in 0..<50 { batch.append(Self.change(Fixtures.c, Int64.random(in: 1...Int64.max, using: &random))) }
        // Copies of ids already in the batch, later in it.
        for _ in 0..<100 { batch.append(batch[Int.random(in: 0..<batch.count, using: &random)]) }
        batch.shuffle(using: &random)
        let places = BatchPlaces(batch)
        let expected = Self.expected(batch)
        for (id, place) in expected { #expect(places.place(of: id) == place, "\(id)") }
        // Ids not in the batch: neighbours of those in it, the range's ends, another replica.
        for change in batch {
            for counter in [change.id.counter &- 1, change.id.counter &+ 1] where counter >= 1 {
                let id = ChangeID(replica: change.id.replica, counter: counter)
                #expect(places.place(of: id) == expected[id], "\(id)")
            }
        }
        for counter in [1, Int64.max, 0, -1, Int64.min] {
            for replica in [Fixtures.a, Fixtures.b, Fixtures.c, ReplicaID(bits: 42)] {
                let id = ChangeID(replica: replica, counter: counter)
                #expect(places.place(of: id) == expected[id], "\(id)")
            }
        }
    }

    @Test func aReplicaAtBothEndsOfTheCounterRangeIsFoundWithoutAnArrayThatLong() {
        // One change at each end of a replica's range: a stretch between them would not fit in memory.
        let batch = [Self.change(Fixtures.a, 1), Self.change(Fixtures.a, Int64.max), Self.change(Fixtures.b, 7)]
        let places = BatchPlaces(batch)
        #expect(places.place(of: batch[0].id) == 0)
        #expect(places.place(of: batch[1].id) == 1)
        #expect(places.place(of: batch[2].id) == 2)
        #expect(places.place(of: ChangeID(replica: Fixtures.b, counter: 8)) == nil)
        #expect(BatchPlaces([]).place(of: batch[0].id) == nil)
    }
}
