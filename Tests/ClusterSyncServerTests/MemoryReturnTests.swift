import Testing

@testable import ClusterSyncServer

/// When the server gives freed memory back to the system (`MemoryReturn`).
@Suite struct MemoryReturnTests {
    @Test func trimsOnceABurstHasGoneQuiet() {
        let burst = MemoryReturn.burstEvents
        #expect(!MemoryReturn.quietAfterBurst(handled: burst - 1, atLastLook: burst - 1), "too little work to be worth a trim")
        #expect(!MemoryReturn.quietAfterBurst(handled: 5 * burst, atLastLook: 4 * burst), "still busy")
        #expect(!MemoryReturn.quietAfterBurst(handled: burst, atLastLook: 0), "busy until the last look")
        #expect(MemoryReturn.quietAfterBurst(handled: 5 * burst, atLastLook: 5 * burst))
    }

    /// The loop's decisions: a trim every `busyEvents` while a burst runs, one more once it
    /// has gone quiet (whatever the trims during it), then nothing until the next burst.
    @Test func trimsDuringALongBurstAndOnceItHasGoneQuiet() {
        var schedule = MemoryReturn.TrimSchedule()
        let busy = MemoryReturn.busyEvents
        #expect(schedule.look(handled: 10) == .wait)
        #expect(schedule.look(handled: busy - 1) == .wait)
        #expect(schedule.look(handled: busy) == .trimDuringBurst)
        #expect(schedule.look(handled: busy + 5) == .wait, "the next waits for another busyEvents")
        #expect(schedule.look(handled: 2 * busy - 1) == .wait)
        #expect(schedule.look(handled: 2 * busy) == .trimDuringBurst)
        #expect(schedule.look(handled: 2 * busy) == .trimOnceQuiet, "quiet: trimmed again, counting from zero")
        #expect(schedule.look(handled: 0) == .wait)
        #expect(schedule.look(handled: 0) == .wait, "nothing handled since: no trim")
        #expect(schedule.look(handled: MemoryReturn.burstEvents) == .wait)
        #expect(schedule.look(handled: MemoryReturn.burstEvents) == .trimOnceQuiet, "a short burst trims once, when quiet")
    }

    @Test func trimsWhenMostSessionsOfAPeakHaveClosed() {
        var peak = 4_000
        #expect(!MemoryReturn.due(open: 1_001, peak: &peak))
        #expect(peak == 4_000)
        #expect(MemoryReturn.due(open: 1_000, peak: &peak))
        #expect(peak == 1_000, "the next trim waits for another quarter to close")
        var small = 8
        #expect(!MemoryReturn.due(open: 1, peak: &small))
        #expect(MemoryReturn.due(open: 0, peak: &small))
    }
}
