import ClusterSyncCore
import Dispatch
import Synchronization

/// Runs a push's checks (`PushValidation`, its Ed25519 signature checks above all) on Dispatch's
/// background threads, below everything else the server does. A signature check costs about
/// 70 µs of CPU, far more than the rest of a push, and under a burst of sessions the checks of
/// everyone's pushes filled both cores: a practice's pull waited behind them (issue 12's load
/// generator, 1,000 clients starting at once: pull p99 0.9 s with the checks on the sessions'
/// own threads, 0.2–0.4 s with them at background priority; with wake-ups by cluster,
/// `ChangeNotifier`, the same server CPU in all). An idle
/// server gives background work every core, so a push alone is checked as fast as before; only
/// under contention does a push wait for the reads and handshakes of others.
///
/// On Linux, Dispatch runs background work on threads with a nice value of 10 (about a tenth of
/// a core's share against the default's); the checks are not run in Swift tasks, whose priority
/// would be raised again by the session awaiting them.
enum SignatureChecks {
    static let queue = DispatchQueue.global(qos: .background)

    /// `PushValidation.validate` on a background thread, a large batch's runs of signatures on
    /// several (`inParallel`); a push of at most `checkedInPlace` changes on the session's own.
    static func validate(
        _ push: Push, for identity: SessionIdentity, nowMillis: Int64, limits: WireLimits, keys: [ReplicaID: ReplicaPublicKey]
    ) async throws(PushRejection) {
        let check = { @Sendable () throws(PushRejection) in
            try PushValidation.validate(push, for: identity, nowMillis: nowMillis, limits: limits, keys: keys, inParallel: inParallel)
        }
        if push.changes.count <= checkedInPlace { return try check() }
        try await run(check).get()
    }

    /// The largest push checked where it arrives. A background thread is two thread wake-ups
    /// away, each up to half a millisecond on the shared 2-core machine, against a check's 70 to
    /// 120 µs: a practice's one-change sync waited longer for the hand-over than for its check.
    /// Small enough that a burst of such pushes costs the sessions little (the load generator's
    /// clients push 10).
    static let checkedInPlace = 2

    /// `body`'s result, computed on a background thread.
    static func run<Value: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async -> Result<Value, Failure> {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result(catching: body)) }
        }
    }

    /// The runs shared between the calling thread and up to `runs - 1` background helpers, each
    /// taking the next run not yet taken. (Dispatch's `concurrentPerform` runs at the default
    /// priority even when called from background work.) The caller waits only for runs a helper
    /// has taken and is running, never for a helper still queued: with every background thread
    /// busy checking a push of its own, each caller does its runs itself instead of waiting for
    /// a thread that cannot come.
    static let inParallel: PushValidation.ParallelRuns = { runs, body in
        let next = RunCounter()
        let running = DispatchGroup()
        @Sendable func takeRuns() {
            while true {
                let run = next.take()
                guard run < runs else { return }
                body(run)
            }
        }
        for _ in 1..<max(1, runs) {
            queue.async {
                // Counted before taking, so a caller that found nothing left waits for this run.
                running.enter()
                takeRuns()
                running.leave()
            }
        }
        takeRuns()
        running.wait()
    }

    private final class RunCounter: Sendable {
        private let next = Atomic(0)
        /// The next run's number (past the last when all are taken).
        func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
    }
}
