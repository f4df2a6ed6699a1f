import ClusterSyncCore
import Foundation

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
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }
}
