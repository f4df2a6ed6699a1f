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

    @Test func quotesAroundWordsAreNotPartOfThem() {
        #expect(LinkSearch.matches("\"lhb premises\"", ids: ids, labels: labels) == [1])
        #expect(LinkSearch.matches("“Siân” 'winter'", ids: ids, labels: labels) == [0])
    }

    @Test func theWordsDecide() {
        #expect(LinkSearch.choose(typed: "premises", ids: ids, labels: labels) == .chosen("ACT-0000000002"))
        #expect(LinkSearch.choose(typed: "winter", ids: ids, labels: labels) == .several([0, 2, 3]))
        #expect(LinkSearch.choose(typed: "flu", ids: ids, labels: labels) == .none)
        #expect(LinkSearch.choose(typed: "flu", ids: [], labels: []) == .none)
        // An id not offered is taken as typed, for the rules that refuse it to say why (deleted,
        // private, of another type, linked already), not "nothing matches".
        #expect(LinkSearch.choose(typed: " rsk-0000000009 ", ids: ids, labels: labels) == .chosen("RSK-0000000009"))
        #expect(LinkSearch.choose(typed: "RSK-00000", ids: ids, labels: labels) == .none)
    }
}
