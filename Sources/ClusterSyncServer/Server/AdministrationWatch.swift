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
    /// What sessions may depend on, read before the server takes any session.
    let initial: SQLiteServerStore.AdministrationMarks

    /// Reads the store's marks now: call before the server listens. (They were once taken at
    /// the watch's first reading, a second after start; a session could subscribe sooner, and a
    /// command run meanwhile was taken as the starting point and never told: a loaded machine
    /// lost a move that way, MEASUREMENTS.md, thirtieth session.)
    public init(store: SQLiteServerStore, notifier: ChangeNotifier, interval: Duration = .seconds(1), logger: Logger) async throws {
        self.store = store
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
        initial = try await store.administrationMarks()
    }

    public func run() async throws {
        // No version yet: the first reading compares the marks with those read at the start.
        var version: Int?
        var marks = initial
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
                let (moved, withdrawn) = newer.changes(since: marks)
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
