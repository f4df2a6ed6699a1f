import ClusterSyncCore
import Foundation
import Testing

/// Deploy/README.md "Backup and restore" with the real binaries: `clustersyncd backup` of a
/// serving SQLite store, `clustersyncd restore` into a new data directory, a server started on
/// it at the old address, and replicas that sync through it.
@Suite(.serialized, .disabled(if: TestStorage.isPostgres, "backs up the SQLite store file (PostgreSQL: pg_dump)"), .teardown) struct BackupRestoreEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func admin(_ arguments: String...) async throws -> CLI.Result {
        let result = try await cli.run(arguments, binary: "clustersyncd")
        #expect(result.status == 0, "clustersyncd \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    /// `verify`'s count of a tenant's chained changes ("intact: N changes of T chained, ...").
    func chained(_ tenant: String, data: String) async throws -> Int? {
        let text = try await admin("verify", "--tenant", tenant, "--data", data).stdout
        guard text.hasPrefix("intact: ") else { return nil }
        return Int(text.dropFirst("intact: ".count).prefix { $0.isNumber })
    }

    /// The count of "pushed N changes" in a sync's output.
    func pushed(_ result: CLI.Result) -> Int? {
        result.stdout.components(separatedBy: "\n").first { $0.hasPrefix("pushed ") }
            .flatMap { Int($0.dropFirst("pushed ".count).prefix { $0.isNumber }) }
    }

    func export(_ replica: String) async throws -> String {
        let result = try await cli.run("export", "--replica", replica, "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    /// Another tenant's practice pushes in a loop while the backup is taken, so the backup is of
    /// a store being written; afterwards its tenant's chain in the backup must still be whole.
    func startBusyPractice(port: Int) async throws -> ChildProcess {
        let replica = try await base.makeReplica("llanishen", cluster: "cardiff-north", tenant: "cvuhb", certificate: false,
                                           server: Server(process: ChildProcess(), port: port))
        let bin = CLI.binDirectory.path
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", """
            for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
              "\(bin)/clustersync" risk add --replica \(replica) "title=Cardiff North risk $i" likelihood=2 consequence=3 category=workforce >/dev/null || exit 1
              "\(bin)/clustersync" sync --replica \(replica) >/dev/null || exit 1
            done
            """]
        process.currentDirectoryURL = base.dir
        try process.run()
        return process
    }

    /// A backup taken while the server serves, restored into a new data directory, serves a
    /// practice that had never synced (it receives every change once) and one that had (it
    /// carries on from its cursor, and what it pushes next reaches the other): the restored
    /// chain holds exactly the backup's changes plus the new ones, none twice, none missing.
    @Test func aBackupOfAServingStoreRestoresIntoANewDataDirectoryAndReplicasSyncFromIt() async throws {
        let first = try await base.makeServer()
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: first)
        let rhyl = try await base.makeReplica("rhyl", certificate: true, server: first)
        for n in 1...3 {
            _ = try await base.addRisk(prestatyn, "title=Locum cover \(n)", "likelihood=3", "consequence=4", "category=workforce")
        }
        _ = try await base.sync(prestatyn)
        let busy = try await startBusyPractice(port: first.port)

        let backup = try await admin("backup", "--data", "data", "--to", "backup.sqlite")
        await busy.exited()
        #expect(busy.terminationStatus == 0, "the practice pushing during the backup failed")
        let before = try #require(try await chained("bcuhb", data: "data"))
        #expect(backup.stdout.contains("bcuhb up to seq \(before)"), "\(backup.stdout)")
        let busyAtEnd = try #require(try await chained("cvuhb", data: "data"))
        #expect(await first.stop() == 0)

        // Restore into a new data directory with the old one's certificates.
        let restored = try await admin("restore", "--data", "restored", "--from", "backup.sqlite", "--certificates-from", "data")
        #expect(restored.stdout.contains("copied ca.pem, ca-key.pem, server.pem, server-key.pem"), "\(restored.stdout)")
        #expect(!restored.stdout.contains("has no ca.pem"))
        let keyMode = try FileManager.default.attributesOfItem(atPath: base.dir.appendingPathComponent("restored/server-key.pem").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        #expect(try await chained("bcuhb", data: "restored") == before)
        // The other tenant's pushes were under way: the backup holds a whole prefix of them.
        let busyInBackup = try #require(try await chained("cvuhb", data: "restored"))
        #expect(busyInBackup <= busyAtEnd)
        #expect(try await cli.run("restore", "--data", "restored", "--from", "backup.sqlite", binary: "clustersyncd").status == 1,
                "a second restore must refuse to overwrite the store")

        let second = try await Server.start(cli: cli, port: first.port, data: "restored")
        Teardown.add { await second.stop() }
        // rhyl never synced: it receives prestatyn's three risks, each once.
        let pulled = try await base.sync(rhyl)
        #expect(pulled.stdout.contains("pushed 0 changes"), "\(pulled.stdout)")
        #expect(try await export(rhyl) == (try await export(prestatyn)))
        // prestatyn meets a new store: it pushes its changes again (all already there) and
        // replays the stream; what it pushes now reaches rhyl.
        _ = try await base.addRisk(prestatyn, "title=Flu clinic staffing", "likelihood=4", "consequence=3", "category=workforce")
        let synced = try await base.sync(prestatyn)
        #expect(synced.stdout.contains("restored from a backup"), "\(synced.stdout)")
        let count = try #require(pushed(synced), "\(synced.stdout)")
        #expect(count > 0)
        _ = try await base.sync(rhyl)
        let shared = try await export(rhyl)
        #expect(try await shared == export(prestatyn))
        #expect(shared.components(separatedBy: "\"title\":").count - 1 == 4, "rhyl must hold the four risks: \(shared)")
        #expect(try await chained("bcuhb", data: "restored") == before + count)
    }

    /// A restore rewinds the stream: what was pushed after the backup is gone from the server,
    /// and a replica that synced after it holds a cursor past the restored end. The restored
    /// store has a new identity (`welcome.store`), so each replica pushes its own changes again
    /// and replays the stream from its start: nothing acknowledged after the backup is lost, and
    /// the two practices end identical, each change once in the restored chain.
    @Test func aReplicaThatSyncedAfterTheBackupPushesItsChangesAgainAndPullsFromTheStart() async throws {
        let first = try await base.makeServer()
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: first)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: first)
        _ = try await base.addRisk(prestatyn, "title=Locum cover", "likelihood=3", "consequence=4", "category=workforce")
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        _ = try await admin("backup", "--data", "data", "--to", "backup.sqlite")
        let inBackup = try #require(try await chained("bcuhb", data: "data"))
        // After the backup: prestatyn's new risk is acknowledged (its outbox is empty), and rhyl
        // pulls it, so rhyl's cursor is past what the backup holds.
        _ = try await base.addRisk(prestatyn, "title=Flu clinic staffing", "likelihood=4", "consequence=3", "category=workforce")
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        let acknowledged = try #require(try await chained("bcuhb", data: "data"))
        #expect(acknowledged > inBackup)
        let status = try await cli.run("status", "--replica", prestatyn, "--json").stdout
        #expect(status.contains("\"pending\":0"), "prestatyn's outbox must be empty: \(status)")
        #expect(await first.stop() == 0)

        _ = try await admin("restore", "--data", "restored", "--from", "backup.sqlite", "--certificates-from", "data")
        let second = try await Server.start(cli: cli, port: first.port, data: "restored")
        Teardown.add { await second.stop() }
        // rhyl edits first: its cursor is past the restored end, yet its new risk is pushed and it
        // replays the stream (without the store identity it would be refused as "not a cursor
        // this server issued", and later skip changes).
        _ = try await base.addRisk(rhyl, "title=Estates: damp in the treatment room", "likelihood=2", "consequence=3", "category=estates")
        let rhylSync = try await base.sync(rhyl)
        #expect(rhylSync.stdout.contains("the server's store is not the one this replica last synced with"), "\(rhylSync.stdout)")
        // prestatyn pushes again the risk the restore lost, and receives rhyl's.
        let prestatynSync = try await base.sync(prestatyn)
        #expect(prestatynSync.stdout.contains("restored from a backup"), "\(prestatynSync.stdout)")
        _ = try await base.sync(rhyl)
        let shared = try await export(rhyl)
        #expect(try await shared == export(prestatyn))
        for title in ["Locum cover", "Flu clinic staffing", "Estates: damp in the treatment room"] {
            #expect(shared.contains(title), "\(title) is missing after the restore: \(shared)")
        }
        // Each change once: what the backup held, the lost risk pushed again, rhyl's new one.
        let rhylPushed = try #require(pushed(rhylSync), "\(rhylSync.stdout)")
        #expect(pushed(prestatynSync) == acknowledged - inBackup, "prestatyn pushes exactly what the restore lost: \(prestatynSync.stdout)")
        #expect(try await chained("bcuhb", data: "restored") == inBackup + (acknowledged - inBackup) + rhylPushed)
        // A later sync is an ordinary one: nothing pushed again, nothing said.
        let quiet = try await base.sync(prestatyn)
        #expect(quiet.stdout.hasPrefix("pushed 0 changes, pulled 0"), "\(quiet.stdout)")
    }

    /// `backup` refuses to overwrite a file and says so; `restore` refuses a file that is not a
    /// server store, naming it, and leaves no store behind.
    @Test func backupAndRestoreRefuseWhatWouldLoseData() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        _ = try await admin("backup", "--data", "data", "--to", "one.sqlite")
        let again = try await cli.run("backup", "--data", "data", "--to", "one.sqlite", binary: "clustersyncd")
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"), "\(again.stderr)")
        try Data("not a store".utf8).write(to: base.dir.appendingPathComponent("junk.sqlite"))
        let junk = try await cli.run("restore", "--data", "elsewhere", "--from", "junk.sqlite", binary: "clustersyncd")
        #expect(junk.status == 1)
        #expect(junk.stderr.contains("junk.sqlite"), "\(junk.stderr)")
        #expect(!FileManager.default.fileExists(atPath: base.dir.appendingPathComponent("elsewhere/clustersyncd.sqlite").path))
        // Without the certificates, restore says what is still to do.
        let bare = try await admin("restore", "--data", "bare", "--from", "one.sqlite")
        #expect(bare.stdout.contains("has no ca.pem yet"), "\(bare.stdout)")
        let live = try await cli.run("restore", "--data", "data", "--from", "one.sqlite", binary: "clustersyncd")
        #expect(live.status == 1)
        #expect(live.stderr.contains("already exists"), "\(live.stderr)")
        // With the store in PostgreSQL, the data directory's SQLite file is not the store.
        var postgres = cli
        postgres.environment["CLUSTERSYNCD_STORAGE"] = "postgres"
        let elsewhere = try await postgres.run(["backup", "--data", "data", "--to", "two.sqlite"], binary: "clustersyncd")
        #expect(elsewhere.status == 1)
        #expect(elsewhere.stderr.contains("postgres-backup.sh"), "\(elsewhere.stderr)")
        #expect(!FileManager.default.fileExists(atPath: base.dir.appendingPathComponent("two.sqlite").path))
    }
}
