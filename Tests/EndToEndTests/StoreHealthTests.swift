import ClusterSyncCore
import Foundation
import Testing

/// A server whose store cannot be written says so: pushes get `store-unavailable`, which the
/// client shows in plain words with exit 1 (instead of "send it again" for ever), and
/// `clustersyncd health` exits 1 naming the file.
@Suite(.serialized) struct StoreHealthTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func daemon(_ arguments: String...) throws -> CLI.Result {
        try cli.run(arguments, binary: "clustersyncd")
    }

    /// Makes the files unwritable for this process, and returns how to undo it. Tests run as
    /// root, which `chmod` does not stop: then the immutable attribute (`chattr +i`), which
    /// refuses writes even through descriptors already open, as a read-only remount would.
    func makeUnwritable(_ paths: [String]) throws -> () -> Void {
        func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        if getuid() == 0 {
            #expect(try run("/usr/bin/chattr", ["+i"] + paths) == 0, "chattr +i is needed to make a file read-only for root")
            return { _ = try? run("/usr/bin/chattr", ["-i"] + paths) }
        }
        for path in paths { chmod(path, 0o444) }
        return { for path in paths { chmod(path, 0o644) } }
    }

    @Test func aHealthyServerSaysOK() throws {
        let server = try base.makeServer()
        defer { server.stop() }
        let health = try daemon("health", "--data", "data")
        #expect(health.status == 0, "\(health.stdout) \(health.stderr)")
        #expect(health.stdout.contains("OK      store"), "\(health.stdout)")
        let json = try #require(try daemon("health", "--data", "data", "--json").json)
        #expect(json["ok"] == .bool(true))
        // No data directory at all is named too.
        let missing = try daemon("health", "--data", "nowhere")
        #expect(missing.status == 1 && missing.stdout.contains("no data directory at nowhere"), "\(missing.stdout)")
    }

    @Test(.disabled(if: TestStorage.isPostgres, "makes the SQLite store file read-only"))
    func aStoreThatCannotBeWrittenAnswersPushesWithStoreUnavailableAndHealthNamesIt() throws {
        let server = try base.makeServer()
        defer { server.stop() }
        let rhyl = try base.makeReplica("rhyl", certificate: false, server: server)
        _ = try base.addRisk(rhyl, "title=Estates lease")
        _ = try base.sync(rhyl)
        _ = try base.addRisk(rhyl, "title=Locum cover")
        let pending = try #require(try cli.run("status", "--replica", rhyl, "--json").json?["pending"])
        #expect(pending != .int(0))

        let store = base.dir.appendingPathComponent("data/clustersyncd.sqlite").path
        let files = [store, store + "-wal", store + "-shm"].filter { FileManager.default.fileExists(atPath: $0) }
        let undo = try makeUnwritable(files)
        defer { undo() }
        let fd = open(store + "-wal", O_WRONLY)
        #expect(fd < 0, "the store's write-ahead log is still writable")
        if fd >= 0 { close(fd) }

        let sync = try cli.run("sync", "--replica", rhyl)
        #expect(sync.status == 1, "\(sync.stdout) \(sync.stderr)")
        #expect(sync.stderr.contains("(store-unavailable)"), "\(sync.stderr)")
        #expect(sync.stderr.contains("cannot save changes") && sync.stderr.contains("Nothing is lost"), "\(sync.stderr)")
        // The change is still waiting in the replica.
        #expect(try cli.run("status", "--replica", rhyl, "--json").json?["pending"] == pending)

        let health = try daemon("health", "--data", "data")
        #expect(health.status == 1, "\(health.stdout)")
        #expect(health.stdout.contains("PROBLEM store") && health.stdout.contains("clustersyncd.sqlite"), "\(health.stdout)")
        #expect(health.stderr.contains("not healthy"), "\(health.stderr)")
        let json = try #require(try daemon("health", "--data", "data", "--json").json)
        #expect(json["ok"] == .bool(false))

        // Once an operator has fixed it, the next sync goes through without a restart.
        undo()
        let again = try cli.run("sync", "--replica", rhyl)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try cli.run("status", "--replica", rhyl, "--json").json?["pending"] == .int(0))
    }
}
