import ClusterSyncCore
import Configuration

/// Everything `clustersyncd serve` needs, with defaults.
///
/// Read, highest priority first, from command-line options, environment variables
/// (`CLUSTERSYNCD_PORT`, `CLUSTERSYNCD_HOST`, `CLUSTERSYNCD_TLS_CERTIFICATE`,
/// `CLUSTERSYNCD_LIMITS_MAX_LINE_BYTES`, `CLUSTERSYNCD_LIMITS_IDLE_TIMEOUT_SECONDS`,
/// `CLUSTERSYNCD_LIMITS_MAX_CONNECTIONS`: swift-configuration's naming) and the JSON
/// settings file (`{"clustersyncd": {"port": 7443, ...}}`), through swift-configuration.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 7443
    public var data: DataDirectory
    public var certificate: String
    public var privateKey: String
    public var clientCA: String
    /// `TENANT=PATH` entries: on a node trusting several Health Boards' CAs, which CA issues for
    /// which tenant (`TenantAuthorities`). Empty: every trusted CA issues for every tenant.
    public var tenantClientCA: [String] = []
    public var limits = WireLimits.default
    /// The hello timeout and how much a client may send before it is welcomed.
    public var sessionLimits = SessionLimits.default
    /// How long a new connection has to finish its TLS handshake.
    public var tlsHandshakeTimeoutSeconds = 10
    /// The most connections open at once, authenticated or not; more are closed on accept.
    /// The process's file limit must be higher (Deploy/clustersyncd@.service sets 8192).
    public var maxConnections = 4_000
    /// The most sessions one token or one practice certificate may have open at once.
    public var maxConnectionsPerCredential = 8
    /// How long SIGTERM waits for open sessions to finish before closing them.
    public var drainSeconds = 10
    /// How long a credential issued without `--expires` lasts, in days; 0: it does not expire.
    /// Read by `clustersyncd credential issue` from the same settings file (`--config`).
    public var credentialDefaultExpiryDays = 365
    /// How long the session log (`clustersyncd audit`) keeps an entry, in days.
    public var auditRetentionDays = ServerSettings.defaultAuditRetentionDays
    public static let defaultAuditRetentionDays = 400
    /// Where the store is (issue 13): `sqlite` (the file in the data directory, one server) or
    /// `postgres` (a PostgreSQL database several nodes share). See `StoreSettings`.
    public var store = StoreSettings()
    /// Each tenant's log is compacted once its changes are this many days old (PROTOCOL.md §7.2):
    /// superseded values go, current ones stay. 0: never automatically (`clustersyncd compact`).
    public var compactionHorizonDays = ServerSettings.defaultCompactionHorizonDays
    public static let defaultCompactionHorizonDays = 365

    public init(data: DataDirectory) {
        self.data = data
        certificate = data.serverCertificate
        privateKey = data.serverKey
        clientCA = data.caCertificate
    }

    /// Reads the settings under `clustersyncd.` from `reader`, on top of these defaults.
    public mutating func read(_ reader: ConfigReader) {
        let c = reader.scoped(to: "clustersyncd")
        host = c.string(forKey: "host", default: host)
        port = c.int(forKey: "port", default: port)
        certificate = c.string(forKey: "tls.certificate", default: certificate)
        privateKey = c.string(forKey: "tls.key", default: privateKey)
        clientCA = c.string(forKey: "tls.clientCA", default: clientCA)
        tenantClientCA = c.stringArray(forKey: "tls.tenantClientCA", default: tenantClientCA)
        limits.maxLineBytes = c.int(forKey: "limits.maxLineBytes", default: limits.maxLineBytes)
        limits.maxChangesPerPush = c.int(forKey: "limits.maxChangesPerPush", default: limits.maxChangesPerPush)
        limits.maxChangesPerPage = c.int(forKey: "limits.maxChangesPerPage", default: limits.maxChangesPerPage)
        limits.maxClockSkewMillis = Int64(c.int(forKey: "limits.maxClockSkewSeconds", default: Int(limits.maxClockSkewMillis / 1000))) * 1000
        limits.idleTimeoutMillis = Int64(c.int(forKey: "limits.idleTimeoutSeconds", default: Int(limits.idleTimeoutMillis / 1000))) * 1000
        sessionLimits.helloTimeout = .seconds(Int64(c.int(forKey: "limits.helloTimeoutSeconds", default: Int(sessionLimits.helloTimeout.nanoseconds / 1_000_000_000))))
        sessionLimits.maxBytesBeforeWelcome = c.int(forKey: "limits.maxBytesBeforeWelcome", default: sessionLimits.maxBytesBeforeWelcome)
        sessionLimits.writeTimeout = .seconds(Int64(c.int(forKey: "limits.writeTimeoutSeconds", default: Int(sessionLimits.writeTimeout.nanoseconds / 1_000_000_000))))
        tlsHandshakeTimeoutSeconds = c.int(forKey: "limits.tlsHandshakeTimeoutSeconds", default: tlsHandshakeTimeoutSeconds)
        maxConnections = c.int(forKey: "limits.maxConnections", default: maxConnections)
        maxConnectionsPerCredential = c.int(forKey: "limits.maxConnectionsPerCredential", default: maxConnectionsPerCredential)
        drainSeconds = c.int(forKey: "drainSeconds", default: drainSeconds)
        credentialDefaultExpiryDays = c.int(forKey: "credentials.defaultExpiryDays", default: credentialDefaultExpiryDays)
        auditRetentionDays = c.int(forKey: "audit.retentionDays", default: auditRetentionDays)
        store.read(c)
        compactionHorizonDays = max(0, c.int(forKey: "compaction.horizon-days", default: compactionHorizonDays))
    }
}
