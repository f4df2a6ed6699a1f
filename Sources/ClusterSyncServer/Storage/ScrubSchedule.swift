import Synchronization

/// When a store rebuilds its file after a redaction (`SQLiteServerStore.scrub`): at once after
/// the first, then at most once per `interval`, every redaction in between covered by one
/// rebuild at the interval's end. A rebuild holds the store's only writer for as long as copying
/// the file takes (1.8 s for 240 MB), so a cluster lead pushing one redaction after another held
/// every tenant's pushes that long for each.
final class ScrubSchedule: Sendable {
    enum Decision: Equatable {
        /// Rebuild now.
        case now
        /// Rebuild after this long (none is waiting yet).
        case after(Duration)
        /// A rebuild is already waiting, and will cover this redaction too.
        case waiting
    }

    let interval: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, waiting: Bool)>((nil, false))

    init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// What to do for a redaction just committed at `now`.
    func redacted(at now: ContinuousClock.Instant = .now) -> Decision {
        state.withLock { state in
            guard let last = state.last, now - last < interval else {
                state.last = now
                return .now
            }
            if state.waiting { return .waiting }
            state.waiting = true
            return .after(last + interval - now)
        }
    }

    /// Whether a rebuild waits; if so, it begins now (at `now`), and no longer waits.
    func takeWaiting(at now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            guard state.waiting else { return false }
            state.last = now
            state.waiting = false
            return true
        }
    }
}
