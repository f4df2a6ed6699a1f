import ClusterSyncCore
import Testing

@Suite struct HybridLogicalClockTests {
    // MARK: Ticking

    @Test func tickTakesTheWallClockWhenItIsAhead() {
        var clock = HybridLogicalClock()
        #expect(clock.tick(wallMillis: 1_000) == HLCTimestamp(millis: 1_000, logical: 0))
        #expect(clock.tick(wallMillis: 2_500) == HLCTimestamp(millis: 2_500, logical: 0))
        #expect(clock.last == HLCTimestamp(millis: 2_500, logical: 0))
    }

    @Test func tickCountsEventsWithinOneMillisecond() {
        var clock = HybridLogicalClock()
        #expect(clock.tick(wallMillis: 1_000) == HLCTimestamp(millis: 1_000, logical: 0))
        #expect(clock.tick(wallMillis: 1_000) == HLCTimestamp(millis: 1_000, logical: 1))
        #expect(clock.tick(wallMillis: 1_000) == HLCTimestamp(millis: 1_000, logical: 2))
        // The logical counter starts again when the wall clock moves on.
        #expect(clock.tick(wallMillis: 1_001) == HLCTimestamp(millis: 1_001, logical: 0))
    }

    @Test func tickKeepsCountingWhileTheWallClockStandsBehind() {
        var clock = HybridLogicalClock(last: HLCTimestamp(millis: 5_000, logical: 3))
        #expect(clock.tick(wallMillis: 4_000) == HLCTimestamp(millis: 5_000, logical: 4))
        #expect(clock.tick(wallMillis: 0) == HLCTimestamp(millis: 5_000, logical: 5))
    }

    @Test func logicalOverflowCarriesIntoTheMilliseconds() {
        var clock = HybridLogicalClock(last: HLCTimestamp(millis: 5_000, logical: .max))
        let next = clock.tick(wallMillis: 5_000)
        #expect(next == HLCTimestamp(millis: 5_001, logical: 0))
        #expect(next > HLCTimestamp(millis: 5_000, logical: .max))
    }

    @Test func ticksStrictlyIncreaseWhateverTheWallClockDoes() {
        var clock = HybridLogicalClock()
        // Forwards, standing still, a big step back (a laptop's clock corrected), forwards again.
        let walls: [Int64] = [10, 10, 11, 11, 11, 500, 499, 3, 3, 501, 501, 10_000, 9_000, 10_001]
        var previous = HLCTimestamp.zero
        for wall in walls {
            let t = clock.tick(wallMillis: wall)
            #expect(t > previous, "tick at wall \(wall) gave \(t.text), not after \(previous.text)")
            #expect(t.millis >= wall, "a tick never stands behind the wall clock")
            previous = t
        }
        #expect(previous == HLCTimestamp(millis: 10_001, logical: 0))
    }

    // MARK: Observing remote timestamps

    @Test func observingALaterRemoteTimestampMovesTheClockPastIt() {
        var clock = HybridLogicalClock()
        _ = clock.tick(wallMillis: 1_000)
        let remote = HLCTimestamp(millis: 9_000, logical: 7)
        clock.observe(remote)
        #expect(clock.last == remote)
        // The next local event sorts after the remote one even though the wall clock is behind.
        #expect(clock.tick(wallMillis: 1_001) == HLCTimestamp(millis: 9_000, logical: 8))
        #expect(clock.tick(wallMillis: 9_500) == HLCTimestamp(millis: 9_500, logical: 0))
    }

    @Test func observingAnEarlierRemoteTimestampChangesNothing() {
        var clock = HybridLogicalClock(last: HLCTimestamp(millis: 5_000, logical: 2))
        clock.observe(HLCTimestamp(millis: 4_999, logical: 900))
        clock.observe(HLCTimestamp(millis: 5_000, logical: 1))
        #expect(clock.last == HLCTimestamp(millis: 5_000, logical: 2))
        #expect(clock.tick(wallMillis: 5_000) == HLCTimestamp(millis: 5_000, logical: 3))
    }

    @Test func maximumSkewIsFiveMinutes() {
        #expect(ClockPolicy.maximumSkewMillis == 300_000)
    }

    // MARK: Ordering and packing

    @Test func ordersByMillisThenLogical() {
        #expect(HLCTimestamp(millis: 1, logical: 0) < HLCTimestamp(millis: 1, logical: 1))
        #expect(HLCTimestamp(millis: 1, logical: .max) < HLCTimestamp(millis: 2, logical: 0))
        #expect(!(HLCTimestamp(millis: 2, logical: 0) < HLCTimestamp(millis: 2, logical: 0)))
        #expect(HLCTimestamp.zero == HLCTimestamp(millis: 0, logical: 0))
    }

    @Test func packingRoundTripsAndKeepsOrder() {
        let stamps = Self.sample
        for t in stamps {
            #expect(HLCTimestamp(packed: t.packed) == t, "packing \(t.text)")
        }
        #expect(HLCTimestamp(millis: 0x019a_b0c3_d2e1, logical: 0x002a).packed == 0x019a_b0c3_d2e1_002a)
        let byPacked = stamps.sorted { $0.packed < $1.packed }
        #expect(byPacked == stamps.sorted())
    }

    // MARK: Wire text

    @Test func textIsTwelveHexDigitsADashAndFour() {
        #expect(HLCTimestamp(millis: 0x019a_b0c3_d2e1, logical: 0).text == "019ab0c3d2e1-0000")
        #expect(HLCTimestamp(millis: 0x019a_b0c3_d2e1, logical: 0x2a).text == "019ab0c3d2e1-002a")
        #expect(HLCTimestamp.zero.text == "000000000000-0000")
        #expect(HLCTimestamp(millis: 0xffff_ffff_ffff, logical: .max).text == "ffffffffffff-ffff")
        // 2026-11-23T09:00:00Z, the clock of the golden vectors.
        #expect(HLCTimestamp(millis: 1_795_424_400_000).text == "01a207a23280-0000")
    }

    @Test func textRoundTrips() {
        for t in Self.sample {
            #expect(HLCTimestamp(text: t.text) == t, "round trip of \(t.text)")
            #expect(t.text.utf8.count == 17)
        }
        #expect(HLCTimestamp(text: "01a207a23280-0003") == HLCTimestamp(millis: 0x01a2_07a2_3280, logical: 3))
    }

    @Test func textSortsAsTimestampsCompare() {
        let stamps = Self.sample
        #expect(stamps.sorted().map(\.text) == stamps.map(\.text).sorted())
    }

    @Test(arguments: [
        "", "01a207a23280", "01a207a23280-", "01a207a23280-00000", "1a207a23280-0000", "001a207a23280-0000",
        "01a207a2328-00000", "01a207a23280_0000", "01a207a23280 0000", "01a207a2328g-0000", "01a207a23280-000g",
        "2026-11-23T09:00", " 01a207a23280-000", "01a207a23280-0000 ",
    ])
    func malformedTextIsRefused(_ text: String) {
        #expect(HLCTimestamp(text: text) == nil)
    }

    /// Protocol/changes.md: hex digits are lowercase and unsigned, and `millis` fits the packed
    /// form (below 2^47), so every text that is read re-encodes to the same bytes and packs.
    @Test(arguments: [
        "01A207A23280-0000", "01a207a23280-000A", "+1a207a23280-0000", "-00000000001-0000", "01a207a23280-+fff",
        "800000000000-0000", "ffffffffffff-ffff", "01a207a23280-0x0f", "０1a207a23280-0000",
    ])
    func nonCanonicalTextIsRefused(_ text: String) {
        #expect(HLCTimestamp(text: text) == nil)
    }

    @Test func theLargestStampThatPacksIsRead() throws {
        let last = try #require(HLCTimestamp(text: "7fffffffffff-ffff"))
        #expect(last == HLCTimestamp(millis: HLCTimestamp.maximumMillis, logical: .max))
        #expect(HLCTimestamp(packed: last.packed) == last && last.packed > 0)
        #expect(HLCTimestamp(text: "000000000000-0000") == .zero)
    }

    static let sample: [HLCTimestamp] = [
        .zero,
        HLCTimestamp(millis: 0, logical: 1),
        HLCTimestamp(millis: 1, logical: 0),
        HLCTimestamp(millis: 15, logical: 0xff),
        HLCTimestamp(millis: 16, logical: 0),
        HLCTimestamp(millis: 1_795_424_400_000, logical: 0),
        HLCTimestamp(millis: 1_795_424_400_000, logical: 0x0100),
        HLCTimestamp(millis: 1_795_424_400_001, logical: 0),
        HLCTimestamp(millis: 0x7fff_ffff_ffff, logical: .max),
    ]
}
