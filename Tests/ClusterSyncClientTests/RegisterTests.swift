import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// `Replica.register`: the filters and orders the CLI's `list` and the web app's registers share.
@Suite struct RegisterTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }
    func s(_ text: String) -> JSONValue { .string(text) }
    func score(_ l: Int, _ c: Int) -> JSONValue { RiskScore(likelihood: l, consequence: c)!.jsonValue }

    func titles(_ views: [RecordView]) -> [String] { views.map(\.name) }

    @Test func ordersBreakTiesByTitleIgnoringCaseAndAccents() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        _ = try r.add(.risk, edits: [.set("title", s("zebra crossing")), .set("score", score(3, 4)), .set("owner", s("Dr Jones"))])
        _ = try r.add(.risk, edits: [.set("title", s("Éclair supply")), .set("score", score(4, 3)), .set("owner", s("Ms Hughes"))])
        _ = try r.add(.risk, edits: [.set("title", s("Apple store")), .set("score", score(5, 5))])
        _ = try r.add(.risk, edits: [.set("title", s("unscored"))])

        #expect(titles(try r.register(.risk, order: RecordOrder(.score))) == ["Apple store", "Éclair supply", "zebra crossing", "unscored"])
        #expect(titles(try r.register(.risk, order: RecordOrder(.score, descending: false))) == ["unscored", "Éclair supply", "zebra crossing", "Apple store"])
        #expect(titles(try r.register(.risk, order: RecordOrder(.title))) == ["Apple store", "Éclair supply", "unscored", "zebra crossing"])
        #expect(titles(try r.register(.risk, order: RecordOrder(.title, descending: true))) == ["zebra crossing", "unscored", "Éclair supply", "Apple store"])
        // Owner A to Z, a record without one first, as the empty text.
        #expect(titles(try r.register(.risk, order: RecordOrder(.owner))) == ["Apple store", "unscored", "zebra crossing", "Éclair supply"])
    }

    @Test func datesReadEarliestFirstWithUndatedLast() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        _ = try r.add(.action, edits: [.set("title", s("no date"))])
        _ = try r.add(.action, edits: [.set("title", s("later")), .set("due_date", s("2027-03-01"))])
        _ = try r.add(.action, edits: [.set("title", s("b sooner")), .set("due_date", s("2026-12-01"))])
        _ = try r.add(.action, edits: [.set("title", s("A sooner")), .set("due_date", s("2026-12-01"))])
        #expect(titles(try r.register(.action, order: RecordOrder(.due))) == ["A sooner", "b sooner", "later", "no date"])
        #expect(titles(try r.register(.action, order: RecordOrder(.due, descending: true))) == ["later", "A sooner", "b sooner", "no date"])
    }

    /// Statuses sort as an action goes through them, not A to Z ("cancelled" read first).
    @Test func statusesSortInTheOrderARecordGoesThroughThem() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        // The practice's own actions, which it may cancel without the cluster lead.
        for status in ["cancelled", "complete", "not-started", "in-progress"] {
            _ = try r.add(.action, private: true, edits: [.set("title", s(status)), .set("status", s(status))])
        }
        _ = try r.add(.action, private: true, edits: [.set("title", s("no status written"))])
        #expect(titles(try r.register(.action, order: RecordOrder(.status)))
            == ["no status written", "not-started", "in-progress", "complete", "cancelled"])
        #expect(titles(try r.register(.action, order: RecordOrder(.status, descending: true)))
            == ["cancelled", "complete", "in-progress", "no status written", "not-started"])
    }

    @Test func logsReadNewestFirstWithUndatedLastEitherWay() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        _ = try r.add(.meeting, edits: [.set("title", s("Undated"))])
        _ = try r.add(.meeting, edits: [.set("title", s("October")), .set("date", s("2026-10-15"))])
        _ = try r.add(.meeting, edits: [.set("title", s("November")), .set("date", s("2026-11-20"))])
        #expect(titles(try r.register(.meeting, order: RecordOrder(.date))) == ["November", "October", "Undated"])
        #expect(titles(try r.register(.meeting, order: RecordOrder(.date, descending: false))) == ["October", "November", "Undated"])
        _ = try r.add(.declaration, edits: [.set("member", s("Dr Evans")), .set("date_declared", s("2026-01-05"))])
        _ = try r.add(.declaration, edits: [.set("member", s("Dr Jones")), .set("date_declared", s("2026-03-01"))])
        #expect(titles(try r.register(.declaration, order: RecordOrder(.date))) == ["Dr Jones", "Dr Evans"])
    }

    /// Terms of reference since replaced are never reviewed, so never overdue: only the version
    /// in force is, as the roll-up counts them.
    @Test func onlyTheTermsInForceFallOverdue() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })  // 2026-11-18
        _ = try r.add(.terms, edits: [.set("title", s("Board v1")), .set("body", s("stakeholder-board")),
                                      .set("date_agreed", s("2024-04-01")), .set("review_date", s("2025-04-01"))])
        let v2 = try r.add(.terms, edits: [.set("title", s("Board v2")), .set("body", s("stakeholder-board")),
                                           .set("date_agreed", s("2025-05-01")), .set("review_date", s("2027-05-01"))])
        _ = try r.add(.terms, edits: [.set("title", s("Leadership team")), .set("body", s("leadership-team")),
                                      .set("date_agreed", s("2024-01-01")), .set("review_date", s("2026-10-01"))])
        #expect(try r.overdue().map(\.name) == ["Leadership team"])
        #expect(titles(try r.register(.terms, filter: RecordFilter(overdue: true))) == ["Leadership team"])
        // Shown and exported the same way: the replaced version's review is not overdue.
        let governance = try r.governance()
        let v1 = try #require(try r.records(.terms).first { $0.name == "Board v1" })
        #expect(v1.derived(today: r.today)["review_overdue"] == .bool(true), "on its own fields alone")
        #expect(v1.derived(today: r.today, governance: governance)["review_overdue"] == .bool(false))
        _ = try r.edit(v2, .set("review_date", s("2026-06-01")))
        #expect(Set(try r.overdue().map(\.name)) == ["Board v2", "Leadership team"])
    }

    /// A score of 15 or more is the common trigger for escalating (domain): an open shared risk
    /// there, not yet beyond the cluster, is flagged; escalated, closed or private, it is not.
    @Test func anExtremeSharedRiskIsFlaggedForEscalation() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        try r.rememberRole(.clusterLead, region: nil)
        let extreme = try r.add(.risk, edits: [.set("title", s("Out-of-hours")), .set("score", score(5, 3))])
        let high = try r.add(.risk, edits: [.set("title", s("Lease")), .set("score", score(3, 4))])
        let own = try r.add(.risk, private: true, edits: [.set("title", s("Partner retiring")), .set("score", score(5, 5))])
        func flagged(_ id: RecordID) throws -> Bool { try r.record(id)?.derived(today: fixedToday)["escalation_suggested"] == .bool(true) }
        #expect(try flagged(extreme) && !flagged(high) && !flagged(own))
        _ = try r.edit(extreme, .set("escalation", s("pcpg")))
        #expect(try !flagged(extreme))
    }

    /// Actions arising from a meeting or decision are read by their `source` writes, not by
    /// reading every action (`Replica.register` with `RecordFilter.source`), and come out as the
    /// filter reads the whole register: deleted ones left out, one in a conflict over its source
    /// as the filter decides.
    @Test func actionsArisingAreFoundByTheirSource() throws {
        defer { dir.remove() }
        let lead = try makeReplica(dir, "lead", practice: "prestatyn", clock: { 1_795_000_000_000 })
        try lead.rememberRole(.clusterLead, region: nil)
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl", clock: { 1_795_000_060_000 })
        let board = try lead.add(.meeting, edits: [.set("title", s("Board"))])
        let other = try lead.add(.meeting, edits: [.set("title", s("Leadership team"))])
        let decision = try lead.add(.decision, edits: [.set("title", s("Fund locums")), .set("meeting", s(board.rawValue))])
        func action(_ title: String, from source: RecordID?) throws -> RecordID {
            try lead.add(.action, edits: [.set("title", s(title))] + (source.map { [.set("source", s($0.rawValue))] } ?? []))
        }
        _ = try action("From the board", from: board)
        _ = try action("From the decision", from: decision)
        _ = try action("From the leadership team", from: other)
        _ = try action("From nowhere", from: nil)
        _ = try lead.delete(try action("Deleted", from: board))
        let disputed = try action("Disputed", from: board)
        _ = try rhyl.merge(with: lead)
        _ = try lead.edit(disputed, .set("source", s(other.rawValue)))
        _ = try rhyl.edit(disputed, .set("source", s(decision.rawValue)))
        _ = try rhyl.merge(with: lead)
        #expect(try rhyl.record(disputed)?.conflicts.map(\.field) == ["source"])

        let fields: Set<String> = ["title", "owner", "due_date", "status", "source"]
        for replica in [lead, rhyl] {
            let every = try replica.records(.action)
            for sources in [[board], [decision], [board, decision], [other], [board, decision, other], []] as [[RecordID]] {
                let filter = RecordFilter(source: Set(sources))
                let expected = every.filter { filter.matches($0, today: fixedToday) }.map(\.name).sorted()
                #expect(try replica.register(.action, filter: filter, fields: fields).map(\.name).sorted() == expected, "\(sources)")
                #expect(try replica.register(.action, filter: filter).map(\.name).sorted() == expected, "\(sources), whole")
            }
        }
        // Disputed's source shows Rhyl's later value, the decision, on both replicas; the board,
        // its first, is no longer live.
        #expect(titles(try lead.register(.action, filter: RecordFilter(source: [board]), order: RecordOrder(.title))) == ["From the board"])
        #expect(titles(try rhyl.register(.action, filter: RecordFilter(source: [decision]), order: RecordOrder(.title)))
                == ["Disputed", "From the decision"])
        #expect(titles(try lead.register(.action, filter: RecordFilter(source: [other]), order: RecordOrder(.title)))
                == ["From the leadership team"])
    }

    /// A practice's `escalation=cluster` written without seeing the lead's `pcpg` is kept beside
    /// it as a conflict, and the risk stays in the PCPG's view, roll-up and report meanwhile.
    @Test func aConcurrentWriteCannotTakeARiskOutOfThePCPGsView() throws {
        defer { dir.remove() }
        let lead = try makeReplica(dir, "lead", practice: "prestatyn", clock: { 1_795_000_000_000 })
        try lead.rememberRole(.clusterLead, region: nil)
        // Rhyl's clock is later: its write is the conflict's default winner.
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl", clock: { 1_795_000_060_000 })
        let risk = try lead.add(.risk, edits: [.set("title", s("Out-of-hours cover")), .set("score", score(4, 4))])
        _ = try rhyl.merge(with: lead)
        _ = try lead.edit(risk, .set("escalation", s("pcpg")))
        _ = try rhyl.edit(risk, .set("escalation", s("cluster")))
        _ = try rhyl.merge(with: lead)
        let view = try #require(try rhyl.record(risk))
        #expect(view.conflicts.map(\.field) == ["escalation"])
        #expect(view.string("escalation") == "cluster" && view.escalation == "pcpg")
        #expect(OversightReach.visible([view], role: .pcpg) == [risk])
        guard case .risk(let contribution)? = RollupContribution(view) else { Issue.record("no contribution"); return }
        #expect(contribution.escalation == "pcpg")
    }

    /// Moving a due date is seen against the one first agreed (domain: the action tracker).
    @Test func aMovedDueDateIsCountedAgainstTheOriginal() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        let action = try r.add(.action, edits: [.set("title", s("Locum rota")), .set("due_date", s("2026-12-01"))])
        #expect(try r.record(action)?.derived(today: fixedToday)["due_moved_days"] == nil)
        _ = try r.edit(action, .set("due_date", s("2026-12-15")))
        #expect(try r.record(action)?.derived(today: fixedToday)["due_moved_days"] == .int(14))
        _ = try r.edit(action, .set("due_date", s("2026-11-30")))
        #expect(try r.record(action)?.derived(today: fixedToday)["due_moved_days"] == .int(-1))
        // The guide's Cluster Staffing Group is a body meetings are held by.
        _ = try r.add(.meeting, edits: [.set("title", s("Staffing group")), .set("body", s("staffing-group"))])
    }

    @Test func filtersByStatusWordsBandAndDeletion() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        _ = try r.add(.risk, edits: [.set("title", s("Locum cover")), .set("score", score(5, 4)), .set("owner", s("Dr Jones"))])
        _ = try r.add(.risk, private: true, edits: [.set("title", s("Estates")), .set("score", score(1, 2)), .set("category", s("estates")), .set("status", s("closed"))])
        // Made exactly as given, with no status: it counts as open, its type's starting status.
        _ = try r.create(.risk, edits: [.set("title", s("Legacy row"))])
        let gone = try r.add(.risk, private: true, edits: [.set("title", s("Deleted one"))])
        _ = try r.edit(gone, .delete)

        #expect(titles(try r.register(.risk, filter: RecordFilter(status: "open"), order: RecordOrder(.title))) == ["Legacy row", "Locum cover"])
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "JONES"))) == ["Locum cover"])
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "éstates"))) == ["Estates"], "accents ignored either way")
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "estat"))) == ["Estates"])
        // Each word anywhere, in any order, across title, owner and category; every word must be there.
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "jones  locum"))) == ["Locum cover"])
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "cover dr"))) == ["Locum cover"])
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "locum estates"))) == [])
        #expect(titles(try r.register(.risk, filter: RecordFilter(band: "extreme"))) == ["Locum cover"])
        #expect(try r.register(.risk).count == 3)
        #expect(titles(try r.register(.risk, filter: RecordFilter(words: "deleted", includeDeleted: true))) == ["Deleted one"])
    }

    /// A filter's words are read as the register writes them, and a word it has no such value
    /// of, or a filter a register has no field for, is refused naming what it may be (the CLI
    /// audit: `--status opn` and `--band` on actions listed nothing, as if nothing matched).
    @Test func aFilterWordTheRegisterDoesNotHaveIsRefused() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        _ = try r.add(.risk, edits: [.set("title", s("Locum cover")), .set("score", score(5, 4)), .set("owner", s("Dr Siân Ŵyn")),
                                     .add("tags", s("Winter"))])
        let checked = try RecordFilter(band: "Extreme", status: "OPEN", escalation: "Health Board").checked(for: .risk)
        #expect(checked.band == "extreme" && checked.status == "open" && checked.escalation == "health-board")
        #expect(titles(try r.register(.risk, filter: try RecordFilter(band: "Extreme").checked(for: .risk))) == ["Locum cover"])
        #expect(titles(try r.register(.risk, filter: RecordFilter(owner: "sian wyn", tag: "winter"))) == ["Locum cover"], "as the search reads words")
        for (filter, type, named) in [
            (RecordFilter(status: "opn"), RecordType.risk, "--status must be one of open, closed for a risk; got \"opn\""),
            (RecordFilter(status: "done"), .action, "--status must be one of"),
            (RecordFilter(band: "hgh"), .risk, "--band must be one of low, moderate, high, extreme"),
            (RecordFilter(band: "high"), .action, "--band does not apply to an action's register"),
            (RecordFilter(escalation: "pcgp"), .risk, "--escalation must be one of"),
            (RecordFilter(tag: "x"), .declaration, "--tag does not apply"),
        ] {
            let error = #expect(throws: ClusterSyncError.self) { try filter.checked(for: type) }
            #expect(error?.message.hasPrefix(named) == true, "\(error?.message ?? "")")
        }
    }
}
