import ClusterSyncCore
import Logging

/// One read of a tenant's newest log rows shared by the subscriptions a push wakes, instead of
/// one page read per subscription: a push to a tenant with N subscribers costs one store read
/// (`ServerStore.logTail`, incremental after the first) and N cuts of it in memory
/// (`SharedLogTail.page`). A subscription the shared tail does not cover (behind it, a read-only
/// role, a store without `logTail`) gets nil and reads its own page from the store, as before.
///
/// Freshness: a session passes the generation of its last wake-up (`ChangeNotifier`); it is
/// answered only from a tail whose read began after that generation was counted, so the tail
/// holds the push that woke it. Reads are joined: sessions woken together wait for one read.
///
/// A `pull` is cut from the same tail when the tenant has one (`pullPage`), from a read begun
/// after the pull arrived, so it holds every push committed before it on any node: a burst of
/// practices that pushed and now pull (issue 12's load generator: hundreds of pushes answered
/// by one group commit, then hundreds of pulls at once) shares a few small reads instead of
/// each reading its page of the log.
actor SubscriptionFeed {
    let store: any ServerStore
    let notifier: ChangeNotifier
    let logger: Logger
    let maxRows: Int
    let maxBytes: Int
    private var tails: [String: Entry] = [:]
    /// Cleared when the store has no `logTail`: every session then reads its own pages.
    private var supported = true

    private struct Entry {
        var tail: SharedLogTail?
        /// The tenant's generation when the tail's last read began.
        var readAt: UInt64 = 0
        var reading: Task<Void, Never>?
        /// Reads of the tail begun, and the number of the one the tail was last taken from.
        var readsBegun: UInt64 = 0
        var readNumber: UInt64 = 0
        /// Its last subscriber left while a read was under way: dropped once the read ends.
        var forgotten = false
    }

    init(store: any ServerStore, notifier: ChangeNotifier, logger: Logger,
         maxRows: Int = SharedLogTail.defaultMaxRows, maxBytes: Int = SharedLogTail.defaultMaxBytes) {
        self.store = store
        self.notifier = notifier
        self.logger = logger
        self.maxRows = maxRows
        self.maxBytes = maxBytes
    }

    /// `pullStored(for: identity, after: cursor, limit: limit, excluding: replica)` cut from the
    /// shared tail, read at or after wake-up `seen`; nil: read it from the store.
    func page(for identity: SessionIdentity, after cursor: Cursor?, limit: Int, excluding replica: ReplicaID?, seen: UInt64) async -> ChangesPage? {
        guard supported, identity.role.isPractice else { return nil }
        let tenant = identity.tenant
        guard let position = cursor.map({ try? StreamCursor.position(of: $0) }) ?? 0 else { return nil }
        // A subscription asking again: the tenant has a subscriber, so its tail is kept.
        tails[tenant]?.forgotten = false
        // Twice at most: the first wait may join a read begun before `seen`, or before the
        // session's cursor was read (its own pull).
        for _ in 0..<2 where !covers(tenant, seen, position) {
            await refresh(tenant)
        }
        guard covers(tenant, seen, position) else { return nil }
        return tails[tenant]?.tail?.page(for: identity, after: cursor, limit: limit, excluding: replica)
    }

    /// `pullStored(for: identity, after: cursor, limit: limit, excluding: nil)` cut from the
    /// tenant's shared tail, from a read of it begun after this call: nil when the tenant has
    /// no tail (no session subscribes, so none is kept) or it does not cover the cursor.
    /// Pulls arriving together (a burst of practices that pushed and now pull) share one read.
    func pullPage(for identity: SessionIdentity, after cursor: Cursor?, limit: Int) async -> ChangesPage? {
        let tenant = identity.tenant
        guard supported, identity.role.isPractice, let arrived = tails[tenant]?.readsBegun,
              let position = cursor.map({ try? StreamCursor.position(of: $0) }) ?? 0 else { return nil }
        // Twice at most: the first may join a read begun before this pull arrived.
        for _ in 0..<2 where (tails[tenant]?.readNumber ?? 0) <= arrived {
            guard tails[tenant] != nil else { return nil }
            await refresh(tenant)
        }
        guard let entry = tails[tenant], entry.readNumber > arrived, let tail = entry.tail, position <= tail.end else { return nil }
        return tail.page(for: identity, after: cursor, limit: limit, excluding: nil)
    }

    /// Drops a tenant's tail (its last subscriber has gone), so an idle tenant holds nothing.
    func forget(tenant: String) {
        if tails[tenant]?.reading == nil { tails[tenant] = nil } else { tails[tenant]?.forgotten = true }
    }

    /// Whether the tenant's tail was read after wake-up `seen` and reaches `position`.
    private func covers(_ tenant: String, _ seen: UInt64, _ position: Int64) -> Bool {
        guard let entry = tails[tenant], let tail = entry.tail else { return false }
        return entry.readAt >= seen && position <= tail.end
    }

    private func refresh(_ tenant: String) async {
        if let reading = tails[tenant]?.reading {
            await reading.value
            return
        }
        tails[tenant, default: Entry()].readsBegun += 1
        let number = tails[tenant, default: Entry()].readsBegun
        let reading = Task { await self.read(tenant, number: number) }
        tails[tenant, default: Entry()].reading = reading
        await reading.value
    }

    /// Reads what is new after the tail (the newest rows, without one) and takes it in.
    private func read(_ tenant: String, number: UInt64) async {
        // Counted before the read begins: every push woken at or before it has committed.
        let generation = notifier.generation(of: tenant)
        let tail = tails[tenant]?.tail
        let read: LogTail?
        do {
            read = try await store.logTail(tenant: tenant, after: tail?.end ?? 0, newest: maxRows, maxBytes: maxBytes)
            if read == nil { supported = false }
        } catch {
            logger.error("reading the log's tail failed", metadata: ["clustersyncd.error": "\(error)"])
            read = nil
        }
        guard var entry = tails[tenant], !entry.forgotten else {
            tails[tenant] = nil
            return
        }
        entry.reading = nil
        if let read {
            if var current = entry.tail, current.end == tail?.end {
                current.extend(with: read)
                entry.tail = current
            } else {
                entry.tail = SharedLogTail(tenant: tenant, read, maxRows: maxRows, maxBytes: maxBytes)
            }
            entry.readAt = generation
            entry.readNumber = number
        } else {
            entry.tail = nil
        }
        tails[tenant] = entry
    }
}
