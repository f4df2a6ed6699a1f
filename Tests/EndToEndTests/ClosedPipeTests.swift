import Foundation
import Testing

/// Output to a pipe whose reader has gone (`clustersync risk list | head -1`) ends the CLI
/// quietly with SIGPIPE's status, as a Unix tool ends: the write trapped before, printing a
/// backtrace (the CLI audit).
@Suite struct ClosedPipeTests {
    @Test func aListPipedIntoHeadEndsQuietly() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = CLI(directory: dir)
        #expect(try await cli.run("init", "--tenant", "bcuhb", "--cluster", "north", "--practice", "rhyl", "--name", "Rhyl").status == 0)
        // More than a pipe holds (64 KiB), so the CLI is still writing when `head` has gone.
        let rows = (1...2_000).map { "Locum cover gap \($0) at the branch surgery over the winter months,workforce" }
        try ("title,category\n" + rows.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("risks.csv"), atomically: true, encoding: .utf8)
        #expect(try await cli.run("import", "risks.csv", "--type", "risk").status == 0)

        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.currentDirectoryURL = dir
        let binary = CLI.binDirectory.appendingPathComponent("clustersync").path
        // SIGPIPE ignored, as it is once SwiftNIO has started in the process (`history` asking
        // the server): the write then fails, rather than the signal ending the process.
        shell.arguments = ["-c", "trap '' PIPE; \"$0\" risk list 2>stderr.txt | head -c 100 >/dev/null; echo \"${PIPESTATUS[0]}\"", binary]
        let out = Pipe()
        shell.standardOutput = out
        try shell.run()
        let status = String(decoding: try out.fileHandleForReading.readToEnd() ?? Data(), as: UTF8.self)
        shell.waitUntilExit()
        let stderr = try String(contentsOf: dir.appendingPathComponent("stderr.txt"), encoding: .utf8)
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "141" && stderr.isEmpty, "status \(status), stderr: \(stderr.prefix(300))")
    }
}
