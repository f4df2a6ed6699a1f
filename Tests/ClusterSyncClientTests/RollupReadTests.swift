import ClusterSyncClient
import ClusterSyncClientTesting
import ClusterSyncCore
import Testing

/// A practice's roll-up reads only the fields contributions are made of (`rollupInputs`), not
/// every note and minute: it must come out as the roll-up of the records read whole.
@Suite struct RollupReadTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }
    func s(_ text: String) -> JSONValue { .string(text) }

    @Test func theRollupOfItsInputsIsTheRollupOfWholeRecords() throws {
        defer { dir.remove() }
        let r = try makeReplica(dir, "a", practice: "prestatyn", clock: { 1_795_000_000_000 })
        var rng = SplitMix64(seed: 51)
        for _ in 0..<300 { try RandomEdits.perform(on: r, using: &rng) }
        // A record with none of the fields its contribution reads still counts (an open risk).
        _ = try r.create(.risk, edits: [.set("description", s("written before its title"))])
        _ = try r.create(.action, edits: [.set("owner", s("Practice manager"))])
        let meeting = try r.create(.meeting, edits: [.set("title", s("Board")), .set("body", s("stakeholder-board")),
                                                     .set("date", s("2026-10-15")), .set("status", s("held")), .set("minutes", s("Long minutes"))])
        try r.attend(meeting, Attendee(name: "Ceri Lloyd", role: "member", practice: "prestatyn"))
        _ = try r.create(.decision, edits: [.set("title", s("Fund the pilot")), .set("date", s("2026-10-15")), .set("outcome", s("agreed")),
                                            .set("financial_implications", .bool(true)), .set("amount", s("1200.00"))])
        _ = try r.create(.terms, edits: [.set("title", s("ToR")), .set("body", s("stakeholder-board")), .set("date_agreed", s("2026-04-01")),
                                         .add("practices", s("prestatyn"))])
        _ = try r.create(.contribution, edits: [.set("contributor", s("prestatyn")), .set("year", s("2026-27")), .set("date", s("2026-11-01"))])
        _ = try r.create(.risk, edits: [.set("title", s("Tagged")), .set("status", s("open")), .set("category", s("clinical")), .add("tags", s("winter"))])
        _ = try r.create(.action, edits: [.set("title", s("Noted")), .set("status", s("complete")), .set("due_date", s("2026-10-01")),
                                          .add("notes", .object(["date": s("2026-11-02"), "text": s("Done at the board")]))])
        _ = try r.create(.risk, private: true, edits: [.set("title", s("Private")), .set("status", s("open"))])

        let whole = try r.records().filter { $0.scope.practice == nil }
        let expected = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: whole, today: r.today)
        let read = try r.rollup()
        #expect(read.clusters == [expected])
        // Not a roll-up of nothing: the records above count.
        #expect(expected != ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: [], today: r.today))
    }
}
