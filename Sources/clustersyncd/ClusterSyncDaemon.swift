import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncTLS
import Foundation
import Logging

@main
struct ClusterSyncDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustersyncd",
        abstract: "The ClusterSync server: practices of a Health Board sync their cluster registers through it.",
        discussion: "Exit codes: 0 ok, 1 user error, 2 internal error. The data directory is --data, else $CLUSTERSYNCD_DATA, else ./clustersync-data.",
        subcommands: [InitCommand.self, TenantCommand.self, RegionCommand.self, ClusterCommand.self, PracticeCommand.self, CredentialCommand.self, ReplicaCommand.self, AuditCommand.self, ConflictsCommand.self, VerifyCommand.self, CompactCommand.self, ServeCommand.self, HealthCommand.self, BackupCommand.self, RestoreCommand.self, MigrateCommand.self, CopyToPostgresCommand.self]
    )

    static func main() async {
        await CommandLineMain.run(Self.self, name: "clustersyncd", userMessage: { ($0 as? ClusterSyncTLSError)?.message })
        // A command that used PostgreSQL closes its connections before the process ends.
        await PostgresServerStore.shutDownStarted()
    }
}

struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data directory.", valueName: "dir"))
    var data: String?
    @Option(help: "A JSON settings file (default $CLUSTERSYNCD_CONFIG, else DATA/clustersyncd.json if present): where the store is (storage, postgres.url-file), limits, expiry.")
    var config: String?

    var directory: DataDirectory {
        DataDirectory(path: data ?? ProcessInfo.processInfo.environment["CLUSTERSYNCD_DATA"] ?? "clustersync-data")
    }

    /// The store the settings name (`storage`: the data directory's SQLite file, or PostgreSQL;
    /// DATA/clustersyncd.json and CLUSTERSYNCD_* variables), open and migrated.
    func store() async throws -> any OperatedStore {
        let dir = directory
        guard dir.isInitialised else {
            throw ClusterSyncError(.notInitialised, "\(dir.path) is not a ClusterSync data directory; run `clustersyncd init --data \(dir.path)` first")
        }
        let store = try await settings(config: config).store.open(dir, logger: Logger(label: "clustersyncd"))
        if let postgres = store as? PostgresServerStore {
            await postgres.start()
            try await postgres.migrate()
        }
        return store
    }
}

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a data directory with a development CA, a server certificate and an empty store.")

    @OptionGroup var data: DataOptions
    @Option(name: .customLong("hostname"), help: "A further name or address the server certificate is valid for (localhost and 127.0.0.1 always are).")
    var hostnames: [String] = []

    func run() async throws {
        let dir = data.directory
        try dir.initialise(hostnames: hostnames)
        print("initialised \(dir.path): CA \(dir.caCertificate), server certificate \(dir.serverCertificate)")
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Tenants: one per Health Board.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a tenant.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The tenant's name (e.g. bcuhb).") var name: String
        func run() async throws {
            try await data.store().addTenant(name)
            print("added tenant \(name)")
        }
    }
}

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "Clusters of a tenant.", subcommands: [Add.self, List.self, SetRegion.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a cluster to a tenant.")
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The region (county) it is in, added first with `region add`; its PCPG's credential covers it.") var region: String?
        @Argument(help: "The cluster's name (e.g. north-denbighshire).") var name: String
        func run() async throws {
            try await data.store().addCluster(name, tenant: tenant, region: region)
            print("added cluster \(tenant)/\(name)\(region.map { " in region \($0)" } ?? "")")
        }
    }
}

struct PracticeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "practice", abstract: "Practices of a cluster (GP practices, community pharmacies, dental and optometry practices, teams).",
        subcommands: [Add.self, SetKind.self, List.self])

    static let kindHelp = ArgumentHelp(
        "What kind of practice: \(PracticeKind.allSpellings). Only a gp practice owes the GP Collaborative's attendance "
        + "(CND014W) and a contribution to the cluster plan (CND015W/016W) in the roll-ups.")

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a practice to a cluster.")
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The cluster.") var cluster: String
        @Option(help: kindHelp) var kind: String = PracticeKind.gp.rawValue
        @Argument(help: "The practice's name (e.g. prestatyn).") var name: String
        func run() async throws {
            let kind = try PracticeKind.parse(kind)
            try await data.store().addPractice(name, cluster: cluster, tenant: tenant, kind: kind)
            print("added practice \(tenant)/\(cluster)/\(name) (\(kind))")
        }
    }

    struct SetKind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-kind", abstract: "Say what kind of practice a registered one is.")
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The cluster.") var cluster: String
        @Argument(help: "The practice's name.") var name: String
        @Argument(help: kindHelp) var kind: String
        func run() async throws {
            let kind = try PracticeKind.parse(kind)
            let path = PracticePath(tenant: tenant, cluster: cluster, practice: name)
            try await data.store().setKind(kind, of: path)
            print("practice \(path) is \(kind)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List practices: tenant/cluster/practice and kind.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this tenant's.") var tenant: String?
        func run() async throws {
            for practice in try await data.store().practices(tenant: tenant) { print(practice) }
        }
    }
}

struct CredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "credential", abstract: "Credentials of practices: issue, list, revoke.", subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue",
            abstract: "Issue a bearer token (printed once) or a client certificate for one practice, a region's PCPG or a Health Board.",
            discussion: """
                Roles: practice (the default) and cluster-lead (a practice's credential with the cluster lead's powers) need \
                --cluster and --practice; pcpg (read-only, one region) needs --region; health-board (read-only, the whole tenant) \
                needs only --tenant. pcpg and health-board credentials are tokens. \
                Without --expires it lasts credentials.defaultExpiryDays from the settings (default 365; 0: no expiry).
                """)
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The cluster (practice and cluster-lead).") var cluster: String?
        @Option(help: "The practice (practice and cluster-lead).") var practice: String?
        @Option(help: "What it may do: \(CredentialRole.allSpellings) (default practice).") var role: String = CredentialRole.practice.rawValue
        @Option(help: "With --role pcpg: the region it reads (`region list` shows them).") var region: String?
        @Flag(help: "Issue a client certificate instead of a token.") var certificate = false
        @Option(help: "With --certificate: the folder to write practice.pem, practice-key.pem and ca.pem to.") var out: String?
        @Option(help: "With a token: whose it is (a person or a laptop); shown as the author of its changes.") var label: String?
        @Option(help: "How long it lasts: 1y, 90d, 12w, 24h, or never (default: the settings' credentials.defaultExpiryDays).") var expires: String?

        func validate() throws {
            if certificate, out == nil { throw ValidationError("--certificate needs --out DIR") }
            guard let parsed = CredentialRole(rawValue: role) else {
                throw ValidationError("--role must be one of \(CredentialRole.allSpellings); got \"\(role)\"")
            }
            if certificate, parsed.isReadOnly {
                throw ValidationError("a certificate names a practice, so a \(role) credential is a token: leave out --certificate")
            }
            // "3m" reads as three months to a person and as three minutes to `TimeText` (whose
            // minutes `audit --since 15m` wants): a credential dead within the hour was issued
            // without a word (README audit, forty-third session), so minutes are refused here.
            if let expires, expires != "never", TimeText.duration(expires) == nil || expires.hasSuffix("m") {
                throw ValidationError("--expires must be a duration such as 1y, 90d, 12w or 24h, or never (months: 90d; minutes are "
                    + "not a credential's life); got \"\(expires)\"")
            }
        }

        /// Refuses to issue a certificate from this data directory's CA when the server trusts
        /// another (`tls.clientCA`, a Health Board's own) or, on a node naming each tenant's CA
        /// (`tls.tenantClientCA`), names another for this tenant: the practice's first sync would
        /// fail at the handshake. Compared by content, not path: `tls.clientCA` may be a copy of
        /// `ca.pem`, or a bundle holding it beside another CA while one is rotated.
        func requireTrustedAuthority(tenant: String) async throws {
            let settings = try await data.settings(config: data.config)
            let authorities = try TenantAuthorities(entries: settings.tenantClientCA)
            if !authorities.isEmpty {
                let ours = try data.directory.authority().root.certificate
                guard authorities.names(ours, for: tenant) else {
                    let named = authorities.issuers[tenant] == nil ? "names no CA for tenant \(tenant)" : "names another CA for tenant \(tenant)"
                    throw ClusterSyncError(.invalidValue, """
                        the server \(named) (tls.tenantClientCA), not this data directory's CA \
                        (\(data.directory.caCertificate)), so a certificate issued here would be refused: sign the practice's \
                        request with that CA (Deploy/healthboard-pki.sh request, then sign), or issue a token (leave out --certificate)
                        """, field: "certificate")
                }
                return
            }
            let trusted = settings.clientCA
            func squeezed(_ path: String) -> String? { (try? String(contentsOfFile: path, encoding: .utf8))?.filter { !$0.isWhitespace } }
            guard let ours = squeezed(data.directory.caCertificate), let theirs = squeezed(trusted), theirs.contains(ours) else {
                throw ClusterSyncError(.invalidValue, """
                    the server trusts client certificates issued by \(trusted) (tls.clientCA), not by this data directory's CA \
                    (\(data.directory.caCertificate)), so a certificate issued here would be refused at the handshake: sign the \
                    practice's request with your CA (Deploy/healthboard-pki.sh request, then sign), or issue a token (leave out --certificate)
                    """, field: "certificate")
            }
        }

        /// When the new credential expires (ms since 1970), or nil for never.
        func expiry(now: Int64) async throws -> Int64? {
            if expires == "never" { return nil }
            if let expires, let duration = TimeText.duration(expires) { return now + duration }
            let days = try await data.settings(config: data.config).credentialDefaultExpiryDays
            return days > 0 ? now + Int64(days) * 86_400_000 : nil
        }

        func run() async throws {
            let store = try await data.store()
            let holder = try CredentialHolder(tenant: tenant, cluster: cluster, practice: practice,
                                              role: try CredentialRole.parse(role), region: region)
            if let path = holder.practicePath, !(try await store.isRegistered(path)) {
                throw RegisteredPractice.unknown(path)
            }
            if certificate, let path = holder.practicePath { try await requireTrustedAuthority(tenant: path.tenant) }
            let expiresAt = try await expiry(now: TimeText.now())
            guard certificate, let out, let path = holder.practicePath else {
                let token = try await store.issueToken(for: holder, label: label, expiresAt: expiresAt)
                print(token)
                return
            }
            let practice = path.practice
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let issued = try data.directory.authority().issueClientCertificate(
                for: CertificateIdentity(tenant: path.tenant, cluster: path.cluster, practice: practice),
                until: expiresAt.map { Date(timeIntervalSince1970: Double($0) / 1000) })
            let serial = CertificateSerial.hex(issued.certificate.serialNumber.bytes)
            let notAfter = Int64(issued.certificate.notValidAfter.timeIntervalSince1970 * 1000)
            let dir = URL(fileURLWithPath: out)
            let certificateFile = dir.appendingPathComponent("\(practice).pem").path
            let keyFile = dir.appendingPathComponent("\(practice)-key.pem").path
            // The files first, then the record: a credential the store knows but whose key was
            // never saved would be live with nobody holding it.
            try issued.write(certificateTo: certificateFile, privateKeyTo: keyFile)
            let id: String
            do {
                id = try await store.recordCertificate(serial: serial, for: path, role: holder.role, label: label, expiresAt: notAfter)
            } catch {
                try? FileManager.default.removeItem(atPath: certificateFile)
                try? FileManager.default.removeItem(atPath: keyFile)
                throw error
            }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("ca.pem"))
            try FileManager.default.copyItem(atPath: data.directory.caCertificate, toPath: dir.appendingPathComponent("ca.pem").path)
            print("wrote \(out)/\(practice).pem, \(out)/\(practice)-key.pem and \(out)/ca.pem (credential \(id), serial \(serial), expires \(CredentialRecord.iso(notAfter)))")
        }
    }
}
