@testable import ClusterSyncApp
import ClusterSyncCore
import Testing

/// A link field's list and box (`LinkFinder`): what it lists, what it says beside the box, and
/// what a save comes to.
@Suite struct LinkFinderTests {
    let t = Catalogue.english

    func records(_ prefix: String, _ count: Int) -> [LinkFinder.Option] {
        (0..<count).map { (id: "\(prefix)-\(String(format: "%010d", $0))", name: "\(prefix) \($0)", owner: nil) }
    }

    /// A field naming several types lists some of each (a review found *Came from* listing the
    /// first 50 risks, and never a meeting or decision).
    @Test func aLongListSharesItsPlacesAmongItsTypes() {
        let finder = LinkFinder(groups: [records("RSK", 300), records("ACT", 2000), records("LST", 3), records("MTG", 150)])
        let (listed, hint) = finder.listing("", t: t)
        #expect(listed.count == 50)
        #expect(listed.filter { $0.id.hasPrefix("RSK") }.count == 16)
        #expect(listed.filter { $0.id.hasPrefix("ACT") }.count == 16)
        #expect(listed.filter { $0.id.hasPrefix("LST") }.count == 3)
        #expect(listed.filter { $0.id.hasPrefix("MTG") }.count == 15)
        // Each type's first, in their order, types in the field's order.
        #expect(listed.first?.name == "RSK 0" && listed.last?.name == "MTG 14")
        #expect(hint == "The list shows 50 of the 2453 held here. To link another, type its id, or words of its name or owner, then save.")
    }

    @Test func aShortListNeedsNoBox() {
        let finder = LinkFinder(groups: [records("ACT", 50)])
        let (listed, hint) = finder.listing("", t: t)
        #expect(listed.count == 50 && hint == nil)
        // Words typed all the same (a box kept after a refusal): listed with what they match.
        #expect(finder.listing("ACT 4", t: t).hint == "The list shows 14 of the 14 that match “ACT 4”.") // ACT 4, 14, 24, 34, 40–49
    }

    @Test func wordsListWhatTheyMatch() {
        let finder = LinkFinder(groups: [records("ACT", 2000)])
        let (listed, hint) = finder.listing("act 19", t: t)
        #expect(listed.count == 50 && listed.allSatisfy { $0.name.contains("19") })
        #expect(hint == "The list shows 50 of the 139 that match “act 19”.")
        // Words matching nothing list the first records again.
        #expect(finder.listing("flu", t: t).records.map(\.name).prefix(2) == ["ACT 0", "ACT 1"])
    }

    @Test func aSaveComesToOneRecordOrSaysWhyNot() throws {
        let finder = LinkFinder(groups: [records("ACT", 200)])
        #expect(try finder.read("act 150", label: "Actions", t: t).get() == "ACT-0000000150")
        #expect(try finder.read("act-0000000007", label: "Actions", t: t).get() == "ACT-0000000007")
        switch finder.read("act 15", label: "Actions", t: t) {
        case .success(let id): Issue.record("several matched, yet \(id) was chosen")
        case .failure(let refusal):
            #expect(refusal.several)
            #expect(refusal.message == "Actions: 12 records match “act 15”; choose one of them in the list, or type more words of its name or owner")
        }
        switch finder.read("flu", label: "Actions", t: t) {
        case .success(let id): Issue.record("nothing matched, yet \(id) was chosen")
        case .failure(let refusal):
            #expect(!refusal.several)
            #expect(refusal.message.hasPrefix("Actions: no record this may link to matches “flu”"))
        }
        // Nothing offered (every record linked already): words match nothing, and say so.
        #expect((try? LinkFinder(groups: []).read("act 1", label: "Actions", t: t).get()) == nil)
    }

    /// Dates typed as the forms take them, and months in full, find names that show them short;
    /// a day finds that day only, and a month's name no other word (a review: "5" found 15 and
    /// 25 Jan, "December" every "Decision").
    @Test func datesAndMonthsAreReadAsNamesShowThem() {
        let finder = LinkFinder(groups: [[(id: "MTG-0000000001", name: "Cluster board, 24 Dec 2025", owner: nil), (id: "MTG-0000000002", name: "Cluster board, 5 Jan 2026", owner: nil),
                                          (id: "MTG-0000000003", name: "Cluster board, 15 Jan 2026", owner: nil), (id: "DEC-0000000004", name: "Decision on premises, 25 Jan 2026", owner: nil)]])
        #expect(LinkFinder.searched("board 5/1/2026") == "board 05/01/2026")
        #expect(LinkFinder.searchText("Cluster board, 5 Jan 2026") == "Cluster board, 5 Jan 2026 05/01/2026 January")
        #expect(finder.listing("24/12/2025", t: t).records.map(\.id) == ["MTG-0000000001"])
        #expect(finder.listing("5/1/2026", t: t).records.map(\.id) == ["MTG-0000000002"])
        #expect(finder.listing("2026-01-15", t: t).records.map(\.id) == ["MTG-0000000003"])
        #expect(finder.listing("january 2026 board", t: t).records.map(\.id) == ["MTG-0000000002", "MTG-0000000003"])
        #expect(finder.listing("december", t: t).records.map(\.id) == ["MTG-0000000001"])
        #expect(finder.stillMatches("premises") && !finder.stillMatches("flu"))
    }

    /// An owner's words find the records they own, beside the name's (a chair looks for "the
    /// action Gareth took on"); the list still shows the name alone.
    @Test func anOwnersWordsFindWhatTheyOwn() throws {
        let finder = LinkFinder(groups: [[(id: "ACT-0000000001", name: "Write to the LHB", owner: "Gareth Jones"),
                                          (id: "ACT-0000000002", name: "Book the hall", owner: "Siân Evans"),
                                          (id: "ACT-0000000003", name: "Ask Gareth about rotas", owner: nil)]])
        #expect(finder.listing("sian", t: t).records.map(\.id) == ["ACT-0000000002"])
        #expect(finder.listing("gareth", t: t).records.map(\.id) == ["ACT-0000000001", "ACT-0000000003"])
        #expect(finder.listing("gareth lhb", t: t).records.map(\.name) == ["Write to the LHB"])
        #expect(try finder.read("jones", label: "Came from", t: t).get() == "ACT-0000000001")
        #expect(finder.stillMatches("evans") && !finder.stillMatches("hughes"))
    }

    /// A list typed by its id and not offered (of another kind, deleted, private) is refused
    /// here: the core does not check a list's kind.
    @Test func aListNotOfferedIsRefused() throws {
        let finder = LinkFinder(groups: [[(id: "LST-0000000001", name: "Board agenda", owner: nil)]])
        #expect(try finder.read("lst-0000000001", label: "Agenda", t: t).get() == "LST-0000000001")
        guard case .failure(let refusal) = finder.read("LST-0000000009", label: "Agenda", t: t) else {
            Issue.record("a list not offered was taken")
            return
        }
        #expect(refusal.message.hasPrefix("Agenda: LST-0000000009 is not a list this may link to"))
    }
}
