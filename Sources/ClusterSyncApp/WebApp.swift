import ClusterSyncClient
import ClusterSyncCore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// `clustersync app`: the registers in a browser, served from the practice's own replica on
/// 127.0.0.1 only. The pages call the replica library for every operation; this module only
/// turns requests into those calls and their results into HTML.
public struct WebApp: Sendable {
    public var replicaPath: String
    /// 0 picks a free port (the printed address says which).
    public var port: Int
    public var catalogue: Catalogue
    /// Run the same watch as `clustersync sync --watch` inside the app (`clustersync app --sync`).
    public var sync: Bool

    public init(replicaPath: String, port: Int, catalogue: Catalogue = .english, sync: Bool = false) {
        self.replicaPath = replicaPath
        self.port = port
        self.catalogue = catalogue
        self.sync = sync
    }

    /// Serves until cancelled. `ready` receives the one-time start link once the port is bound.
    public func run(ready: @escaping @Sendable (_ address: String, _ startLink: String) -> Void) async throws {
        let replica = try Replica.openExisting(path: replicaPath)
        let identity = try replica.identity()
        var watch: AppSyncWatch?
        if sync {
            guard let remote = try replica.remote() else {
                throw ClusterSyncError(.notInitialised, "no remote set; use `clustersync remote set HOST:PORT --ca ca.pem ...` first")
            }
            watch = AppSyncWatch(client: SyncClient(replica: replica, remote: remote))
        }
        let version = try ReplicaVersion(path: replicaPath)
        let session = AppSession()
        let renderer = try PageRenderer(catalogue: catalogue, csrf: session.csrfToken, practice: identity.displayName,
                                        readOnly: try replica.oversightRole() != nil)
        let boundPort = Mutex(port)
        let pages = Pages(replica: replica, replicaPath: replicaPath, page: renderer, session: session, watch: watch,
                          kept: KeptReads(version: version))

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AppGuard(session: session, port: { boundPort.withLock { $0 } }, page: renderer, version: version))
        router.get("/changes-since") { request, _ in
            try LiveUpdate.answer(request, version: version, syncing: { if case .running = pages.syncRun.current { true } else { false } })
        }
        pages.register(on: router)

        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in
                let actual = channel.localAddress?.port ?? port
                boundPort.withLock { $0 = actual }
                let address = "http://127.0.0.1:\(actual)/"
                ready(address, "\(address)start?key=\(session.startKey)")
            },
            logger: .init(label: "clustersync-app", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let services: [any Service] = [app] + (watch.map { [$0] } ?? [])
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: .init(label: "clustersync-app", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await group.run()
    }
}
