import ClusterSyncCore
import Foundation
import Testing

/// The CLI end to end: the real binary on real replica files.
@Suite struct OfflineEditingTests {
    let dir: URL
    let cli: CLI

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir)
    }

    func initialise(_ file: String, practice: String, cluster: String = "north-denbighshire") async throws {
        let result = try await cli.run("init", "--replica", file, "--tenant", "bcuhb", "--cluster", cluster,
                                 "--practice", practice, "--name", "Manager, \(practice)")
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func twoPracticesEditOneRiskOfflineAndMerge() async throws {
        try await initialise("prestatyn.sqlite", practice: "prestatyn")
        try await initialise("rhyl.sqlite", practice: "rhyl")
        let add = try await cli.run("risk", "add", "--replica", "prestatyn.sqlite", "title=GP locum cover",
                              "likelihood=3", "consequence=4", "owner=Cluster lead")
        #expect(add.status == 0, "\(add.stderr)")
        let id = add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(RecordID(id) != nil)
        #expect(try await cli.run("merge", "--replica", "rhyl.sqlite", "--from", "prestatyn.sqlite").status == 0)

        // Offline, each practice edits: one the likelihood, the other the owner, both the title.
        #expect(try await cli.run("risk", "set", "--replica", "prestatyn.sqlite", id, "likelihood=4", "title=Locum cover, winter").status == 0)
        #expect(try await cli.run("risk", "set", "--replica", "rhyl.sqlite", id, "owner=Practice manager", "title=Winter locum gap").status == 0)
        let merged = try await cli.run("merge", "--replica", "rhyl.sqlite", "--from", "prestatyn.sqlite")
        #expect(merged.stdout.contains("received 2 changes, sent 2"), "\(merged.stdout)")

        var shown: [JSONValue] = []
        for file in ["prestatyn.sqlite", "rhyl.sqlite"] {
            let result = try await cli.run("show", "--replica", file, "--json", id)
            let json = try #require(result.json, "\(result.stdout)")
            shown.append(json)
            #expect(json["fields"]?["score"] == .object(["likelihood": .int(4), "consequence": .int(4)]))
            #expect(json["fields"]?["owner"] == .string("Practice manager"))
            #expect(json["derived"]?["score"] == .int(16))
            #expect(json["derived"]?["band"] == .string("extreme"))
            guard case .array(let conflicts) = json["conflicts"] else { Issue.record("no conflicts array"); continue }
            #expect(conflicts.count == 1)
            #expect(conflicts.first?["field"] == .string("title"))
            guard case .array(let values) = conflicts.first?["values"] else { Issue.record("no values: \(conflicts)"); continue }
            #expect(Set(values.compactMap { $0["value"]?.stringValue }) == ["Locum cover, winter", "Winter locum gap"])
            #expect(Set(values.compactMap { $0["author"]?.stringValue }) == ["Manager, prestatyn", "Manager, rhyl"])
        }
        #expect(shown[0] == shown[1])

        // Writing the field again settles the conflict everywhere.
        #expect(try await cli.run("risk", "set", "--replica", "rhyl.sqlite", id, "title=Winter locum cover").status == 0)
        _ = try await cli.run("merge", "--replica", "rhyl.sqlite", "--from", "prestatyn.sqlite")
        let settled = try #require(try await cli.run("show", "--replica", "prestatyn.sqlite", "--json", id).json)
        #expect(settled["conflicts"] == .array([]))
        #expect(settled["fields"]?["title"] == .string("Winter locum cover"))

        let exports = try await ["prestatyn.sqlite", "rhyl.sqlite"].asyncMap { try await cli.run("export", "--replica", $0, "--format", "json").stdout }
        #expect(exports[0] == exports[1])
    }

    @Test func badInputIsAUserErrorAndWritesNothing() async throws {
        try await initialise("a.sqlite", practice: "prestatyn")
        let id = try await cli.run("risk", "add", "--replica", "a.sqlite", "title=Estates").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let before = try await cli.run("export", "--replica", "a.sqlite").stdout

        let cases: [([String], String)] = [
            (["risk", "set", id, "likelihood=7"], "likelihood must be 1 to 5"),
            (["action", "add", "title=Chase", "due_date=next week"], "due_date must be a date written YYYY-MM-DD"),
            (["risk", "set", id, "status=pending"], "status must be one of open, closed"),
            (["risk", "set", id, "colour=red"], "a risk has no field \"colour\""),
            (["risk", "set", id, "description=Seen 943 476 5919 today"], "NHS number"),
            (["risk", "show", "RSK-0000000000"], "no record RSK-0000000000"),
            (["action", "show", id], "is a risk, not an action"),
            (["risk", "add", "owner=Lead"], "needs a title"),
        ]
        for (arguments, message) in cases {
            let result = try await cli.run(Array(arguments.prefix(2)) + ["--replica", "a.sqlite"] + arguments.dropFirst(2))
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            // The message alone, not the top-level usage, which says nothing of the command typed.
            #expect(!result.stderr.contains("Usage: clustersync <subcommand>"), "\(arguments): \(result.stderr)")
        }
        #expect(try await cli.run("export", "--replica", "a.sqlite").stdout == before)
        #expect(try await cli.run("status", "--replica", "missing.sqlite").status == 1)
    }

    @Test func actionsNotesAndLists() async throws {
        try await initialise("a.sqlite", practice: "prestatyn")
        func run(_ args: String...) async throws -> String {
            let result = try await cli.run(Array(args.prefix(2)) + ["--replica", "a.sqlite"] + args.dropFirst(2))
            #expect(result.status == 0, "\(args): \(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let action = try await run("action", "add", "title=Audit referrals", "due_date=2020-01-31", "owner=Pharmacy lead")
        _ = try await run("action", "note", action, "Chased at board")
        let shown = try #require(try await cli.run("action", "show", "--replica", "a.sqlite", "--json", action).json)
        #expect(shown["derived"]?["rag"] == .string("red"))
        #expect(shown["fields"]?["original_due_date"] == .string("2020-01-31"))
        guard case .array(let notes) = shown["fields"]?["notes"] else { Issue.record("no notes"); return }
        #expect(notes.first?["text"] == .string("Chased at board"))
        _ = try await run("action", "set", action, "status=complete")
        #expect(try await cli.run("action", "show", "--replica", "a.sqlite", "--json", action).json?["derived"]?["rag"] == .string("blue"))

        let list = try await run("list", "create", "title=Board agenda", "kind=agenda")
        for text in ["Apologies", "Minutes", "Risk register"] { _ = try await run("list", "add", list, text) }
        _ = try await run("list", "add", list, "Welcome", "--at", "1")
        _ = try await run("list", "move", list, "4", "--to", "2")
        // A position past the end is refused, for a move as for an add (the CLI audit).
        for arguments in [["move", list, "1", "--to", "9"], ["add", list, "Late item", "--at", "9"]] {
            let past = try await cli.run(["list"] + arguments + ["--replica", "a.sqlite"])
            #expect(past.status == 1 && past.stderr.contains("position must be 1 to"), "\(arguments): \(past.stderr)")
        }
        _ = try await run("list", "remove", list, "3")
        _ = try await run("list", "set", list, "1", "done=yes")
        let agenda = try #require(try await cli.run("list", "show", "--replica", "a.sqlite", "--json", list).json)
        guard case .array(let items) = agenda["items"] else { Issue.record("no items"); return }
        #expect(items.compactMap { $0["fields"]?["text"]?.stringValue } == ["Welcome", "Risk register", "Minutes"])
        #expect(items.first?["fields"]?["done"] == .bool(true))

        let csv = try await cli.run("export", "--replica", "a.sqlite", "--format", "csv", "--type", "action").stdout
        #expect(csv.hasPrefix("\u{FEFF}id,practice,title"), "a byte-order mark first, for spreadsheets")
        #expect(csv.contains("Audit referrals"))
    }

    /// A declaration's withdrawal date typed by mistake is emptied (`date_withdrawn=`): the
    /// interest is in force again wherever the change goes, history keeps the date it had, and
    /// a set-once date is not emptied.
    @Test func aDateSetByMistakeIsEmptied() async throws {
        try await initialise("a.sqlite", practice: "prestatyn")
        try await initialise("b.sqlite", practice: "rhyl")
        func run(_ file: String, _ args: String...) async throws -> CLI.Result {
            try await cli.run(Array(args.prefix(2)) + ["--replica", file] + args.dropFirst(2))
        }
        let declaration = try await run("a.sqlite", "declaration", "add", "member=Dr Siân Evans", "nature=pecuniary",
                                        "description=Partner in the pharmacy next door", "date_declared=2026-04-01")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await run("a.sqlite", "declaration", "set", declaration, "date_withdrawn=2026-11-01").status == 0)
        #expect(try await run("a.sqlite", "declaration", "set", declaration, "date_withdrawn=").status == 0)
        let shown = try #require(try await run("a.sqlite", "declaration", "show", "--json", declaration).json)
        #expect(shown["fields"]?["date_withdrawn"] == nil)
        #expect(shown["fields"]?["date_declared"] == .string("2026-04-01"))
        #expect(shown["conflicts"] == .array([]))
        let history = try await run("a.sqlite", "history", declaration).stdout
        #expect(history.contains("2026-11-01  no date"), "\(history)")

        // Merged into another practice's replica, the emptied date reads the same there.
        #expect(try await cli.run("merge", "--replica", "b.sqlite", "--from", "a.sqlite").status == 0)
        let there = try #require(try await run("b.sqlite", "declaration", "show", "--json", declaration).json)
        #expect(there["fields"] == shown["fields"])

        let action = try await run("a.sqlite", "action", "add", "title=Chase the locum agency", "due_date=2026-01-10")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await run("a.sqlite", "overdue").stdout.contains(action))
        #expect(try await run("a.sqlite", "action", "set", action, "due_date=").status == 0)
        #expect(try await run("a.sqlite", "overdue").stdout.contains("nothing overdue"))
        let setOnce = try await run("a.sqlite", "action", "set", action, "original_due_date=")
        #expect(setOnce.status == 1 && setOnce.stderr.contains("original_due_date cannot be emptied"), "\(setOnce.stderr)")
        let kept = try #require(try await run("a.sqlite", "action", "show", "--json", action).json)
        #expect(kept["fields"]?["original_due_date"] == .string("2026-01-10") && kept["fields"]?["due_date"] == nil)

        // The dates a record is dated or in force by are changed, never emptied: an interest
        // without its declaration date would never be in force.
        let declared = try await run("a.sqlite", "declaration", "set", declaration, "date_declared=")
        #expect(declared.status == 1 && declared.stderr.contains("date_declared cannot be emptied"), "\(declared.stderr)")
        // A new record has nothing to empty: a date given as nothing is left out, and the
        // record takes its default (a decision, its meeting's day).
        let meeting = try await run("a.sqlite", "meeting", "add", "title=Cluster board", "body=stakeholder-board", "date=2026-11-20")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let decision = try await run("a.sqlite", "decision", "add", "title=Fund the pilot", "meeting=" + meeting, "date=")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await run("a.sqlite", "decision", "show", "--json", decision).json?["fields"]?["date"] == .string("2026-11-20"))

        // In a spreadsheet, a date cell of spaces leaves the date as it is.
        let risk = try await run("a.sqlite", "risk", "add", "title=Estates survey", "review_date=2027-03-01")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let csv = dir.appendingPathComponent("risks.csv")
        try "id,title,review_date\n\(risk),Estates survey,   \n".write(to: csv, atomically: true, encoding: .utf8)
        #expect(try await run("a.sqlite", "import", csv.path, "--type", "risk").status == 0)
        #expect(try await run("a.sqlite", "risk", "show", "--json", risk).json?["fields"]?["review_date"] == .string("2027-03-01"))
    }

    /// Killing the process in the middle of a large merge leaves the file consistent: the merge
    /// is one transaction, so the file holds all of it or none of it.
    @Test func killedMergeLeavesTheFileConsistent() async throws {
        try await initialise("big.sqlite", practice: "prestatyn")
        // A few thousand changes, a hundred per command.
        // On three risks: a field holds at most 1,000 labels (FieldGrowth).
        var risks: [String] = []
        for n in 0..<3 {
            risks.append(try await cli.run("risk", "add", "--replica", "big.sqlite", "title=Big \(n)").stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for batch in 0..<21 {
            let args = (0..<100).map { "tags+=t\(batch)-\($0)" }
            #expect(try await cli.run(["risk", "set", "--replica", "big.sqlite", risks[batch / 7]] + args).status == 0)
        }
        let total = try #require(try await cli.run("status", "--replica", "big.sqlite", "--json").json?["pending"]?.intValue)
        #expect(total > 2000)

        for attempt in 0..<6 {
            let target = "victim\(attempt).sqlite"
            try await initialise(target, practice: "rhyl")
            let process = try await cli.start(["merge", "--replica", target, "--from", "big.sqlite"])
            try await Task.sleep(for: .microseconds(20_000 + attempt * 30_000))
            process.signal(SIGKILL)
            await process.exited()
            let status = try #require(try await cli.run("status", "--replica", target, "--json").json)
            let pending = try #require(status["pending"]?.intValue)
            #expect(pending == 0 || pending == total, "attempt \(attempt): \(pending) of \(total)")
        }
    }
}
