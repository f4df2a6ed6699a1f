import ClusterSyncCore
import Foundation
import Testing

/// Progress and summaries of long syncs and merges, through the real binaries (issue 12 item 5).
/// The tests' stderr is a pipe, so progress comes as plain lines; `--progress-every 0` prints one
/// at every report, which makes them countable without timing anything.
@Suite(.serialized, .teardown) struct ProgressEndToEndTests {
    let sync: SyncEndToEndTests
    var cli: CLI { sync.cli }

    init() throws { sync = try SyncEndToEndTests() }

    /// `count` risks imported from a spreadsheet into `file` (several changes each).
    func importRisks(_ count: Int, into file: String) async throws {
        let csv = RiskRows.csv(count)
        try csv.write(to: cli.directory.appendingPathComponent("risks-\(file).csv"), atomically: true, encoding: .utf8)
        let result = try await cli.run("import", "--replica", file, "--format", "csv", "--type", "risk", "risks-\(file).csv")
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func aLongSyncPrintsProgressLinesAndAJSONSummary() async throws {
        let server = try await sync.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await sync.makeReplica("prestatyn", certificate: false, server: server)
        let rhyl = try await sync.makeReplica("rhyl", certificate: false, server: server)
        try await importRisks(1_500, into: prestatyn)
        let pending = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"]?.intValue)
        #expect(pending > 3_000)

        let pushed = try await cli.run("sync", "--replica", prestatyn, "--json", "--progress-every", "0")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let summary = try #require(pushed.json, "stdout is one JSON object: \(pushed.stdout)")
        #expect(summary["pushed"]?.intValue == pending)
        #expect(summary["duplicates"]?.intValue == 0)
        #expect(summary["author"]?.stringValue != nil)
        #expect(summary["heldBack"]?.intValue == 0)
        #expect(try Self.isISO8601(#require(summary["finishedAt"]?.stringValue)))
        // Not a terminal: plain lines (no carriage returns), the total of the push known.
        #expect(!pushed.stderr.contains("\r") && !pushed.stderr.contains("\u{1B}"))
        let pushLines = pushed.stderr.split(separator: "\n").filter { $0.hasPrefix("pushed ") }
        #expect(pushLines.count >= 2, "\(pushed.stderr)")
        #expect(pushLines.last?.hasPrefix("pushed \(ProgressLineText.grouped(Int(pending))) of \(ProgressLineText.grouped(Int(pending)))") == true,
                "\(pushed.stderr)")
        #expect(pushLines.allSatisfy { $0.contains(" of \(ProgressLineText.grouped(Int(pending)))") })

        // The other practice's first pull: counts grow, no total (the server does not say it).
        let pulled = try await cli.run("sync", "--replica", rhyl, "--json", "--progress-every", "0")
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.json?["pulled"]?.intValue == pending)
        let pullLines = pulled.stderr.split(separator: "\n").filter { $0.hasPrefix("pulled ") }
        #expect(pullLines.count >= 2, "\(pulled.stderr)")
        #expect(pullLines.last?.hasPrefix("pulled \(ProgressLineText.grouped(Int(pending)))") == true, "\(pulled.stderr)")

        // A short sync stays quiet by default and prints its sentence.
        let quiet = try await cli.run("sync", "--replica", rhyl)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(quiet.stdout.hasPrefix("pushed 0 changes, pulled 0"))

        // status --json: times in ISO 8601 with the zone.
        let status = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        #expect(try Self.isISO8601(#require(status["lastSync"]?.stringValue)))
        #expect(status["pending"]?.intValue == 0)

        #expect(try await cli.run("sync", "--replica", rhyl, "--json", "--watch").status != 0, "--json and --watch do not go together")
    }

    @Test func aMergePrintsProgressAndAJSONSummary() async throws {
        func ok(_ arguments: String...) async throws {
            let result = try await cli.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        try await ok("init", "--replica", "a.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "prestatyn", "--name", "A")
        try await ok("init", "--replica", "b.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "rhyl", "--name", "B")
        try await importRisks(300, into: "a.sqlite")
        try await ok("risk", "add", "--replica", "b.sqlite", "title=Locum cover")
        let count = try #require(try await cli.run("status", "--replica", "a.sqlite", "--json").json?["pending"]?.intValue)

        let merged = try await cli.run("merge", "--replica", "b.sqlite", "--from", "a.sqlite", "--json", "--progress-every", "0")
        #expect(merged.status == 0, "\(merged.stderr)")
        let summary = try #require(merged.json, "\(merged.stdout)")
        #expect(summary["received"]?.intValue == count)
        #expect(summary["sent"]?.intValue ?? 0 >= 1)
        #expect(summary["alreadyThere"]?.intValue == 0)
        #expect(try Self.isISO8601(#require(summary["finishedAt"]?.stringValue)))
        let lines = merged.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("received 0 of \(ProgressLineText.grouped(Int(count)))") == true, "\(merged.stderr)")
        #expect(lines.contains { $0.hasPrefix("received \(ProgressLineText.grouped(Int(count))) of \(ProgressLineText.grouped(Int(count)))") },
                "\(merged.stderr)")

        // Again: everything is there already; the plain sentence without --json.
        let again = try await cli.run("merge", "--replica", "b.sqlite", "--from", "a.sqlite")
        #expect(again.status == 0 && again.stdout.hasPrefix("received 0 changes, sent 0"), "\(again.stdout) \(again.stderr)")
    }

    /// "2026-11-30T09:15:02Z" or "2026-11-30T10:15:02+01:00".
    static func isISO8601(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})/) != nil
    }
}

/// The counts as the progress line writes them ("1,234").
enum ProgressLineText {
    static func grouped(_ n: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.locale = Locale(identifier: "en_GB")
        return formatter.string(from: NSNumber(value: n))!
    }
}

/// Risk rows for `clustersync import`: a title, a category, an owner and a score each.
enum RiskRows {
    static func csv(_ count: Int) -> String {
        var lines = ["id,practice,title,category,owner,score,review_date,status"]
        let categories = ["clinical", "workforce", "estates", "financial"]
        for n in 0..<count {
            lines.append(",,Risk \(n),\(categories[n % 4]),Owner \(n % 41),\(n % 5 + 1)x\(n * 7 % 5 + 1),2026-\(String(format: "%02d", n % 12 + 1))-15,open")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
