import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncCore
import ClusterSyncServer

/// Replicas whose keys the server registered: list them, retire a lost laptop's.
struct ReplicaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica", abstract: "Replicas registered here (a practice's laptops): list them, retire a lost one.",
        discussion: """
            A retired replica's hello is refused, and so is every change in its name the server does not hold yet, \
            whoever sends it (another practice's laptop that merged the lost one's file included): anyone holding the \
            file can sign in its name, and revoking the credential stops only that credential. Retire it and revoke \
            the credential it used. Retirement cannot be undone (others may then write over the changes it never synced): \
            a laptop found again makes a new replica.
            """,
        subcommands: [List.self, Retire.self])

    struct Target: ParsableArguments {
        @Argument(help: "The replica's id, as `replica list` shows it.") var replica: String
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "The cluster, when the id is registered in more than one of the tenant's.") var cluster: String?

        func replicaID() throws -> ReplicaID {
            guard let id = ReplicaID(replica) else { throw ValidationError("\"\(replica)\" is not a replica id; `replica list` shows them") }
            return id
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List a tenant's registered replicas: whose each is, when registered, changes stored, retired.",
            discussion: "Reads the store only; safe while the server runs.")
        @OptionGroup var data: DataOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "Only this cluster's.") var cluster: String?
        @Flag(help: "Print JSON: {\"replicas\": [{replica, tenant, cluster, practice, person, registered, changesStored, lastCounter, retired}]}, times ISO 8601 UTC or null.") var json = false

        func run() async throws {
            let replicas = try await data.store().registeredReplicas(tenant: tenant, cluster: cluster)
            if json {
                print(JSONValue.object(["replicas": .array(replicas.map(ReplicaCommand.json))]).canonicalText)
                return
            }
            guard !replicas.isEmpty else {
                print("no replicas registered in \(tenant)\(cluster.map { "/\($0)" } ?? "")")
                return
            }
            print(TextTable.render(["replica", "cluster", "practice", "person", "registered", "changes", "retired"], replicas.map { r in
                [r.registration.replica.rawValue, r.cluster, r.registration.practice, r.registration.person,
                 CredentialCommand.List.day(r.registration.registeredAt), "\(r.changesStored)",
                 r.registration.retiredAt.map(CredentialCommand.List.day) ?? "no"]
            }))
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire", abstract: "Retire a replica (its laptop lost, its file copied): it syncs no more, and no new change in its name is taken.",
            discussion: "Takes effect at the replica's next hello and at every push, open sessions included. It cannot be undone: a laptop found again makes a new replica (`clustersync init`).")
        @OptionGroup var data: DataOptions
        @OptionGroup var target: Target

        func run() async throws {
            let store = try await data.store()
            let id = try target.replicaID()
            let before = try await store.registeredReplicas(tenant: target.tenant, cluster: target.cluster)
                .first { $0.registration.replica == id }?.registration.retiredAt
            let now = try await store.retireReplica(id, tenant: target.tenant, cluster: target.cluster, at: TimeText.now())
            let what = ReplicaCommand.describe(now)
            print(before.map { "\(what) was already retired, on \(CredentialCommand.List.day($0)); nothing changed" }
                ?? "retired \(what); revoke the credential it used too (`credential list`, `credential revoke`)")
        }
    }

    static func describe(_ r: RegisteredReplica) -> String {
        "replica \(r.registration.replica) of \(r.tenant)/\(r.cluster)/\(r.registration.practice) (\(r.registration.person))"
    }

    static func json(_ r: RegisteredReplica) -> JSONValue {
        func time(_ millis: Int64?) -> JSONValue { millis.map { .string(CredentialRecord.iso($0)) } ?? .null }
        return .object([
            "replica": .string(r.registration.replica.rawValue), "tenant": .string(r.tenant), "cluster": .string(r.cluster),
            "practice": .string(r.registration.practice), "person": .string(r.registration.person),
            "registered": time(r.registration.registeredAt), "changesStored": .int(Int64(r.changesStored)),
            "lastCounter": r.lastCounter.map(JSONValue.int) ?? .null, "retired": time(r.registration.retiredAt),
        ])
    }
}
