import Testing

@testable import ClusterSyncServer

/// `ScrubSchedule`: a redaction's rebuild of the store file runs at once, then at most once a
/// minute, one rebuild covering every redaction that waited for it.
@Suite struct ScrubScheduleTests {
    @Test func theFirstRebuildRunsAtOnceAndTheRestAtMostOncePerInterval() {
        let schedule = ScrubSchedule(interval: .seconds(60))
        let start = ContinuousClock.now
        #expect(schedule.redacted(at: start) == .now)
        #expect(schedule.redacted(at: start + .seconds(10)) == .after(.seconds(50)))
        #expect(schedule.redacted(at: start + .seconds(20)) == .waiting, "the waiting rebuild covers it")
        #expect(schedule.takeWaiting(at: start + .seconds(60)) && !schedule.takeWaiting(at: start + .seconds(60)), "taken once")
        #expect(schedule.redacted(at: start + .seconds(70)) == .after(.seconds(50)), "a minute after the last rebuild began")
        #expect(schedule.takeWaiting(at: start + .seconds(120)))
        #expect(schedule.redacted(at: start + .seconds(181)) == .now, "a quiet minute later: at once again")
    }
}
