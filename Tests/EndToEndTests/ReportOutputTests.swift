import Foundation
import Testing

/// `report --html` writes its file, and replaces an earlier report, but never the replica nor
/// any file that is not HTML: `--html` naming the replica overwrote it, with every change not
/// yet synced.
@Suite struct ReportOutputTests {
    let dir: URL
    let cli: CLI

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir)
    }

    @Test func aReportReplacesAnEarlierReportButNeverTheReplicaOrAnotherFile() async throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await cli.run("init", "--replica", "lead.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                  "--practice", "prestatyn", "--name", "Dr Siân Evans").status == 0)
        #expect(try await cli.run("risk", "add", "--replica", "lead.sqlite", "title=Locum cover").status == 0)

        for target in ["lead.sqlite", "./lead.sqlite", "lead.sqlite-wal"] {
            let refused = try await cli.run("report", "--replica", "lead.sqlite", "--html", target)
            #expect(refused.status == 1 && refused.stderr.contains("--html names the replica file"), "\(target): \(refused.stderr)")
        }
        let kept = try await cli.run("risk", "list", "--replica", "lead.sqlite")
        #expect(kept.status == 0 && kept.stdout.contains("Locum cover"), "\(kept.stderr)")

        try "minutes of the board\n".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let notes = try await cli.run("report", "--replica", "lead.sqlite", "--html", "notes.txt")
        #expect(notes.status == 1 && notes.stderr.contains("notes.txt exists and is not an HTML file"), "\(notes.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("notes.txt"), encoding: .utf8) == "minutes of the board\n")

        for _ in 1...2 {
            let written = try await cli.run("report", "--replica", "lead.sqlite", "--html", "report.html")
            #expect(written.status == 0 && written.stdout.hasPrefix("wrote report.html"), "\(written.stderr)")
        }
        #expect(try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8).lowercased().hasPrefix("<!doctype html"))
    }
}
