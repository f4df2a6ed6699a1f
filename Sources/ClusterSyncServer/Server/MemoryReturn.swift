#if canImport(Glibc)
import Dispatch
import Glibc
#endif
import Synchronization

/// Gives freed heap back to the system after many sessions have closed. glibc's allocator keeps
/// what thousands of sessions' TLS and line buffers used in its arenas, so a server that had a
/// burst of connections stayed at its peak size long after they left (measured: issue 12's load
/// generator). `malloc_trim` returns the free pages; it runs off the event loops, at most once
/// per quarter of the sessions gone.
enum MemoryReturn {
    /// Whether to trim now, with `open` sessions left and `peak` the most open since the last
    /// trim (which this updates when it says yes).
    static func due(open: Int, peak: inout Int) -> Bool {
        guard (peak >= 64 && open <= peak / 4) || (open == 0 && peak >= 8) else { return false }
        peak = open
        return true
    }

    /// Trims a second after it is asked (once, however often it is asked meanwhile): a
    /// connection counts as closed before its session has let go of its buffers, and a trim at
    /// the close itself left most of a burst's freed memory with the process (measured: 286 MB
    /// five seconds after 4,000 sessions left; a trim then brought it to 148 MB).
    static func trim() {
        #if canImport(Glibc)
        guard let trim = function, !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + delay) {
            scheduled.store(false, ordering: .releasing)
            _ = trim(0)
        }
        #endif
    }

    static let delay = DispatchTimeInterval.seconds(1)
    private static let scheduled = Atomic(false)

    /// Events the sessions have handled since the last trim after a burst (`SessionEvents`
    /// counts each burst's as it ends).
    private static let handled = Atomic(0)

    static func noteHandled(_ events: Int) {
        handled.add(events, ordering: .relaxed)
    }

    /// Trims when the sessions go quiet after a burst of work, while they stay open, and every
    /// `busyEvents` events during one: a burst's freed memory (its tasks, pages and TLS records)
    /// otherwise stays with the process until sessions close. Measured with 4,000 sessions
    /// open, caught up and quiet: 414 MB, 324 MB after `malloc_trim` (of which glibc's arenas
    /// said 216 MB were in use); and, with trims during the burst too, 246–289 MB as the last
    /// of 4,000 subscribed against 329–352 MB with trims only once quiet, for no more server
    /// CPU (MEASUREMENTS.md, sixteenth session). Looks every `interval`; runs until cancelled.
    static func trimWhenQuiet(interval: Duration = .seconds(1)) async {
        var schedule = TrimSchedule()
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = handled.load(ordering: .relaxed)
            switch schedule.look(handled: now) {
            case .wait: break
            case .trimDuringBurst: trim()
            case .trimOnceQuiet:
                handled.subtract(now, ordering: .relaxed)
                trim()
            }
        }
    }

    /// What `trimWhenQuiet` does at each look, from the count of events handled since the last
    /// trim once quiet; free of clocks and threads, so that tests can walk it.
    struct TrimSchedule {
        enum Decision: Equatable {
            case wait
            /// A burst is still running and has handled `busyEvents` more since its last trim.
            case trimDuringBurst
            /// A burst has ended: the count starts again from zero.
            case trimOnceQuiet
        }

        /// The count at the last look, and at the last trim during the current burst.
        private var seen = 0
        private var trimmedAt = 0

        mutating func look(handled: Int) -> Decision {
            if quietAfterBurst(handled: handled, atLastLook: seen) {
                seen = 0
                trimmedAt = 0
                return .trimOnceQuiet
            }
            seen = handled
            guard handled - trimmedAt >= busyEvents else { return .wait }
            trimmedAt = handled
            return .trimDuringBurst
        }
    }

    /// A burst has ended: at least `burstEvents` events since the last trim, and none since the
    /// last look.
    static func quietAfterBurst(handled: Int, atLastLook: Int) -> Bool {
        handled >= burstEvents && handled == atLastLook
    }

    /// A few hundred sessions' worth of work: a single practice's sync never trims.
    static let burstEvents = 1_000

    /// About a thousand sessions' connect, push, pull and subscribe: a burst of 4,000 clients
    /// trims a few times while it runs (glibc's trim takes each arena's lock in turn, briefly).
    static let busyEvents = 4_000

    /// Keeps buffers of 256 KB and more (a pull's page, thousands of changes) out of the heap:
    /// each is mapped when made and unmapped when freed. glibc otherwise raises this threshold
    /// to the largest buffer freed so far, after which every page a puller is sent is carved from
    /// an arena and the freed space stays with the process while other sessions' small buffers
    /// pin it. Call once at start.
    static func mapLargeBuffers() {
        #if canImport(Glibc)
        // M_MMAP_THRESHOLD: setting it fixes it (no more raising).
        _ = mallopt.map { $0(-3, 256 * 1024) }
        #endif
    }

    #if canImport(Glibc)
    private typealias Options = @convention(c) (Int32, Int32) -> Int32
    private static let mallopt: Options? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt")
        .map { unsafeBitCast($0, to: Options.self) }
    private typealias Trim = @convention(c) (Int) -> Int32
    /// Looked up rather than imported: the Glibc module does not export malloc.h.
    private static let function: Trim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim")
        .map { unsafeBitCast($0, to: Trim.self) }
    #endif
}
