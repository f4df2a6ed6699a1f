import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Wakes this node's subscribed sessions when a push on any node commits: LISTENs on
/// `PostgresServerStore.changesChannel` over a connection of its own (outside the pool) and
/// passes each tenant named to the `ChangeNotifier`.
///
/// Notifications are wake-ups, never data: each woken session pulls from its own cursor. So a
/// node whose listening connection dropped (a database restart, a network blip) loses nothing:
/// when it is listening again it wakes every subscribed session once, and each catches up from
/// the log whatever was committed while nobody was listening. Reconnects back off from 0.1 s to
/// 5 s and stop at graceful shutdown.
public struct PostgresChangeListener: Service {
    let location: PostgresLocation
    let notifier: ChangeNotifier
    let logger: Logger
    /// This node's store's `node`: its own pushes' notifications are passed over.
    let node: String?

    public init(location: PostgresLocation, notifier: ChangeNotifier, node: String? = nil, logger: Logger) {
        self.location = location
        self.notifier = notifier
        self.node = node
        self.logger = logger
    }

    public func run() async throws {
        var delay = Duration.milliseconds(100)
        var connectionID = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            connectionID += 1
            let id = connectionID
            let listened = Atomic<Bool>(false)
            do {
                try await cancelWhenGracefulShutdown {
                    try await listenOnce(id: id) { listened.store(true, ordering: .relaxed) }
                }
            } catch is CancellationError {
                return
            } catch {
                guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
                logger.warning("not listening for other nodes' pushes; retrying",
                               metadata: ["error": "\(String(reflecting: type(of: error)))", "postgres": "\(location)"])
            }
            if listened.load(ordering: .relaxed) { delay = .milliseconds(100) }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// One connection's life: listen, wake everyone (what was missed), then pass notifications on.
    private func listenOnce(id: Int, listening: @escaping @Sendable () -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try location.connectionConfiguration(), id: id, logger: logger
        ).get()
        defer { Task { try? await connection.close() } }
        try await connection.listen(on: PostgresServerStore.changesChannel) { notifications in
            listening()
            logger.info("listening for pushes on every node", metadata: ["postgres": "\(location)"])
            await notifier.notifyAll()
            for try await notification in notifications {
                let notice = PushNotice(payload: notification.payload)
                if let node, notice.node == node { continue }
                await notifier.notify(tenant: notice.tenant, clusters: notice.cluster.map { [$0] })
            }
        }
        // The sequence ends when the connection closes: reconnect.
        throw ChannelError.ioOnClosedChannel
    }
}

/// What a notification on `PostgresServerStore.changesChannel` says. A push's names its tenant,
/// the node that stored it and its cluster (`tenant<TAB>node<TAB>cluster`), so each node wakes
/// only that cluster's sessions (and those reading every cluster), and the node that stored
/// it, which woke its own already, none. An administrator's, and a push stored by a node of an
/// earlier version, name the tenant alone: every session of the tenant is woken. Before, every
/// push woke every session of its tenant on every node, twice on its own.
public struct PushNotice: Sendable, Equatable {
    public var tenant: String
    public var node: String?
    public var cluster: String?

    public init(tenant: String, node: String? = nil, cluster: String? = nil) {
        self.tenant = tenant
        self.node = node
        self.cluster = cluster
    }

    /// Tenant and cluster names hold no tab, nor does a node's name.
    public init(payload: String) {
        let parts = payload.split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            self.init(tenant: payload)
            return
        }
        self.init(tenant: String(parts[0]), node: String(parts[1]), cluster: String(parts[2]))
    }

    public var payload: String {
        guard let node, let cluster else { return tenant }
        return "\(tenant)\t\(node)\t\(cluster)"
    }

    /// A node's name for its notifications: random, so two nodes on one host differ.
    public static func newNode() -> String {
        String(UInt64.random(in: .min ... .max), radix: 16) + String(UInt64.random(in: .min ... .max), radix: 16)
    }
}
