import ClusterSyncCore
import Synchronization

/// Tells subscribed sessions that a tenant's stream has grown, so they pull what is new for
/// them. Carries no changes itself: each session's page is cut for its own scope (through
/// `SubscriptionFeed` or the store), which keeps authorisation in one place.
///
/// Counts the wake-ups of each tenant (its generation): a push is committed before its wake-up
/// is counted, so a read of the log begun after generation g was counted holds every push
/// woken at g or before (`SubscriptionFeed` shares reads on that basis).
public actor ChangeNotifier {
    /// A session's wake-up: called with the tenant's generation, on the notifier's executor.
    public typealias Wake = @Sendable (UInt64) -> Void
    private var waiters: [String: [Int: Wake]] = [:]
    private var nextID = 0
    private let generations = Mutex(Generations())

    struct Generations {
        var byTenant: [String: UInt64] = [:]
        /// Counted by `notifyAll`, for every tenant at once.
        var everyone: UInt64 = 0
    }

    public init() {}

    /// Calls `wake` once per push to `tenant` from now on (the session coalesces), until
    /// `unsubscribe`. Returns the subscription's id and the tenant's generation now.
    public func subscribe(tenant: String, wake: @escaping Wake) -> (id: Int, generation: UInt64) {
        nextID += 1
        waiters[tenant, default: [:]][nextID] = wake
        return (nextID, generation(of: tenant))
    }

    /// A stream yielding the generation at each push to `tenant` (coalesced when the reader
    /// lags), for a listener that is not a session.
    public func subscribe(tenant: String) -> (id: Int, stream: AsyncStream<UInt64>) {
        let (stream, continuation) = AsyncStream<UInt64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        return (subscribe(tenant: tenant) { continuation.yield($0) }.id, stream)
    }

    /// Returns true when `tenant` has no subscriber left.
    @discardableResult
    public func unsubscribe(tenant: String, id: Int) -> Bool {
        waiters[tenant]?.removeValue(forKey: id)
        guard waiters[tenant]?.isEmpty ?? true else { return false }
        waiters[tenant] = nil
        return true
    }

    /// Call after the push to `tenant` has committed.
    public func notify(tenant: String) {
        let generation = generations.withLock { counts in
            counts.byTenant[tenant, default: 0] += 1
            return counts.byTenant[tenant, default: 0] + counts.everyone
        }
        for wake in waiters[tenant]?.values ?? [:].values { wake(generation) }
    }

    /// Wakes every subscribed session: after notifications may have been missed (another
    /// node's pushes while the PostgreSQL listener was reconnecting), each pulls from its cursor.
    public func notifyAll() {
        generations.withLock { $0.everyone += 1 }
        for (tenant, sessions) in waiters {
            let generation = generation(of: tenant)
            for wake in sessions.values { wake(generation) }
        }
    }

    /// How many wake-ups `tenant` has had (never decreases).
    public nonisolated func generation(of tenant: String) -> UInt64 {
        generations.withLock { $0.byTenant[tenant, default: 0] + $0.everyone }
    }
}
