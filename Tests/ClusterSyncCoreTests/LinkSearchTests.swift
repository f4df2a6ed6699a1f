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

    @Test func theWordsDecideUnlessTheListsChoiceWasChanged() {
        // One match: it, when the list was left as it was drawn.
        #expect(LinkSearch.choose(typed: "premises", chosen: "", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000002"))
        #expect(LinkSearch.choose(typed: "premises", chosen: "ACT-0000000001", baseline: "ACT-0000000001", ids: ids, labels: labels)
            == .chosen("ACT-0000000002"))
        // Several, the list left alone: the person is shown them.
        #expect(LinkSearch.choose(typed: "winter", chosen: "", baseline: "", ids: ids, labels: labels) == .several([0, 2, 3]))
        #expect(LinkSearch.choose(typed: "winter", chosen: "ACT-0000000001", baseline: "ACT-0000000001", ids: ids, labels: labels)
            == .several([0, 2, 3]))
        // Then chooses in the list, the words still typed: the choice is theirs, one the words
        // match or not (after "nothing matches", the list shows the first records).
        #expect(LinkSearch.choose(typed: "winter", chosen: "ACT-0000000003", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000003"))
        #expect(LinkSearch.choose(typed: "flu", chosen: "ACT-0000000002", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000002"))
        #expect(LinkSearch.choose(typed: "premises", chosen: "ACT-0000000003", baseline: "ACT-0000000001", ids: ids, labels: labels)
            == .chosen("ACT-0000000003"))
        // A choice the field does not offer is no choice: the words decide.
        #expect(LinkSearch.choose(typed: "premises", chosen: "RSK-0000000009", baseline: "", ids: ids, labels: labels) == .chosen("ACT-0000000002"))
        #expect(LinkSearch.choose(typed: "flu", chosen: "", baseline: "", ids: ids, labels: labels) == .none)
        #expect(LinkSearch.choose(typed: "flu", chosen: "", baseline: "", ids: [], labels: []) == .none)
    }
}
