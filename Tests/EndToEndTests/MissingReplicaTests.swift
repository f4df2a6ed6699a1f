import Foundation
import Testing

/// Read commands on a path that holds no replica say so and create nothing; a failed `init`
/// leaves no file either.
@Suite struct MissingReplicaTests {
    let dir: URL
    let cli: CLI

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-missing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir)
    }

    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test(arguments: [
        ["risk", "list"], ["action", "list"], ["list", "show"], ["conflicts"], ["export"], ["export", "--format", "csv"],
        ["status"], ["show", "RSK-0000000001"], ["history", "RSK-0000000001"], ["risk", "show", "RSK-0000000001"],
        ["risk", "add", "title=Locum cover"], ["remote", "show"], ["sync"], ["merge", "--from", "other.sqlite"],
    ])
    func commandsRefuseAMissingReplica(_ command: [String]) async throws {
        let result = try await cli.run(command + ["--replica", "typo.sqlite"])
        #expect(result.status == 1, "\(command): \(result.stdout)")
        #expect(result.stderr.contains("no replica at typo.sqlite; run `clustersync init`"), "\(command): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(command): \(result.stdout)")
        #expect(try leftovers() == [], "\(command) left files behind")
    }

    /// A folder given as the replica is said to be one, for `init` and every other command (the
    /// CLI audit: "internal error: SQLite error 10: disk I/O error", exit 2).
    @Test func aFolderIsNotAReplica() async throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("registers"), withIntermediateDirectories: false)
        for command in [["status"], ["risk", "list"], ["init", "--tenant", "bcuhb", "--cluster", "north", "--practice", "rhyl", "--name", "Rhyl"]] {
            let result = try await cli.run(command + ["--replica", "registers"])
            #expect(result.status == 1 && result.stderr.contains("registers is a folder, not a replica file"), "\(command): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("registers").path) == [])
    }

    @Test func anEmptyFileIsNotAReplicaAndStaysUntouched() async throws {
        FileManager.default.createFile(atPath: dir.appendingPathComponent("empty.sqlite").path, contents: Data())
        let result = try await cli.run("risk", "list", "--replica", "empty.sqlite")
        #expect(result.status == 1)
        #expect(result.stderr.contains("no replica at empty.sqlite"), "\(result.stderr)")
        #expect(try leftovers() == ["empty.sqlite"])
        #expect(try Data(contentsOf: dir.appendingPathComponent("empty.sqlite")).isEmpty)
    }

    @Test func aFailedInitLeavesNoFile() async throws {
        let result = try await cli.run("init", "--replica", "new.sqlite", "--tenant", "bcuhb", "--cluster", "north denbighshire",
                                 "--practice", "prestatyn", "--name", "Manager")
        #expect(result.status == 1)
        #expect(result.stderr.contains("cluster name must be"), "\(result.stderr)")
        #expect(try leftovers() == [])
    }

    @Test func initTwiceKeepsTheFirstReplica() async throws {
        let first = try await cli.run("init", "--replica", "p.sqlite", "--tenant", "bcuhb", "--cluster", "nd", "--practice", "prestatyn", "--name", "M")
        #expect(first.status == 0)
        let second = try await cli.run("init", "--replica", "p.sqlite", "--tenant", "bcuhb", "--cluster", "nd", "--practice", "rhyl", "--name", "M")
        #expect(second.status == 1)
        #expect(second.stderr.contains("already initialised"), "\(second.stderr)")
        let status = try #require(try await cli.run("status", "--replica", "p.sqlite", "--json").json)
        #expect(status["practice"] == .string("prestatyn"))
        #expect(status["replica"]?.stringValue == first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
