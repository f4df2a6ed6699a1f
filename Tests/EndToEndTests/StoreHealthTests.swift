import ClusterSyncCore
import Foundation
import Testing

/// A server whose store cannot be written says so: pushes get `store-unavailable`, which the
/// client shows in plain words with exit 1 (instead of "send it again" for ever), and
/// `clustersyncd health` exits 1 naming the file.
@Suite(.serialized, .teardown) struct StoreHealthTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func daemon(_ arguments: String...) async throws -> CLI.Result {
        try await cli.run(arguments, binary: "clustersyncd")
    }

    /// Makes the files unwritable for this process, and returns how to undo it. Tests run as
    /// root, which `chmod` does not stop: then the immutable attribute (`chattr +i`), which
    /// refuses writes even through descriptors already open, as a read-only remount would.
    func makeUnwritable(_ paths: [String]) async throws -> @Sendable () async -> Void {
        @Sendable func run(_ tool: String, _ arguments: [String]) async throws -> Int32 {
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            return try await process.runToExit()
        }
        if getuid() == 0 {
            #expect(try await run("/usr/bin/chattr", ["+i"] + paths) == 0, "chattr +i is needed to make a file read-only for root")
            return { _ = try? await run("/usr/bin/chattr", ["-i"] + paths) }
        }
        for path in paths { chmod(path, 0o444) }
        return { for path in paths { chmod(path, 0o644) } }
    }

    @Test func aHealthyServerSaysOK() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let health = try await daemon("health", "--data", "data")
        #expect(health.status == 0, "\(health.stdout) \(health.stderr)")
        #expect(health.stdout.contains("OK      store"), "\(health.stdout)")
        let json = try #require(try await daemon("health", "--data", "data", "--json").json)
        #expect(json["ok"] == .bool(true))
        // No data directory at all is named too.
        let missing = try await daemon("health", "--data", "nowhere")
        #expect(missing.status == 1 && missing.stdout.contains("no data directory at nowhere"), "\(missing.stdout)")
    }

    @Test(.disabled(if: TestStorage.isPostgres, "makes the SQLite store file read-only"))
    func aStoreThatCannotBeWrittenAnswersPushesWithStoreUnavailableAndHealthNamesIt() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.addRisk(rhyl, "title=Estates lease")
        _ = try await base.sync(rhyl)
        _ = try await base.addRisk(rhyl, "title=Locum cover")
        let pending = try #require(try await cli.run("status", "--replica", rhyl, "--json").json?["pending"])
        #expect(pending != .int(0))

        let store = base.dir.appendingPathComponent("data/clustersyncd.sqlite").path
        let files = [store, store + "-wal", store + "-shm"].filter { FileManager.default.fileExists(atPath: $0) }
        let undo = try await makeUnwritable(files)
        Teardown.add { await undo() }
        let fd = open(store + "-wal", O_WRONLY)
        #expect(fd < 0, "the store's write-ahead log is still writable")
        if fd >= 0 { close(fd) }

        let sync = try await cli.run("sync", "--replica", rhyl)
        #expect(sync.status == 1, "\(sync.stdout) \(sync.stderr)")
        #expect(sync.stderr.contains("(store-unavailable)"), "\(sync.stderr)")
        #expect(sync.stderr.contains("cannot save changes") && sync.stderr.contains("Nothing is lost"), "\(sync.stderr)")
        // The change is still waiting in the replica.
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["pending"] == pending)

        let health = try await daemon("health", "--data", "data")
        #expect(health.status == 1, "\(health.stdout)")
        #expect(health.stdout.contains("PROBLEM store") && health.stdout.contains("clustersyncd.sqlite"), "\(health.stdout)")
        #expect(health.stderr.contains("not healthy"), "\(health.stderr)")
        let json = try #require(try await daemon("health", "--data", "data", "--json").json)
        #expect(json["ok"] == .bool(false))

        // Once an operator has fixed it, the next sync goes through without a restart.
        await undo()
        let again = try await cli.run("sync", "--replica", rhyl)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["pending"] == .int(0))
    }
}
