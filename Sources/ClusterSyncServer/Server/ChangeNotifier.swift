import ClusterSyncCore

/// Tells subscribed sessions that a tenant's stream has grown, so they pull what is new for
/// them. Carries no changes itself: each session pulls through the store with its own scope,
/// which keeps authorisation in one place.
public actor ChangeNotifier {
    private var waiters: [String: [Int: AsyncStream<Void>.Continuation]] = [:]
    private var nextID = 0

    public init() {}

    /// A stream that yields once per push to `tenant` (coalesced when the reader lags), and
    /// ends when the returned token is cancelled.
    public func subscribe(tenant: String) -> (id: Int, stream: AsyncStream<Void>) {
        nextID += 1
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        waiters[tenant, default: [:]][nextID] = continuation
        return (nextID, stream)
    }

    public func unsubscribe(tenant: String, id: Int) {
        waiters[tenant]?.removeValue(forKey: id)?.finish()
    }

    public func notify(tenant: String) {
        for continuation in waiters[tenant]?.values ?? [:].values { continuation.yield() }
    }

    /// Wakes every subscribed session: after notifications may have been missed (another
    /// node's pushes while the PostgreSQL listener was reconnecting), each pulls from its cursor.
    public func notifyAll() {
        for tenant in waiters.values { for continuation in tenant.values { continuation.yield() } }
    }
}
