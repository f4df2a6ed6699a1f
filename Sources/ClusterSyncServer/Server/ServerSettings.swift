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

    /// Reads the settings under `clustersyncd.` from `reader`, on top of these defaults. A value
    /// of the wrong type or out of range is refused, naming the setting (`CheckedSettings`).
    public mutating func read(_ reader: ConfigReader) throws {
        let c = CheckedSettings(reader.scoped(to: "clustersyncd"))
        let positive = 1...Int(Int32.max)
        host = try c.string("host", host)
        port = try c.int("port", port, in: 0...65_535)
        certificate = try c.string("tls.certificate", certificate)
        privateKey = try c.string("tls.key", privateKey)
        clientCA = try c.string("tls.clientCA", clientCA)
        tenantClientCA = try c.strings("tls.tenantClientCA", tenantClientCA)
        limits.maxLineBytes = try c.int("limits.maxLineBytes", limits.maxLineBytes, in: WireLimits.lineBytes)
        limits.maxChangesPerPush = try c.int("limits.maxChangesPerPush", limits.maxChangesPerPush, in: positive)
        limits.maxChangesPerPage = try c.int("limits.maxChangesPerPage", limits.maxChangesPerPage, in: positive)
        limits.maxClockSkewMillis = Int64(try c.int("limits.maxClockSkewSeconds", Int(limits.maxClockSkewMillis / 1000),
                                                    in: Int(WireLimits.clockSkewMillis.lowerBound / 1000)...Int(WireLimits.clockSkewMillis.upperBound / 1000))) * 1000
        // 0: never (a session idle for ever is kept).
        limits.idleTimeoutMillis = Int64(try c.int("limits.idleTimeoutSeconds", Int(limits.idleTimeoutMillis / 1000), in: 0...Int(Int32.max))) * 1000
        sessionLimits.helloTimeout = .seconds(Int64(try c.int("limits.helloTimeoutSeconds",
                                                              Int(sessionLimits.helloTimeout.nanoseconds / 1_000_000_000), in: positive)))
        sessionLimits.maxBytesBeforeWelcome = try c.int("limits.maxBytesBeforeWelcome", sessionLimits.maxBytesBeforeWelcome, in: 1_024...Int(Int32.max))
        sessionLimits.writeTimeout = .seconds(Int64(try c.int("limits.writeTimeoutSeconds",
                                                              Int(sessionLimits.writeTimeout.nanoseconds / 1_000_000_000), in: positive)))
        tlsHandshakeTimeoutSeconds = try c.int("limits.tlsHandshakeTimeoutSeconds", tlsHandshakeTimeoutSeconds, in: positive)
        maxConnections = try c.int("limits.maxConnections", maxConnections, in: positive)
        maxConnectionsPerCredential = try c.int("limits.maxConnectionsPerCredential", maxConnectionsPerCredential, in: positive)
        drainSeconds = try c.int("drainSeconds", drainSeconds, in: 0...Int(Int32.max))
        credentialDefaultExpiryDays = try c.int("credentials.defaultExpiryDays", credentialDefaultExpiryDays, in: 0...36_500)
        auditRetentionDays = try c.int("audit.retentionDays", auditRetentionDays, in: 1...36_500)
        try store.read(c)
        compactionHorizonDays = try c.int("compaction.horizon-days", compactionHorizonDays, in: 0...36_500)
    }
}

/// Settings read so that a value given but of the wrong type, or out of range, is refused,
/// naming the setting. swift-configuration's `int(forKey:default:)` returns the default for
/// either, so `"port": "7602x"` ran on 7443, `--max-connections=-5` ran a server refusing every
/// sync, and `"tenantClientCA": "t1=…"` (one string, not a list) switched the check of which
/// Health Board's CA issues for which tenant off, without a word (the forty-fourth session's
/// operations audit).
struct CheckedSettings {
    let reader: ConfigReader

    init(_ reader: ConfigReader) { self.reader = reader }

    func int(_ key: String, _ current: Int, in range: ClosedRange<Int>) throws -> Int {
        let configKey = ConfigKey(key)
        guard let value = reader.int(forKey: configKey) else {
            if let given = given(configKey) {
                throw ClusterSyncError(.invalidValue, "setting \(key) must be a whole number from \(range.lowerBound) to \(range.upperBound); got \(given)", field: key)
            }
            return current
        }
        guard range.contains(value) else {
            throw ClusterSyncError(.invalidValue, "setting \(key) must be from \(range.lowerBound) to \(range.upperBound); got \(value)", field: key)
        }
        return value
    }

    func string(_ key: String, _ current: String, isSecret: Bool = false) throws -> String {
        try optionalString(key, isSecret: isSecret) ?? current
    }

    func optionalString(_ key: String, isSecret: Bool = false) throws -> String? {
        let configKey = ConfigKey(key)
        if let value = reader.string(forKey: configKey, isSecret: isSecret) { return value }
        if reader.int(forKey: configKey) != nil || reader.bool(forKey: configKey) != nil || reader.double(forKey: configKey) != nil
            || reader.stringArray(forKey: configKey) != nil {
            throw ClusterSyncError(.invalidValue, "setting \(key) must be text (in quotes in the settings file)", field: key)
        }
        return nil
    }

    func strings(_ key: String, _ current: [String]) throws -> [String] {
        let configKey = ConfigKey(key)
        if let value = reader.stringArray(forKey: configKey) { return value }
        if let given = given(configKey) {
            throw ClusterSyncError(.invalidValue, "setting \(key) must be a list, [\"TENANT=PATH\", …]; got \(given)", field: key)
        }
        return current
    }

    /// A value given for `key` in another type than asked, as an error may quote it.
    private func given(_ key: ConfigKey) -> String? {
        if let text = reader.string(forKey: key) { return "\"\(text.prefix(60))\"" }
        if let number = reader.double(forKey: key) { return String(number) }
        if let flag = reader.bool(forKey: key) { return String(flag) }
        if reader.stringArray(forKey: key) != nil { return "a list" }
        return nil
    }
}
