import ClusterSyncCore
import Foundation
import Testing

/// `clustersync rollup` through the real binary on real replica files: counts checked against
/// counts the test makes itself from what it created, plain and coloured output.
@Suite struct RollupEndToEndTests {
    let cli: CLI

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-rollup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir)
    }

    @discardableResult
    func ok(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        var cli = cli
        cli.environment.merge(environment) { _, new in new }
        let result = try await cli.run(arguments)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// Runs the binary with NO_COLOR unset and stdout a pipe (not a terminal): still plain.
    func withoutNoColor(_ arguments: [String]) async throws -> String {
        let process = ChildProcess()
        process.executableURL = CLI.binDirectory.appendingPathComponent("clustersync")
        process.arguments = arguments
        process.currentDirectoryURL = cli.directory
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "NO_COLOR" }
        process.standardOutput = Pipe()
        try await process.runToExit()
        #expect(process.terminationStatus == 0)
        return await process.output.readToEnd()
    }

    /// A date `days` from today (UTC, as the replica's clock reads it).
    static func day(_ days: Int) -> String {
        CalendarDate(dayNumber: CalendarDate(unixMillis: Int64(Date().timeIntervalSince1970 * 1000)).dayNumber + days).description
    }

    @Test func countsMatchTheRecordsMadeAndPrivateOnesCountNowhere() async throws {
        for practice in ["prestatyn", "rhyl"] {
            try await ok(["init", "--replica", "\(practice).sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                    "--practice", practice, "--name", "Manager, \(practice)", "--role", "cluster-lead"])
        }
        // Expected counts, kept as the records are made (the band rule written out here again).
        var matrix = Array(repeating: Array(repeating: 0, count: 5), count: 5)
        var byBand = ["low": 0, "moderate": 0, "high": 0, "extreme": 0, "unscored": 0]
        var open = 0, closed = 0, reviewOverdue = 0, escalatedPCPG = 0
        var rng = SplitMix64(seed: 20261130)
        for i in 0..<24 {
            let replica = i % 2 == 0 ? "prestatyn.sqlite" : "rhyl.sqlite"
            let (l, c) = (Int.random(in: 1...5, using: &rng), Int.random(in: 1...5, using: &rng))
            let isClosed = i % 7 == 3
            let reviewDays = Int.random(in: -40...40, using: &rng)
            let escalation = i % 5 == 0 ? "pcpg" : "cluster"
            try await ok(["risk", "add", "--replica", replica, "title=Risk \(i)", "likelihood=\(l)", "consequence=\(c)",
                    "review_date=\(Self.day(reviewDays))", "status=\(isClosed ? "closed" : "open")", "escalation=\(escalation)"])
            if isClosed { closed += 1; continue }
            open += 1
            matrix[l - 1][c - 1] += 1
            let score = l * c
            byBand[score <= 3 ? "low" : score <= 6 ? "moderate" : score <= 12 ? "high" : "extreme"]! += 1
            if reviewDays < 0 { reviewOverdue += 1 }
            if escalation == "pcpg" { escalatedPCPG += 1 }
        }
        // Private risks on both practices' replicas: never counted (rhyl's never reaches prestatyn).
        try await ok(["risk", "add", "--replica", "prestatyn.sqlite", "--private", "title=Private", "likelihood=5", "consequence=5",
                "review_date=\(Self.day(-10))"])
        try await ok(["risk", "add", "--replica", "rhyl.sqlite", "--private", "title=Private", "likelihood=5", "consequence=5"])
        var red = 0, amber = 0, green = 0, blue = 0
        for (i, due) in [-20, -1, 0, 5, 14, 15, 60, -3].enumerated() {
            let complete = i == 7
            try await ok(["action", "add", "--replica", i % 2 == 0 ? "prestatyn.sqlite" : "rhyl.sqlite", "title=Action \(i)",
                    "due_date=\(Self.day(due))", "status=\(complete ? "complete" : "in-progress")"])
            if complete { blue += 1 } else if due < 0 { red += 1 } else if due <= 14 { amber += 1 } else { green += 1 }
        }
        try await ok(["merge", "--replica", "prestatyn.sqlite", "--from", "rhyl.sqlite"])

        let json = try #require(try await cli.run(["rollup", "--replica", "prestatyn.sqlite", "--json"]).json)
        #expect(json["tenant"] == .string("bcuhb") && json["region"] == .null)
        guard case .array(let clusters)? = json["clusters"] else { Issue.record("no clusters"); return }
        #expect(clusters.map { $0["cluster"] } == [.string("north-denbighshire")])
        let risks = try #require(json["risks"])
        #expect(risks["total"] == .int(Int64(open + closed)))
        #expect(risks["by_status"] == .object(["open": .int(Int64(open)), "closed": .int(Int64(closed))]))
        #expect(risks["by_band"] == .object(byBand.mapValues { .int(Int64($0)) }))
        #expect(risks["matrix"] == .array(matrix.map { .array($0.map { .int(Int64($0)) }) }))
        #expect(risks["review_overdue"] == .int(Int64(reviewOverdue)))
        #expect(risks["escalation"]?["pcpg"] == .int(Int64(escalatedPCPG)))
        let actions = try #require(json["actions"])
        #expect(actions["by_rag"] == .object(["red": .int(Int64(red)), "amber": .int(Int64(amber)), "green": .int(Int64(green)),
                                               "blue": .int(Int64(blue)), "none": .int(0)]))
        #expect(actions["overdue"] == .int(Int64(red)))
        // The cluster's own figures equal the totals for a one-cluster replica.
        #expect(clusters[0]["risks"] == risks)

        // Plain text: no escape codes with NO_COLOR (the CLI helper sets it) or without a terminal.
        let plain = try await ok(["rollup", "--replica", "prestatyn.sqlite"])
        let noTerminal = try await withoutNoColor(["rollup", "--replica", "prestatyn.sqlite"])
        #expect(!plain.contains("\u{1B}"))
        #expect(plain.contains("Roll-up of north-denbighshire (bcuhb)"))
        #expect(plain.contains("reviews overdue \(reviewOverdue)"))
        #expect(plain.contains("overdue \(red)"))
        // The heat map row for "4 likely": each cell's count and band letter, consequence 1 to 5.
        let row = try #require(plain.split(separator: "\n").first { $0.hasPrefix("4 likely") })
        let cells = row.dropFirst("4 likely".count).split(separator: " ")
        let letters = ["M", "H", "H", "E", "E"]
        var expectedCells: [String] = []
        for c in 0..<5 { expectedCells += [String(matrix[3][c]), letters[c]] }
        #expect(cells.map(String.init) == expectedCells)
        #expect(noTerminal == plain)

        // Forced colour: escape codes around the cells, and the same text once they are removed.
        let coloured = try await ok(["rollup", "--replica", "prestatyn.sqlite", "--color", "always"])
        #expect(coloured.contains("\u{1B}[30;41m"))  // extreme cells on red
        #expect(coloured.contains("\u{1B}[30;42m"))  // low cells on green
        let stripped = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        // (A coloured cell keeps its padding inside the colour; plain lines end without spaces.)
        func lines(_ text: String) -> [String] {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.reversed().drop { $0 == " " }.reversed()) }
        }
        #expect(lines(stripped) == lines(plain))

        let unknown = try await cli.run(["rollup", "--replica", "prestatyn.sqlite", "--cluster", "south-denbighshire"])
        #expect(unknown.status == 1 && unknown.stderr.contains("holds no records of cluster south-denbighshire"), "\(unknown.stderr)")
    }
}
