import ClusterSyncClient
import ClusterSyncCore
import Synchronization

/// *Sync now*, run beside the request that asked for it. A first sync of a cluster's years took
/// 87 s in one request, the browser's tab spinning with nothing to say it was working (the scale
/// audit, forty-ninth session). The form waits a moment (`formWait`: most syncs end well within
/// it, and answer as before); a longer one shows the Sync page, which says how far it has gone
/// and reloads itself until it ends, then says how it ended. One at a time: *Sync now* pressed
/// again meanwhile shows the one running.
final class AppSyncRun: Sendable {
    enum Outcome: Sendable, Equatable {
        /// `heldBack`: the changes the server did not take in this sync.
        case done(SyncClient.Summary, heldBack: Int)
        case failed(String)
    }

    enum State: Sendable, Equatable {
        case idle
        case running(SyncClient.Progress)
        /// How the last sync ended, said by the Sync page until the next starts (not once only:
        /// the page's reloads while it ran were cancelled by the browser, and one cancelled
        /// request took the outcome with it; the scale audit, fiftieth session).
        case ended(Outcome)
    }

    /// How long the form waits for its sync before showing the Sync page instead.
    static let formWait: Duration = .seconds(1)

    private let state = Mutex(State.idle)

    var current: State { state.withLock { $0 } }

    /// Starts `sync` unless one is running (false then), keeping its progress and how it ended.
    func start(_ sync: @escaping @Sendable (_ progress: @escaping @Sendable (SyncClient.Progress) -> Void) async -> Outcome) -> Bool {
        let started = state.withLock { state -> Bool in
            if case .running = state { return false }
            state = .running(SyncClient.Progress())
            return true
        }
        guard started else { return false }
        Task {
            let outcome = await sync { progress in self.state.withLock { $0 = .running(progress) } }
            self.state.withLock { $0 = .ended(outcome) }
        }
        return true
    }

    /// Whether the sync running ends within `wait`; it runs on either way. Looked at every
    /// 20 ms: a task group awaiting the sync's task would wait for it to end, timeout or not.
    func ends(within wait: Duration) async -> Bool {
        let deadline = ContinuousClock.now + wait
        while true {
            if case .running = current {} else { return true }
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
