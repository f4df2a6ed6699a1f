import ClusterSyncClient
import ClusterSyncCore
import Testing

/// The progress line's rules, with time passed in.
@Suite struct ProgressLineTests {
    @Test func aTerminalLineIsRedrawnInPlaceAfterAShortDelayAndEndsWithANewline() {
        var line = ProgressLine(style: .terminal)
        line.start(now: 100)
        #expect(line.update([.init("pulled", 1_000)], now: 100.2) == nil, "a short sync stays quiet")
        let first = line.update([.init("pushed", 2_000, of: 10_000), .init("pulled", 0)], now: 101)
        #expect(first == "\rpushed 2,000 of 10,000, pulled 0: 2,000 changes/s, 1 s\u{1B}[K")
        #expect(line.update([.init("pushed", 2_500, of: 10_000)], now: 101.05) == nil, "at most ten redraws a second")
        let last = line.finish(now: 105)
        #expect(last == "\rpushed 2,500 of 10,000: 500 changes/s, 5 s\u{1B}[K\n")
    }

    @Test func plainLinesComeAtTheIntervalAndNothingIsPrintedForShortWork() {
        var quiet = ProgressLine(style: .plain, intervalSeconds: 10)
        quiet.start(now: 0)
        #expect(quiet.update([.init("pulled", 5)], now: 2) == nil)
        #expect(quiet.finish(now: 3) == nil)

        var line = ProgressLine(style: .plain, intervalSeconds: 10)
        line.start(now: 0)
        #expect(line.update([.init("pulled", 1_234_567)], now: 10) == "pulled 1,234,567: 123,457 changes/s, 10 s\n")
        #expect(line.update([.init("pulled", 1_300_000)], now: 15) == nil)
        #expect(line.update([.init("pulled", 2_000_000)], now: 20) == "pulled 2,000,000: 100,000 changes/s, 20 s\n")
        #expect(line.finish(now: 20) == nil, "the last line already says it")
        #expect(ProgressLine.describe([.init("received", 0, of: 3)], seconds: 0) == "received 0 of 3")
        #expect(ProgressLine.describe([.init("sent", 3, of: 3)], seconds: 125) == "sent 3 of 3: 0 changes/s, 2 min 5 s")
    }

    @Test func aSyncsCountsGiveThePushTotalAndNoPullTotal() {
        var progress = ClientSyncStateMachine.Progress()
        progress.pushed = 1_000
        progress.toPush = 3_000
        progress.pulled = 7
        #expect(progress.counts == [.init("pushed", 1_000, of: 3_000), .init("pulled", 7)])
        #expect(ClientSyncStateMachine.Progress().counts == [.init("pulled", 0)])
    }
}
