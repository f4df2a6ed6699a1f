import ClusterSyncCore
import NIOCore
import Testing

/// A subscription whose page could not be read reads it again on a timer, not only at the next
/// push: a PCPG's or a quiet cluster's subscription may see none for hours.
@Suite struct SubscriptionRetryTests {
    typealias Machine = ServerSessionStateMachine
    static let start = Cursor("s1:4")
    static let fetch = Machine.Action.fetchForSubscription(Pull(cursor: start, limit: WireLimits.default.maxChangesPerPage))

    /// A welcomed machine on `clock` whose subscription at `start` has asked for its first page.
    static func subscribed(_ clock: ManualClock, idle: Int64) -> Machine {
        var machine = ServerSessionTimeoutTests.welcomed(clock, idle: idle)
        _ = machine.lineReceived(ServerSessionStateMachineTests.line(.subscribe(Subscribe(cursor: start))))
        _ = machine.streamEnd(start)
        #expect(machine.catchUp() == fetch)
        return machine
    }

    @Test func aFailedReadIsReadAgainLaterAndLaterUntilOneSucceeds() {
        let clock = ManualClock()
        var machine = Self.subscribed(clock, idle: 0)
        var waits: [TimeAmount] = []
        for _ in 0..<8 {
            let failed = clock.read()
            guard case .armTimer(let due) = machine.subscriptionFailed() else {
                Issue.record("a failed read arms no timer")
                return
            }
            waits.append(due - failed)
            #expect(machine.catchUp() == .none, "nothing is read before the wait is over")
            clock.advance(due - failed - .milliseconds(1))
            #expect(machine.timerFired() == .armTimer(due), "early: look again at the due time")
            #expect(machine.catchUp() == .none)
            clock.advance(.milliseconds(1))
            #expect(machine.timerFired() == .none, "no idle timeout, and no other read owed")
            #expect(machine.catchUp() == Self.fetch, "the same page, from the same cursor")
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60].map { TimeAmount.seconds($0) })

        // A read that succeeds starts the waits again from a second.
        #expect(machine.subscriptionPage(ChangesPage(changes: [], cursor: Self.start, more: false)) == .none)
        let failed = clock.read()
        #expect(machine.subscriptionFailed() == .armTimer(failed + .seconds(1)))
    }

    @Test func theIdleTimeoutStillComesFirstWhenItIsDueFirst() {
        let clock = ManualClock()
        var machine = Self.subscribed(clock, idle: 1_500)
        let quietSince = clock.read()
        #expect(machine.subscriptionFailed() == .armTimer(quietSince + .seconds(1)))
        clock.advance(.seconds(1))
        #expect(machine.timerFired() == .armTimer(quietSince + .milliseconds(1_500)), "then the idle deadline")
        #expect(machine.catchUp() == Self.fetch)
        #expect(machine.subscriptionFailed() == .armTimer(quietSince + .milliseconds(1_500)), "the idle deadline is sooner than 2 s")
        clock.advance(.milliseconds(500))
        #expect(ServerSessionTimeoutTests.timedOut(machine.timerFired()), "a retry is not the client's activity")
    }

    @Test func aPushBeforeTheWaitIsOverReadsAtOnce() {
        let clock = ManualClock()
        var machine = Self.subscribed(clock, idle: 300_000)
        let failed = clock.read()
        #expect(machine.subscriptionFailed() == .armTimer(failed + .seconds(1)))
        #expect(machine.streamGrew() == Self.fetch)
        // It fails too: the next wait is longer.
        #expect(machine.subscriptionFailed() == .armTimer(failed + .seconds(2)))
    }

    @Test func aSubscriptionWhosePositionWasCompactedEndsAndThePullThatFollowsIsServed() {
        let clock = ManualClock()
        var machine = Self.subscribed(clock, idle: 300_000)
        let expired = ClusterSyncError(.cursorExpired, "this server compacted its history through position 9")
        #expect(machine.subscriptionExpired(expired) == .send(.error(WireError(expired, fatal: false))))
        #expect(!machine.isSubscribed && !machine.isClosed)
        #expect(machine.catchUp() == .none)
        #expect(machine.streamGrew() == .none, "no longer woken")
        let snapshot = Pull(cursor: nil, snapshot: true)
        #expect(machine.lineReceived(ServerSessionStateMachineTests.line(.pull(snapshot))) == .fetchSnapshot(Pull(cursor: nil, limit: WireLimits.default.maxChangesPerPage, snapshot: true)),
                "a subscribed session's pull would be out-of-order")
    }

    @Test func aSessionThatIsNotSubscribedArmsNothing() {
        let clock = ManualClock()
        var machine = ServerSessionTimeoutTests.welcomed(clock, idle: 0)
        #expect(machine.subscriptionFailed() == .none)
    }
}
