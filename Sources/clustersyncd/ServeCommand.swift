import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncCore
import ClusterSyncServer
import Configuration
import Foundation
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sync server. A data directory that does not exist yet is initialised with development certificates.",
        discussion: """
            Settings come from these options, then CLUSTERSYNCD_* environment variables, then the JSON file \
            (--config, else DATA/clustersyncd.json if present): host, port, tls.certificate, tls.key, tls.clientCA, \
            limits.maxLineBytes, limits.maxChangesPerPush, limits.maxChangesPerPage, limits.maxClockSkewSeconds, drainSeconds, \
            compaction.horizon-days, storage (sqlite or postgres), postgres.url-file, postgres.maxConnections; the PostgreSQL \
            URL itself only from CLUSTERSYNCD_POSTGRES_URL or postgres.url-file, never the command line.
            SIGTERM or SIGINT: stop accepting, let open sessions finish their current request, exit 0.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "The address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "The port (default 7443; 0 picks a free one).") var port: Int?
    @Option(help: "Close a welcomed session after this many seconds without a line (default 300; 0: never).") var idleTimeoutSeconds: Int?
    @Option(help: "Close a connection whose hello has not come this many seconds after TLS (default 10).") var helloTimeoutSeconds: Int?
    @Option(help: "Close a connection whose TLS handshake takes longer (default 10).") var tlsHandshakeTimeoutSeconds: Int?
    @Option(help: "The most bytes a client may send before welcome (default 16384).") var maxBytesBeforeWelcome: Int?
    @Option(help: "Close a connection that takes nothing it is sent for this many seconds (default 30).") var writeTimeoutSeconds: Int?
    @Option(help: "The most connections open at once (default 4000).") var maxConnections: Int?
    @Option(help: "The most sessions one token or certificate may have open (default 8).") var maxConnectionsPerCredential: Int?
    @Option(help: "How long SIGTERM waits for sessions before closing them (default 10).") var drainSeconds: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info; env LOG_LEVEL).") var logLevel: String?

    func run() async throws {
        let directory = data.directory
        var logger = Logger(label: "clustersyncd")
        logger.logLevel = Logger.Level(rawValue: logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info") ?? .info
        if !directory.isInitialised {
            try directory.initialise()
            logger.notice("initialised a new data directory with development certificates",
                          metadata: ["clustersyncd.data": "\(directory.path)"])
        }

        var providers: [any ConfigProvider] = []
        var overrides: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { overrides["clustersyncd.host"] = .init(.string(host), isSecret: false) }
        if let port { overrides["clustersyncd.port"] = .init(.int(port), isSecret: false) }
        let limitOptions: [(String, Int?)] = [
            ("limits.idleTimeoutSeconds", idleTimeoutSeconds), ("limits.helloTimeoutSeconds", helloTimeoutSeconds),
            ("limits.tlsHandshakeTimeoutSeconds", tlsHandshakeTimeoutSeconds), ("limits.maxBytesBeforeWelcome", maxBytesBeforeWelcome),
            ("limits.writeTimeoutSeconds", writeTimeoutSeconds),
            ("limits.maxConnections", maxConnections), ("limits.maxConnectionsPerCredential", maxConnectionsPerCredential),
            ("drainSeconds", drainSeconds),
        ]
        for case let (key, value?) in limitOptions {
            overrides[AbsoluteConfigKey(["clustersyncd"] + key.split(separator: ".").map(String.init))] = .init(.int(value), isSecret: false)
        }
        providers.append(InMemoryProvider(values: overrides))
        providers.append(EnvironmentVariablesProvider())
        let file = data.settingsFile(config: data.config)
        if let file { providers.append(try await SettingsFile.provider(file)) }
        var settings = ServerSettings(data: directory)
        try settings.read(ConfigReader(providers: providers))

        let store = try settings.store.open(directory, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let health: ServerHealth
        if let postgres = store as? PostgresServerStore {
            // Migrations and the health check go through a one-connection client of their own,
            // before the group starts: the pool runs in the group.
            let setup = try PostgresServerStore(location: postgres.location, maximumConnections: 1, logger: logger)
            await setup.start()
            do {
                try await setup.migrate()
            } catch {
                await PostgresServerStore.shutDownStarted()
                throw error
            }
            health = await ServerHealth.check(directory, store: setup, certificate: settings.certificate)
            await PostgresServerStore.shutDownStarted()
            services.append(.init(service: postgres.client))
            try directory.markAsPostgresNode()
        } else {
            health = await ServerHealth.check(directory, store: store, certificate: settings.certificate)
        }
        // The status line an operator looks for first; a problem is logged as an error, and the
        // server still starts, so pulls work and pushes say `store-unavailable`.
        if health.ok {
            logger.notice("health \(health.summary)")
        } else {
            logger.error("health \(health.summary)")
        }
        let host = settings.host
        let server = SyncServer(settings: settings, store: store, logger: logger) { address in
            // Scripts and tests read the port from this line.
            let line = "clustersyncd listening on \(address.ipAddress ?? host):\(address.port ?? 0)\n"
            StandardStream.write(line, to: .standardOutput)
        }
        if let postgres = store as? PostgresServerStore {
            // Other nodes' pushes, and administrators' moves and revocations, wake this node's subscribed sessions.
            services.append(.init(service: PostgresChangeListener(location: postgres.location, notifier: server.notifier, node: postgres.node, logger: logger)))
        } else if let sqlite = store as? SQLiteServerStore {
            // Administrators' moves and revocations, made by commands in other processes.
            services.append(.init(service: try await AdministrationWatch(store: sqlite, notifier: server.notifier, logger: logger)))
        }
        // On PostgreSQL every node runs it: each run holds the tenant's row lock per step, so
        // two nodes compacting at once take turns, and the second finds little left to do.
        let compaction = ServiceGroupConfiguration.ServiceConfiguration(
            service: CompactionService(store: store, horizonDays: settings.compactionHorizonDays, logger: logger))
        let group = ServiceGroup(configuration: .init(
            services: services + [.init(service: server), compaction],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        try await group.run()
    }
}
