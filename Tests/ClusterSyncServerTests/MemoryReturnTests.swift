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
