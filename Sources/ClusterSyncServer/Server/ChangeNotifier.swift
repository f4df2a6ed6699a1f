import ClusterSyncCore
import Synchronization

/// Tells subscribed sessions that a tenant's stream has grown, so they pull what is new for
/// them. Carries no changes itself: each session's page is cut for its own scope (through
/// `SubscriptionFeed` or the store), which keeps authorisation in one place.
///
/// A session that reads one cluster (`SessionIdentity.wokenByCluster`) is woken only by pushes
/// to that cluster: a Health Board's tenant holds dozens of clusters, and each push woke every
/// subscribed session of all of them to find nothing new (issue 12's load generator, 4,000
/// sessions in 80 clusters: 4,000 wake-ups a push, 50 of them with something to send).
///
/// Counts the wake-ups of each tenant (its generation): a push is committed before its wake-up
/// is counted, so a read of the log begun after generation g was counted holds every push
/// woken at g or before (`SubscriptionFeed` shares reads on that basis).
public actor ChangeNotifier {
    /// A session's wake-up: called with the tenant's generation, on the notifier's executor.
    public typealias Wake = @Sendable (UInt64) -> Void
    private var waiters: [String: Waiters] = [:]
    private var nextID = 0
    private let generations = Mutex(Generations())

    struct Generations {
        var byTenant: [String: UInt64] = [:]
        /// Counted by `notifyAll`, for every tenant at once.
        var everyone: UInt64 = 0
    }

    /// A tenant's subscriptions: each with the one cluster it is woken for, or nil for every push.
    struct Waiters {
        var wakes: [Int: Wake] = [:]
        var byCluster: [String: Set<Int>] = [:]
        var everyPush: Set<Int> = []
        var cluster: [Int: String] = [:]

        mutating func add(_ id: Int, cluster: String?, wake: @escaping Wake) {
            wakes[id] = wake
            if let cluster {
                byCluster[cluster, default: []].insert(id)
                self.cluster[id] = cluster
            } else {
                everyPush.insert(id)
            }
        }

        mutating func remove(_ id: Int) {
            wakes[id] = nil
            everyPush.remove(id)
            if let cluster = cluster.removeValue(forKey: id) {
                byCluster[cluster]?.remove(id)
                if byCluster[cluster]?.isEmpty == true { byCluster[cluster] = nil }
            }
        }

        /// Every subscription a push to `clusters` (nil: unknown, so any) concerns.
        func concerned(by clusters: Set<String>?) -> [Wake] {
            guard let clusters else { return Array(wakes.values) }
            var ids = everyPush
            for cluster in clusters { ids.formUnion(byCluster[cluster] ?? []) }
            return ids.compactMap { wakes[$0] }
        }
    }

    public init() {}

    /// Calls `wake` once per push to `tenant` from now on (the session coalesces), until
    /// `unsubscribe`: only for pushes to `cluster` (and those whose clusters are not known) when
    /// one is given. Returns the subscription's id and the tenant's generation now.
    public func subscribe(tenant: String, cluster: String? = nil, wake: @escaping Wake) -> (id: Int, generation: UInt64) {
        nextID += 1
        waiters[tenant, default: Waiters()].add(nextID, cluster: cluster, wake: wake)
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
        waiters[tenant]?.remove(id)
        guard waiters[tenant]?.wakes.isEmpty ?? true else { return false }
        waiters[tenant] = nil
        return true
    }

    /// Call after the push to `tenant` has committed, with the clusters its changes are in
    /// (nil when they are not known: another node's push, say), so that sessions of other
    /// clusters are not woken.
    public func notify(tenant: String, clusters: Set<String>? = nil) {
        let generation = generations.withLock { counts in
            counts.byTenant[tenant, default: 0] += 1
            return counts.byTenant[tenant, default: 0] + counts.everyone
        }
        for wake in waiters[tenant]?.concerned(by: clusters) ?? [] { wake(generation) }
    }

    /// Wakes every subscribed session: after notifications may have been missed (another
    /// node's pushes while the PostgreSQL listener was reconnecting), each pulls from its cursor.
    public func notifyAll() {
        generations.withLock { $0.everyone += 1 }
        for (tenant, sessions) in waiters {
            let generation = generation(of: tenant)
            for wake in sessions.wakes.values { wake(generation) }
        }
    }

    /// How many wake-ups `tenant` has had (never decreases).
    public nonisolated func generation(of tenant: String) -> UInt64 {
        generations.withLock { $0.byTenant[tenant, default: 0] + $0.everyone }
    }
}
