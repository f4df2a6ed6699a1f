import ClusterSyncCore
import Foundation
import Synchronization

/// Runs the built `clustersync` binary, as a person or a script would.
struct CLI {
    /// The folder holding the built executables: beside the test bundle, where SwiftPM puts every
    /// product of the build; `CLUSTERSYNC_BIN_DIR` overrides it.
    static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["CLUSTERSYNC_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !dir.path.hasSuffix("debug") && !dir.path.hasSuffix("release") && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: JSONValue? { try? JSONValue(parsing: stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    let directory: URL
    var environment: [String: String] = [:]

    @discardableResult
    func run(_ arguments: [String], binary: String = "clustersync") throws -> Result {
        let process = try start(arguments, binary: binary)
        let out = Pipe(), err = Pipe()
        _ = (out, err)
        process.waitUntilExit()
        let stdout = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        let stderr = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    func run(_ arguments: String..., binary: String = "clustersync") throws -> Result {
        try run(arguments, binary: binary)
    }

    /// Starts the binary without waiting; output goes to pipes read after it exits (keep it small).
    func start(_ arguments: [String], binary: String = "clustersync") throws -> Process {
        let process = Process()
        process.executableURL = CLI.binDirectory.appendingPathComponent(binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        if binary == "clustersyncd", environment["CLUSTERSYNCD_STORAGE"] == nil, let postgres = try TestStorage.postgresURL(for: directory) {
            env["CLUSTERSYNCD_STORAGE"] = "postgres"
            env["CLUSTERSYNCD_POSTGRES_URL"] = postgres
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }
}

/// Which store the servers of the end-to-end tests use: SQLite, or PostgreSQL when
/// `CLUSTERSYNC_TEST_STORAGE=postgres` (Tests/run's second pass). Then each test folder's servers
/// share one new database on `CLUSTERSYNC_TEST_POSTGRES_URL`'s server, made with psql.
enum TestStorage {
    static let environment = ProcessInfo.processInfo.environment
    static let isPostgres = environment["CLUSTERSYNC_TEST_STORAGE"] == "postgres"
    private static let made = Mutex<[String: String]>([:])

    /// The URL of the database for the servers run from `directory`; nil when testing SQLite.
    static func postgresURL(for directory: URL) throws -> String? {
        guard isPostgres else { return nil }
        return try made.withLock { made in
            if let known = made[directory.path] { return known }
            let url = try newDatabaseURL()
            made[directory.path] = url
            return url
        }
    }

    /// Whether a PostgreSQL server is there for tests; under CI it must be.
    static var hasPostgres: Bool { environment["CLUSTERSYNC_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false }
    static let isCI = ["1", "true", "yes"].contains((environment["CI"] ?? "").lowercased())

    /// A new empty database on the test server, its URL.
    static func newDatabaseURL() throws -> String {
        guard let server = environment["CLUSTERSYNC_TEST_POSTGRES_URL"], let url = URLComponents(string: server) else {
            throw ClusterSyncError(.invalidValue, "these tests need CLUSTERSYNC_TEST_POSTGRES_URL: run them through Tests/run, or eval \"$(Tests/postgres-up)\" first")
        }
        let name = "cs_e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try createDatabase(name, server: server)
        var database = url
        database.path = "/" + name
        return database.string!
    }

    static func createDatabase(_ name: String, server: String) throws {
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", "-q", "-v", "ON_ERROR_STOP=1", server, "-c", "CREATE DATABASE \(name)"]
        psql.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        psql.standardError = errors
        try psql.run()
        psql.waitUntilExit()
        guard psql.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw ClusterSyncError(.internal, "psql could not create the test database \(name): \(text)")
        }
    }
}
