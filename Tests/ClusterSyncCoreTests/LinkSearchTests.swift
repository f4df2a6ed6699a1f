import ClusterSyncCore
import Testing

@Suite struct LinkSearchTests {
    let ids = ["ACT-0000000001", "ACT-0000000002", "ACT-0000000003", "DEC-0000000004"]
    let labels = ["Winter plan, Siân Evans", "Write to LHB about premises funding", "Winter pressures review", "Approve the winter plan, 3 Nov 2025"]

    @Test func anIdPicksOutItsRecordInAnyCapitals() {
        #expect(LinkSearch.matches("act-0000000002", ids: ids, labels: labels) == [1])
        #expect(LinkSearch.matches(" DEC-0000000004 ", ids: ids, labels: labels) == [3])
    }

    @Test func wordsMatchTheLabelInAnyOrderIgnoringCaseAndAccents() {
        #expect(LinkSearch.matches("sian winter", ids: ids, labels: labels) == [0])
        #expect(LinkSearch.matches("WINTER", ids: ids, labels: labels) == [0, 2, 3])
        #expect(LinkSearch.matches("premises lhb", ids: ids, labels: labels) == [1])
        #expect(LinkSearch.matches("nov 2025", ids: ids, labels: labels) == [3])
        #expect(LinkSearch.matches("flu", ids: ids, labels: labels).isEmpty)
        #expect(LinkSearch.matches("   ", ids: ids, labels: labels).isEmpty)
    }

    @Test func theWordsDecideUnlessOneTheyMatchWasChosenInTheList() {
        // One match: it, whatever the list shows.
        #expect(LinkSearch.choose(typed: "premises", chosen: "", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000002"))
        #expect(LinkSearch.choose(typed: "premises", chosen: "ACT-0000000001", baseline: "ACT-0000000001", ids: ids, labels: labels)
            == .chosen("ACT-0000000002"))
        // Several, nothing chosen among them: the person is shown them.
        #expect(LinkSearch.choose(typed: "winter", chosen: "", baseline: "", ids: ids, labels: labels) == .several([0, 2, 3]))
        // Then chooses one of them in the list, the words still typed.
        #expect(LinkSearch.choose(typed: "winter", chosen: "ACT-0000000003", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000003"))
        // An edit form's link left as it was does not count as a choice among the matches.
        #expect(LinkSearch.choose(typed: "winter", chosen: "ACT-0000000001", baseline: "ACT-0000000001", ids: ids, labels: labels)
            == .several([0, 2, 3]))
        // A choice changed to one the words do not match: the words decide.
        #expect(LinkSearch.choose(typed: "premises", chosen: "ACT-0000000003", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000002"))
        #expect(LinkSearch.choose(typed: "flu", chosen: "", baseline: "", ids: ids, labels: labels) == .none)
    }
}
