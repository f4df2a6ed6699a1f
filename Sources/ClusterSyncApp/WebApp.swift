import ClusterSyncClient
import ClusterSyncCore
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// `clustersync app`: the registers in a browser, served from the practice's own replica on
/// 127.0.0.1 only. The pages call the replica library for every operation; this module only
/// turns requests into those calls and their results into HTML.
public struct WebApp: Sendable {
    public var replicaPath: String
    /// 0 picks a free port (the printed address says which).
    public var port: Int
    public var catalogue: Catalogue

    public init(replicaPath: String, port: Int, catalogue: Catalogue = .english) {
        self.replicaPath = replicaPath
        self.port = port
        self.catalogue = catalogue
    }

    /// Serves until cancelled. `ready` receives the one-time start link once the port is bound.
    public func run(ready: @escaping @Sendable (_ address: String, _ startLink: String) -> Void) async throws {
        let replica = try Replica.openExisting(path: replicaPath)
        let identity = try replica.identity()
        let session = AppSession()
        let renderer = try PageRenderer(catalogue: catalogue, csrf: session.csrfToken, practice: identity.displayName)
        let boundPort = Mutex(port)
        let pages = Pages(replica: replica, page: renderer, session: session)

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AppGuard(session: session, port: { boundPort.withLock { $0 } }, page: renderer))
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
        try await app.runService()
    }
}
