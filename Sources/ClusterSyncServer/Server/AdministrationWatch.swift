import Logging
import ServiceLifecycle

/// Wakes subscribed sessions of a SQLite server when an administrator's command in another
/// process changes what they may read or hold: a cluster moved into a PCPG's region reaches that
/// PCPG's watching replica within `interval`, not at the next push anywhere in its tenant; a
/// revoked credential's open session is refused within `interval`, not at its next message.
/// Only the sessions concerned are woken: a move wakes the tenant's read-only sessions (PCPG and
/// Health Board, which read across clusters), a withdrawal every session of the tenant, each of
/// which re-reads its credential. PostgreSQL nodes are told the same through NOTIFY
/// (`PostgresServerStore.wakeSessions`, `PostgresChangeListener`).
///
/// Costs one `PRAGMA data_version` on the store's writer per interval while nothing happens.
public struct AdministrationWatch: Service {
    let store: SQLiteServerStore
    let notifier: ChangeNotifier
    let interval: Duration
    let logger: Logger

    public init(store: SQLiteServerStore, notifier: ChangeNotifier, interval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Taken at the first reading, a second after start: no session is subscribed sooner.
        var version: Int?
        var marks: SQLiteServerStore.AdministrationMarks?
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                let now = try await store.writtenElsewhereVersion()
                guard now != version else { continue }
                let newer = try await store.administrationMarks()
                // Noted only once the marks are read: a failed read is tried again at the next
                // interval, where noting the version first would wait for another command's write.
                version = now
                defer { marks = newer }
                guard let earlier = marks else { continue }
                let (moved, withdrawn) = newer.changes(since: earlier)
                // An empty set of clusters: only the sessions woken by every push (read-only ones).
                for tenant in moved.subtracting(withdrawn) { await notifier.notify(tenant: tenant, clusters: []) }
                for tenant in withdrawn { await notifier.notify(tenant: tenant) }
                if !moved.isEmpty || !withdrawn.isEmpty {
                    logger.info("woke sessions after an administrator's change", metadata: [
                        "regions": "\(moved.sorted())", "withdrawals": "\(withdrawn.sorted())"])
                }
            } catch {
                // Read again at the next interval; pushes and pulls report the store's state themselves.
                logger.warning("cannot read the store for administrators' changes", metadata: ["error": "\(error)"])
            }
        }
    }
}
