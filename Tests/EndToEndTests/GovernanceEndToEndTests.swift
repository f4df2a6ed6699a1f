import ClusterSyncCore
import Foundation
import Testing

/// Governance records through the real `clustersync` binary on real replica files.
@Suite struct GovernanceEndToEndTests {
    let cli: CLI

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-gov-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir, environment: ["CLUSTERSYNC_REPLICA": "lead.sqlite"])
    }

    /// Runs a command that must succeed; returns its trimmed stdout.
    @discardableResult
    func ok(_ arguments: String...) async throws -> String {
        try await ok(arguments)
    }

    @discardableResult
    func ok(_ arguments: [String]) async throws -> String {
        let result = try await cli.run(arguments)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Values as a person reads them in `show`, `history` and `list show` (governance audit:
    /// a quorum and an attendee printed as their JSON, a priority's measure not at all).
    @Test func quorumsAttendeesAndMeasuresReadAsWords() async throws {
        try await ok("init", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "prestatyn", "--name", "Siân Evans")
        let terms = try await ok("terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=1/2")
        let shownTerms = try await ok("terms", "show", terms)
        #expect(shownTerms.contains("quorum") && shownTerms.contains("1/2") && !shownTerms.contains("denominator"), "\(shownTerms)")
        let meeting = try await ok("meeting", "add", "title=Board", "body=stakeholder-board", "date=2026-11-20")
        try await ok("meeting", "attend", meeting, "Mrs Hughes", "--role", "substitute", "--practice", "meliden", "--agreed-by", "BCUHB")
        var wide = cli
        wide.environment["COLUMNS"] = "300"
        let history = try await wide.run("history", meeting).stdout
        #expect(history.contains("Mrs Hughes (substitute, meliden, agreed by BCUHB)") && !history.contains("{\"name\""), "\(history)")
        let list = try await ok("list", "create", "title=Priorities", "kind=priorities")
        try await ok("list", "add", list, "Reduce waits for phlebotomy")
        try await ok("list", "set", list, "1", "measure=Median wait under 5 days by March")
        let shownList = try await ok("list", "show", list)
        #expect(shownList.contains("measure: Median wait under 5 days by March"), "\(shownList)")
    }

    @Test func boardMeetingWithASubstituteAndAVoteThatFailsTheFinancialMajority() async throws {
        try await ok("init", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "prestatyn", "--name", "Siân Evans")
        try await ok("terms", "add", "title=Board terms of reference", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=3",
               "majority=simple", "financial_majority=two-thirds")
        let meeting = try await ok("meeting", "add", "title=Cluster board, November", "body=stakeholder-board", "date=2026-11-20")
        try await ok("meeting", "attend", meeting, "Dr Siân Evans", "--practice", "prestatyn")
        try await ok("meeting", "attend", meeting, "Dr Gareth Jones", "--practice", "rhyl")
        try await ok("meeting", "attend", meeting, "Rhys Morgan", "--role", "substitute", "--practice", "meliden", "--agreed-by", "BCUHB")
        let shown = try #require(try await cli.run("meeting", "show", "--json", meeting).json)
        #expect(shown["derived"]?["quorum_met"] == .bool(true))
        #expect(shown["derived"]?["quorum_present"] == .int(3))

        let interest = try await ok("declaration", "add", "member=Rhys Morgan", "organisation=Morgan Pharmacy Ltd", "nature=pecuniary",
                              "date_declared=2026-11-20", "meeting=\(meeting)")
        let decision = try await ok("decision", "add", "title=Fund the minor ailments pilot", "meeting=\(meeting)", "method=vote",
                              "financial_implications=yes", "amount=£12,000", "outcome=agreed", "interests+=\(interest)",
                              "abstained_for_interest+=Rhys Morgan")
        for (member, vote) in [("Dr Siân Evans", "for"), ("Dr Gareth Jones", "for"), ("Dr Alys Hughes", "for"), ("Ceri Lloyd", "against"), ("Owain Price", "against")] {
            try await ok("decision", "vote", decision, member, vote)
        }
        try await ok("decision", "set", decision, "votes:Rhys Morgan=abstain")
        let json = try #require(try await cli.run("decision", "show", "--json", decision).json)
        #expect(json["fields"]?["amount"] == .string("12000"))
        #expect(json["fields"]?["votes"]?["Rhys Morgan"] == .string("abstain"))
        #expect(json["derived"]?["votes_for"] == .int(3) && json["derived"]?["votes_against"] == .int(2))
        #expect(json["derived"]?["majority_required"] == .string("two-thirds"))
        #expect(json["derived"]?["votes_carry"] == .bool(false))
        #expect(json["derived"]?["outcome_matches_votes"] == .bool(false))
        let text = try await ok("decision", "show", decision)
        #expect(text.contains("does not match the votes"), "\(text)")
        #expect(text.contains(/amount +£12,000/), "as typed, not as stored: \(text)")

        let interests = try #require(try await cli.run("interests", "--json", decision).json)
        guard case .array(let list)? = interests["interests"] else { Issue.record("no interests array"); return }
        #expect(list.map { $0["member"] } == [.string("Rhys Morgan")])
        #expect(list.first?["declaration"] == .string(interest))

        // A vote that is not one of the words, and a link to nothing, are refused with exit 1.
        let badVote = try await cli.run("decision", "vote", decision, "Ceri Lloyd", "yes")
        #expect(badVote.status == 1 && badVote.stderr.contains("for, against, abstain"), "\(badVote.stderr)")
        let dangling = try await cli.run("meeting", "set", meeting, "actions+=ACT-4F8R2M6W0Z")
        #expect(dangling.status == 1 && dangling.stderr.contains("does not hold"), "\(dangling.stderr)")
        let empty = try await cli.run("meeting", "set", meeting, "title=")
        #expect(empty.status == 1 && empty.stderr.contains("cannot be empty"), "\(empty.stderr)")
    }

    /// Proxies, a casting vote and a substitute standing in for a member, as a chair records
    /// them from the terminal (guide §3.10), and what `show` says of them.
    @Test func aTieBrokenByTheChairWithAProxyVoteAndASubstitute() async throws {
        try await ok("init", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "prestatyn", "--name", "Siân Evans")
        try await ok("terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=2", "majority=simple",
                     "proxy_votes=yes", "chair_casting_vote=yes", "members+=Dr Siân Evans", "members+=Ceri Lloyd", "members+=Owain Price",
                     "members+=Dr Alys Hughes")
        let meeting = try await ok("meeting", "add", "title=Board", "body=stakeholder-board", "date=2026-11-20", "status=held")
        try await ok("meeting", "attend", meeting, "Dr Siân Evans", "--practice", "prestatyn")
        try await ok("meeting", "attend", meeting, "Ceri Lloyd", "--practice", "rhyl")
        try await ok("meeting", "attend", meeting, "Nia Thomas", "--role", "substitute", "--replaces", "Dr Alys Hughes", "--agreed-by", "BCUHB")
        let decision = try await ok("decision", "add", "title=Extend opening hours", "meeting=\(meeting)", "method=vote", "outcome=agreed")
        try await ok("decision", "vote", decision, "Dr Siân Evans", "for")
        try await ok("decision", "vote", decision, "Ceri Lloyd", "against")
        try await ok("decision", "vote", decision, "Owain Price", "for", "--proxy")
        try await ok("decision", "vote", decision, "Nia Thomas", "against")
        // Recorded again without --proxy, the vote is said to be in person now; then put back.
        #expect(try await ok("decision", "vote", decision, "owain price", "for").contains("now recorded as cast in person"))
        #expect(try await ok("decision", "vote", decision, "Owain Price", "for", "--proxy").isEmpty)
        var json = try #require(try await cli.run("decision", "show", "--json", decision).json)
        #expect(json["derived"]?["tie_awaits_casting_vote"] == .bool(true) && json["derived"]?["absent_voters"] == nil, "\(json)")
        try await ok("decision", "set", decision, "casting_vote=for")
        json = try #require(try await cli.run("decision", "show", "--json", decision).json)
        #expect(json["derived"]?["casting_vote_counted"] == .string("for") && json["derived"]?["outcome_matches_votes"] == .bool(true))
        var wide = cli
        wide.environment["COLUMNS"] = "300"
        let text = try await wide.run("decision", "show", decision).stdout
        #expect(text.contains("Owain Price: for (by proxy)") && text.contains("2 for, 2 against, 0 abstaining; the chair's casting vote for"), "\(text)")
        let shownMeeting = try await wide.run("meeting", "show", meeting).stdout
        #expect(shownMeeting.contains("Nia Thomas (substitute, replacing Dr Alys Hughes, agreed by BCUHB)"), "\(shownMeeting)")
        // Only a substitute replaces a member: refused, naming what was wrong, and nothing written.
        let refused = try await cli.run("meeting", "attend", meeting, "Dr Alys Hughes", "--replaces", "Owain Price")
        #expect(refused.status == 1 && refused.stderr.contains("only a substitute replaces a member"), "\(refused.stderr)")
        // Typed options are refused in their words, without the JSON shape (the CLI audit).
        let capacity = try await cli.run("meeting", "attend", meeting, "Dr Alys Hughes", "--capacity", "gp")
        #expect(capacity.status == 1 && capacity.stderr == "clustersync: capacity must be one of clinician, senior-administrator, practice-manager\n",
                "\(capacity.stderr)")
        let after = try #require(try await cli.run("meeting", "show", "--json", meeting).json)
        #expect(after["derived"]?["quorum_present"] == .int(3))
        let badCasting = try await cli.run("decision", "set", decision, "casting_vote=abstain")
        #expect(badCasting.status == 1 && badCasting.stderr.contains("not-used"), "\(badCasting.stderr)")
        // A vote recorded for someone who did not vote is withdrawn, proxy mark and all; a
        // second withdrawal is refused, naming who voted, and changes nothing.
        try await ok("decision", "unvote", decision, "owain  price")
        json = try #require(try await cli.run("decision", "show", "--json", decision).json)
        #expect(json["fields"]?["votes"]?["Owain Price"] == nil && json["fields"]?["voted_by_proxy"] == .array([]), "\(json)")
        #expect(json["derived"]?["votes_for"] == .int(1) && json["derived"]?["votes_against"] == .int(2), "\(json)")
        let again = try await cli.run("decision", "unvote", decision, "Owain Price")
        #expect(again.status == 1 && again.stderr.contains("has no vote recorded for Owain Price; its votes are by Ceri Lloyd, Dr Siân Evans, Nia Thomas"),
                "\(again.stderr)")
        let history = try await wide.run("history", decision).stdout
        #expect(history.contains(try #require(try Regex(#"votes:Owain Price +for +withdrawn"#))), "\(history)")
    }

    /// A practice's replica is told, before it tries, that settling another practice's value
    /// is the cluster lead's.
    @Test func aPracticeReplicaIsToldWhoSettlesAnotherPracticesValue() async throws {
        try await ok("init", "--replica", "rhyl.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "rhyl", "--name", "Manager, Rhyl")
        try await ok("init", "--replica", "meliden.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "meliden", "--name", "Manager, Meliden")
        let risk = try await ok("risk", "add", "--replica", "rhyl.sqlite", "title=Locum cover")
        try await ok("merge", "--replica", "meliden.sqlite", "--from", "rhyl.sqlite")
        try await ok("risk", "set", "--replica", "rhyl.sqlite", risk, "owner=Rhyl")
        try await ok("risk", "set", "--replica", "meliden.sqlite", risk, "owner=Meliden")
        try await ok("merge", "--replica", "meliden.sqlite", "--from", "rhyl.sqlite")
        for arguments in [["conflicts", "--replica", "meliden.sqlite"], ["conflicts", "show", "--replica", "meliden.sqlite", risk]] {
            let text = try await ok(arguments)
            #expect(text.contains("Settling a conflict with another practice's value is the cluster lead's; this replica's role is practice"), "\(text)")
        }

        // A member's vote in conflict, named as typed: the key keeps its dash (FieldInput.fieldName).
        try await ok("init", "--replica", "rhyl-2.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "rhyl", "--name", "Desk, Rhyl")
        let decision = try await ok("decision", "add", "--replica", "rhyl.sqlite", "title=Extend hours", "method=vote")
        try await ok("merge", "--replica", "rhyl-2.sqlite", "--from", "rhyl.sqlite")
        try await ok("decision", "vote", "--replica", "rhyl.sqlite", decision, "Ceri Lloyd-Jones", "for")
        try await ok("decision", "vote", "--replica", "rhyl-2.sqlite", decision, "Ceri Lloyd-Jones", "against")
        try await ok("merge", "--replica", "rhyl-2.sqlite", "--from", "rhyl.sqlite")
        let settled = try await ok("conflicts", "resolve", "--replica", "rhyl.sqlite", decision, "votes:Ceri Lloyd-Jones", "--keep", "1")
        #expect(settled.hasPrefix("settled votes:Ceri Lloyd-Jones of \(decision)"), "\(settled)")
    }

    @Test func attendanceForAPastQAIFYear() async throws {
        try await ok("init", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "prestatyn", "--name", "Siân Evans")
        try await ok("terms", "add", "title=GP Collaborative terms", "body=gp-collaborative", "date_agreed=2024-04-01",
               "practices+=prestatyn", "practices+=rhyl")
        // The QAIF year 2025-26 runs from 1 October 2025 to 30 September 2026.
        for date in ["2025-09-30", "2025-10-09", "2026-01-15", "2026-04-09", "2026-07-09", "2026-10-01"] {
            let m = try await ok("meeting", "add", "title=GP Collaborative", "body=gp-collaborative", "date=\(date)", "status=held")
            try await ok("meeting", "attend", m, "Dr Evans", "--practice", "prestatyn")
            if date < "2026-02-01" { try await ok("meeting", "attend", m, "Dr Jones", "--practice", "rhyl") }
            // A practice manager attending as a member, not agreed in advance, does not count.
            if date > "2026-02-01" {
                try await ok("meeting", "attend", m, "Mrs Hughes", "--practice", "rhyl", "--capacity", "practice-manager")
            }
        }
        let report = try #require(try await cli.run("attendance", "--year", "2025-26", "--json").json)
        #expect(report["year"] == .string("2025-26") && report["from"] == .string("2025-10-01") && report["to"] == .string("2026-09-30"))
        guard case .array(let rows)? = report["practices"] else { Issue.record("no practices"); return }
        #expect(rows.map { $0["practice"] } == [.string("prestatyn"), .string("rhyl")])
        #expect(rows.map { $0["attended"] } == [.int(4), .int(2)], "\(rows)")
        #expect(rows.map { $0["status"] } == [.string("met"), .string("cannot-reach")])
        let text = try await ok("attendance", "--year", "2025-26")
        #expect(text.contains("RED: cannot reach"), "\(text)")
        #expect(text.contains("Mrs Hughes: practice manager not agreed in advance"), "\(text)")
        let bad = try await cli.run("attendance", "--year", "2025-2026")
        #expect(bad.status == 1 && bad.stderr.contains("2026-27"), "\(bad.stderr)")
    }

    @Test func aSpreadsheetImportWithOneBadRowImportsNothing() async throws {
        try await ok("init", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "prestatyn", "--name", "Siân Evans")
        let risk = try await ok("risk", "add", "title=Locum cover", "likelihood=3", "consequence=4")
        let exported = try await ok("export", "--format", "csv", "--type", "risk")
        let edited = exported.replacingOccurrences(of: "Locum cover", with: "\"Locum cover, winter\"")
            + "\n,,New risk,\"Two\nlines\",workforce,,,,2x2,,,,,15/12/2026,,,,,,,,,,,\n"
            + ",,Bad risk,,weather,,,,9x9,,,,,,,,,,,,,,,,\n"
        try edited.write(to: cli.directory.appendingPathComponent("risks.csv"), atomically: true, encoding: .utf8)
        let refused = try await cli.run("import", "--format", "csv", "--type", "risk", "risks.csv")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("line 5, column category") && refused.stderr.contains("line 5, column score"), "\(refused.stderr)")
        #expect(try await ok("risk", "list", "--json").contains("New risk") == false)

        // Without the bad row: a dry run shows what would change, then the import updates by id.
        let good = edited.components(separatedBy: "\n").filter { !$0.contains("Bad risk") }.joined(separator: "\n")
        try good.write(to: cli.directory.appendingPathComponent("risks.csv"), atomically: true, encoding: .utf8)
        let dry = try await ok("import", "--format", "csv", "--type", "risk", "--dry-run", "risks.csv")
        // Each row's change, then the counts.
        #expect(dry.hasPrefix("line 2: update \(risk) (title)\nline 3: create a new risk ("), "\(dry)")
        #expect(dry.components(separatedBy: "\n").last?.hasPrefix("would create 1, would update 1, unchanged 0") == true, "\(dry)")
        #expect(try await ok("import", "--format", "csv", "--type", "risk", "risks.csv").hasPrefix("created 1, updated 1"))
        let json = try #require(try await cli.run("risk", "show", "--json", risk).json)
        #expect(json["fields"]?["title"] == .string("Locum cover, winter"))
        guard case .array(let records)? = try await cli.run("risk", "list", "--json").json?["records"] else { Issue.record("no records"); return }
        #expect(records.count == 2)
        #expect(records.contains { $0["fields"]?["description"] == .string("Two\nlines") })
        // The date as a spreadsheet in Wales saves it, stored as ISO.
        #expect(records.contains { $0["fields"]?["review_date"] == .string("2026-12-15") }, "\(records)")

        // `list` filters and orders through the library (`Replica.register`).
        func titles(_ arguments: String...) async throws -> [JSONValue?] {
            guard case .array(let records)? = try await cli.run(["risk", "list", "--json"] + arguments).json?["records"] else { return [] }
            return records.map { $0["fields"]?["title"] }
        }
        #expect(try await titles("--sort", "title") == [.string("Locum cover, winter"), .string("New risk")])
        #expect(try await titles("--sort", "title", "--reverse") == [.string("New risk"), .string("Locum cover, winter")])
        #expect(try await titles("--search", "WINTER") == [.string("Locum cover, winter")])
        let unsorted = try await cli.run("risk", "list", "--reverse")
        #expect(unsorted.status != 0 && unsorted.stderr.contains("--reverse needs --sort"), "\(unsorted.stderr)")
    }
}
