import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncTLS
import Configuration
import Foundation

/// How long, or from when, as an operator types it: `90d`, `12h`, `2w`, `30m`, `1y` (365 days); `--since` also
/// takes a date (`2026-11-01`) or a time (`2026-11-01T09:30:00Z`).
enum TimeText {
    /// Milliseconds in `text` (`1y`, `90d`, `12h`, `2w`, `30m`, `45s`), or nil.
    static func duration(_ text: String) -> Int64? {
        guard let unit = text.last, let amount = Int64(text.dropLast()), amount > 0, amount < 100_000 else { return nil }
        let seconds: Int64? = switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86_400
        case "w": 7 * 86_400
        case "y": 365 * 86_400
        default: nil
        }
        return seconds.map { amount * $0 * 1000 }
    }

    /// A moment (ms since 1970): a date (midnight UTC), an ISO 8601 time, or a duration before `now`.
    static func moment(_ text: String, now: Int64) -> Int64? {
        if let duration = duration(text) { return now - duration }
        let time = ISO8601DateFormatter()
        if let date = time.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        time.formatOptions = [.withFullDate]
        if let date = time.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        return nil
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

extension DataOptions {
    /// The settings file: `--config`, else `$CLUSTERSYNCD_CONFIG` (a node's file outside its data
    /// directory, such as /etc/clustersyncd/node1.json, for administrative commands that have no
    /// `--config`), else DATA/clustersyncd.json if present.
    func settingsFile(config: String?) -> String? {
        if let config { return config }
        if let file = ProcessInfo.processInfo.environment["CLUSTERSYNCD_CONFIG"], !file.isEmpty { return file }
        return FileManager.default.fileExists(atPath: directory.settingsFile) ? directory.settingsFile : nil
    }

    /// The server's settings (`settingsFile`; CLUSTERSYNCD_* variables win), for administrative
    /// commands that share a default with `serve`.
    func settings(config: String?) async throws -> ServerSettings {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider()]
        let file = settingsFile(config: config)
        if let file { providers.append(try await SettingsFile.provider(file)) }
        var settings = ServerSettings(data: directory)
        try settings.read(ConfigReader(providers: providers))
        return settings
    }
}

extension CredentialCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List credentials (tokens and certificates issued here), revoked and expired ones included.",
            discussion: "Never shows a secret: a token's id is the part after cst_ and before the secret. Reads the store only; safe while the server runs.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this tenant's.") var tenant: String?
        @Flag(help: "Print JSON: {\"credentials\": [{id, tenant, cluster, practice, role, region, label, kind, serial, created, expires, lastUsed, revoked, state}]}, times ISO 8601 UTC or null.") var json = false

        func run() async throws {
            let credentials = try await data.store().credentials(tenant: tenant)
            let now = TimeText.now()
            if json {
                print(JSONValue.object(["credentials": .array(credentials.map { Self.json($0, now: now) })]).canonicalText)
                return
            }
            guard !credentials.isEmpty else {
                print("no credentials\(tenant.map { " in \($0)" } ?? "")")
                return
            }
            let rows = credentials.map { c in
                [c.id, c.holder.description, c.role.rawValue, c.label ?? "", c.kind.rawValue, Self.day(c.createdAt), c.expiresAt.map(Self.day) ?? "never",
                 c.lastUsedAt.map(Self.day) ?? "never", Self.state(c, now: now)]
            }
            print(TextTable.render(["id", "holder", "role", "label", "kind", "created", "expires", "last used", "state"], rows))
        }

        static func day(_ millis: Int64) -> String { String(CredentialRecord.iso(millis).prefix(10)) }

        /// valid, revoked or expired: what the server would make of it now.
        static func state(_ credential: CredentialRecord, now: Int64) -> String {
            if credential.revokedAt != nil { return "revoked" }
            if credential.refusal(at: now) != nil { return "expired" }
            return "valid"
        }

        static func json(_ c: CredentialRecord, now: Int64) -> JSONValue {
            func time(_ millis: Int64?) -> JSONValue { millis.map { .string(CredentialRecord.iso($0)) } ?? .null }
            let holder = c.holder
            return .object([
                "id": .string(c.id), "tenant": .string(holder.tenant), "cluster": holder.cluster.map(JSONValue.string) ?? .null,
                "practice": holder.practice.map(JSONValue.string) ?? .null, "role": .string(c.role.rawValue),
                "region": holder.region.map(JSONValue.string) ?? .null, "label": c.label.map(JSONValue.string) ?? .null,
                "kind": .string(c.kind.rawValue), "serial": c.serial.map(JSONValue.string) ?? .null,
                "created": time(c.createdAt), "expires": time(c.expiresAt), "lastUsed": time(c.lastUsedAt),
                "revoked": time(c.revokedAt), "state": .string(state(c, now: now)),
            ])
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a credential: its open sessions are refused at their next message, and it opens no new one.",
            discussion: """
                Give the id `credential list` shows (a token's, with or without cst_, or the whole token; or crt_<serial> for a \
                certificate issued here), or --serial HEX \
                with --tenant for a certificate a Health Board's own CA issued (`openssl x509 -serial -noout -in practice.pem`). \
                Revocation cannot be undone: issue a new credential instead.
                """)
        @OptionGroup var data: DataOptions
        @Argument(help: "The credential's id.") var id: String?
        @Option(help: "A certificate's serial number, in hex (colons and a serial= prefix are fine).") var serial: String?
        @Option(help: "With --serial: the tenant whose CA issued the certificate.") var tenant: String?

        func validate() throws {
            if (id == nil) == (serial == nil) { throw ValidationError("give either a credential id or --serial HEX --tenant T") }
            if serial != nil, tenant == nil { throw ValidationError("--serial needs --tenant: serial numbers are unique only within one CA") }
            if let serial, CertificateSerial.normalised(serial) == nil { throw ValidationError("--serial must be hexadecimal, e.g. 3A:5F:01 or 3a5f01") }
        }

        func run() async throws {
            let store = try await data.store()
            if let id {
                let given = CredentialRecord.id(given: id)
                // Revoking twice keeps the first time; say so rather than look like a new revocation.
                let before = try await store.credential(id: given)?.revokedAt
                let revoked = try await store.revokeCredential(id: given)
                let what = "\(revoked.kind.rawValue) \(revoked.id) of \(revoked.holder)\(revoked.label.map { " (\($0))" } ?? "")"
                print(before.map { "\(what) was already revoked, at \(CredentialRecord.iso($0)); nothing changed" } ?? "revoked \(what)")
            } else if let given = serial, let normalised = CertificateSerial.normalised(given), let tenant {
                try await store.revokeCertificate(serial: normalised, tenant: tenant)
                print("revoked certificate serial \(normalised) in \(tenant)")
            }
        }
    }
}

extension TenantCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List tenants.")
        @OptionGroup var data: DataOptions
        func run() async throws {
            for tenant in try await data.store().tenants() { print(tenant) }
        }
    }
}

extension ClusterCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List clusters, as tenant/cluster, each followed by its region if it is in one.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this tenant's.") var tenant: String?
        @Flag(help: "Print JSON: {\"clusters\": [{tenant, cluster, region}]}, region null when none.") var json = false
        func run() async throws {
            let clusters = try await data.store().clusters(tenant: tenant)
            if json {
                print(JSONValue.object(["clusters": .array(clusters.map { c in
                    .object(["tenant": .string(c.tenant), "cluster": .string(c.cluster), "region": c.region.map(JSONValue.string) ?? .null])
                })]).canonicalText)
                return
            }
            for cluster in clusters { print("\(cluster)\(cluster.region.map { "  region \($0)" } ?? "")") }
        }
    }

    struct SetRegion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-region", abstract: "Put an existing cluster in a region (or, with --none, in none).",
            discussion: "A pcpg credential of the region covers the cluster from then on; one of its old region no longer does.")
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Argument(help: "The cluster.") var cluster: String
        @Argument(help: "The region, added first with `region add`.") var region: String?
        @Flag(help: "Take the cluster out of its region.") var none = false
        func validate() throws {
            if (region == nil) == !none { throw ValidationError("give a region, or --none to take the cluster out of its region") }
        }
        func run() async throws {
            try await data.store().setRegion(region, ofCluster: cluster, tenant: tenant)
            print(region.map { "cluster \(tenant)/\(cluster) is in region \($0)" } ?? "cluster \(tenant)/\(cluster) is in no region")
        }
    }
}

/// Regions: a tenant's clusters grouped by county, what one PCPG covers.
struct RegionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: "Regions of a tenant: its clusters grouped by county, what a pcpg credential covers.",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a region to a tenant; then `cluster add --region` or `cluster set-region` puts clusters in it.")
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Argument(help: "The region's name (e.g. conwy-denbighshire).") var name: String
        func run() async throws {
            try await data.store().addRegion(name, tenant: tenant)
            print("added region \(tenant)/\(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List regions and their clusters.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this tenant's.") var tenant: String?
        @Flag(help: "Print JSON: {\"regions\": [{tenant, region, clusters: [names]}]}.") var json = false
        func run() async throws {
            let regions = try await data.store().regions(tenant: tenant)
            if json {
                print(JSONValue.object(["regions": .array(regions.map { r in
                    .object(["tenant": .string(r.tenant), "region": .string(r.name), "clusters": .array(r.clusters.map(JSONValue.string))])
                })]).canonicalText)
                return
            }
            guard !regions.isEmpty else {
                print("no regions\(tenant.map { " in \($0)" } ?? "")")
                return
            }
            print(TextTable.render(["tenant", "region", "clusters"], regions.map { r in
                [r.tenant, r.name, r.clusters.isEmpty ? "(none yet)" : r.clusters.joined(separator: ", ")]
            }))
        }
    }
}

/// The session log for auditors.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the session log: who connected, from where, with which credential, and what was refused and why.",
        discussion: """
            Never shows a secret or record contents: credentials by id, refusals by wire code and message. \
            Entries are kept for audit.retentionDays (default 400) in the settings. Reads the store only; safe while the server runs.
            """)
    @OptionGroup var data: DataOptions
    @Option(help: "The tenant (Health Board). Without it: every tenant's, and connections whose tenant was unknown (an unknown token).") var tenant: String?
    @Option(help: "From this date (2026-11-01), time (2026-11-01T09:00:00Z) or this long ago (7d, 12h).") var since: String?
    @Option(help: "At most this many entries.") var limit = 10_000
    @Flag(help: "Print JSON: {\"entries\": [{at, event, tenant, cluster, practice, credential, peer, code, message}]}.") var json = false

    func validate() throws {
        if let since, TimeText.moment(since, now: 0) == nil {
            throw ValidationError("--since must be a date (2026-11-01), a time (2026-11-01T09:00:00Z) or a duration (7d, 12h, 30m); got \"\(since)\"")
        }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let from = since.flatMap { TimeText.moment($0, now: TimeText.now()) }
        let entries = try await data.store().audit(tenant: tenant, since: from, limit: limit)
        if json {
            func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
            print(JSONValue.object(["entries": .array(entries.map { e in
                .object([
                    "at": .string(CredentialRecord.iso(e.at)), "event": .string(e.event.rawValue), "tenant": text(e.tenant),
                    "cluster": text(e.cluster), "practice": text(e.practice), "credential": text(e.credential),
                    "peer": text(e.peer), "code": text(e.code), "message": text(e.message),
                ])
            })]).canonicalText)
            return
        }
        guard !entries.isEmpty else {
            print("no sessions logged\(tenant.map { " in \($0)" } ?? "")\(since.map { " since \($0)" } ?? "")")
            return
        }
        let rows = entries.map { e in
            [CredentialRecord.iso(e.at), e.event.rawValue,
             [e.tenant, e.cluster, e.practice].compactMap { $0 }.joined(separator: "/"),
             e.credential ?? "", e.peer ?? "", [e.code, e.message].compactMap { $0 }.joined(separator: ": ")]
        }
        print(TextTable.render(["at", "event", "practice", "credential", "peer", "refusal"], rows))
    }
}
