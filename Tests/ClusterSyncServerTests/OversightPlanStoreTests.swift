import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// Cluster plans reach the PCPG of their region and the Health Board (seed 002: plans "inform
/// Pan Cluster Planning Group analysis, priorities and plans"), on every store: a plan past
/// draft with its priorities list and the list's items, whole; a draft, a private plan, another
/// list and another region's plan do not; a plan agreed later arrives whole, history and all.
@Suite struct OversightPlanStoreTests {
    static let now: Int64 = 1_795_426_200_000
    let nd = "north-denbighshire"

    func change(_ n: Int64, _ record: String, _ field: String, _ value: JSONValue, cluster: String = "north-denbighshire",
                practice: String? = nil, sup: [Int64] = []) -> Change {
        let r = ReplicaID("00000000000000a1")!
        return Change(id: ChangeID(replica: r, counter: n), hlc: HLCTimestamp(millis: Self.now - 60_000 + n),
                      record: RecordID(record)!, scope: RecordScope(tenant: "bcuhb", cluster: cluster, practice: practice),
                      field: field, value: value, supersedes: sup.map { ChangeID(replica: r, counter: $0) })
    }

    let plan = "PLN-3D5F7H9K1M", draft = "PLN-5G7J9M1N3P", privatePlan = "PLN-0A2C4E6G8J", wrexhamPlan = "PLN-1B3D5F7H9K"
    let priorities = "LST-2C4E6G8J0M", agenda = "LST-6H8K0M2P4R", draftPriorities = "LST-9T1V3X5Z7B"
    let first = "ITM-1B3D5F7H9K", second = "ITM-7M9P1R3T5V", gone = "ITM-5K7M9P1R3T", onTheAgenda = "ITM-4Q6S8V0W2Y"
    let ofTheDraft = "ITM-8W0Y2A4C6E"

    @Test(arguments: StoreBackend.available) func aPlanPastDraftReachesTheRegionWithItsPriorities(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { Self.now })
        try await store.addTenant("bcuhb")
        try await store.addRegion("conwy", tenant: "bcuhb")
        try await store.addRegion("wrexham-flint", tenant: "bcuhb")
        try await store.addCluster(nd, tenant: "bcuhb", region: "conwy")
        try await store.addCluster("wrexham", tenant: "bcuhb", region: "wrexham-flint")
        try await store.addPractice("rhyl", cluster: nd, tenant: "bcuhb")
        try await store.addPractice("gresford", cluster: "wrexham", tenant: "bcuhb")
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: nd, practice: "rhyl", author: "rhyl", role: .clusterLead)
        let gresford = SessionIdentity(tenant: "bcuhb", cluster: "wrexham", practice: "gresford", author: "gresford", role: .clusterLead)
        _ = try await store.push([
            change(1, plan, "title", .string("Cluster plan 2026-29")), change(2, plan, "status", .string("agreed")),
            change(3, plan, "priorities", .string(priorities)),
            change(4, priorities, "title", .string("Priorities 2026-29")), change(5, priorities, "kind", .string("priorities")),
            change(6, first, "list", .string(priorities)), change(7, first, "text", .string("Same-day access")),
            change(8, second, "list", .string(priorities)), change(9, second, "text", .string("Frailty pathway")),
            change(10, gone, "list", .string(priorities)), change(11, gone, "text", .string("Dropped")), change(12, gone, "deleted", .bool(true)),
            change(13, agenda, "title", .string("Board agenda")), change(14, onTheAgenda, "list", .string(agenda)),
            change(15, draft, "title", .string("Cluster plan 2027-30")), change(16, draft, "status", .string("draft")),
            change(17, draft, "priorities", .string(draftPriorities)), change(18, draftPriorities, "kind", .string("priorities")),
            change(19, ofTheDraft, "list", .string(draftPriorities)), change(20, ofTheDraft, "text", .string("Estates")),
            change(21, privatePlan, "title", .string("Practice plan"), practice: "rhyl"),
            change(22, privatePlan, "status", .string("agreed"), practice: "rhyl"),
        ], as: rhyl)
        let other = Change(id: ChangeID(replica: ReplicaID("00000000000000b2")!, counter: 1), hlc: HLCTimestamp(millis: Self.now - 1_000),
                           record: RecordID(wrexhamPlan)!, scope: RecordScope(tenant: "bcuhb", cluster: "wrexham"),
                           field: "status", value: .string("in-progress"), supersedes: [])
        _ = try await store.push([other], as: gresford)

        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        let board = SessionIdentity.oversight(tenant: "bcuhb", role: .healthBoard, region: nil, author: "board")
        let page = try await store.pull(for: pcpg, after: nil, limit: 1000)
        let listed = [first, second, priorities, plan]
        #expect(page.oversight?.escalated.map(\.record.rawValue) == listed.sorted())
        #expect(Set(page.changes.map(\.record.rawValue)) == Set(listed))
        #expect(page.changes.count == 9)
        let boardPage = try await store.pull(for: board, after: nil, limit: 1000)
        #expect(boardPage.oversight?.escalated.map(\.record.rawValue) == listed.sorted() + [wrexhamPlan])

        // An item added to the priorities arrives alone; nothing else goes again.
        let third = "ITM-3F5H7K9M1P"
        _ = try await store.push([change(23, third, "list", .string(priorities)), change(24, third, "text", .string("Workforce"))], as: rhyl)
        let added = try await store.pull(for: pcpg, after: page.cursor, limit: 1000)
        #expect(added.changes.map(\.record.rawValue) == [third, third])
        #expect(added.oversight?.escalated.map(\.record.rawValue) == (listed + [third]).sorted())

        // The plan's priorities written again to the list it names, and the list's kind to
        // priorities again (any practice may): each goes alone, the list and its items not
        // again (security review, forty-sixth session: they went whole, histories and all).
        _ = try await store.push([change(30, plan, "priorities", .string(priorities), sup: [3]),
                                  change(31, priorities, "kind", .string("priorities"), sup: [5])], as: rhyl)
        let writtenAgain = try await store.pull(for: pcpg, after: added.cursor, limit: 1000)
        #expect(writtenAgain.changes.map(\.id.counter).sorted() == [30, 31], "\(writtenAgain.changes.map(\.id))")
        // Named another list, the plan's priorities go whole (the new list and its items).
        let otherList = "LST-8J0K2N4Q6S", ofOther = "ITM-2D4F6H8K0M"
        _ = try await store.push([change(32, otherList, "kind", .string("priorities")), change(33, ofOther, "list", .string(otherList)),
                                  change(34, ofOther, "text", .string("Mental health")),
                                  change(35, plan, "priorities", .string(otherList), sup: [30])], as: rhyl)
        let renamed = try await store.pull(for: pcpg, after: writtenAgain.cursor, limit: 1000)
        #expect(Set(renamed.changes.map(\.record.rawValue)) == [otherList, ofOther, plan], "\(renamed.changes.map(\.id))")
        _ = try await store.push([change(36, plan, "priorities", .string(priorities), sup: [35])], as: rhyl)
        let back = try await store.pull(for: pcpg, after: renamed.cursor, limit: 1000)
        #expect(Set(back.changes.map(\.record.rawValue)).isSuperset(of: [priorities, first, second, third]), "\(back.changes.map(\.id))")

        // The draft agreed: it arrives whole with its priorities, its title written before included.
        _ = try await store.push([change(25, draft, "status", .string("agreed"), sup: [16])], as: rhyl)
        let agreed = try await store.pull(for: pcpg, after: back.cursor, limit: 1000)
        #expect(Set(agreed.changes.map(\.record.rawValue)) == [draft, draftPriorities, ofTheDraft])
        #expect(agreed.changes.contains { $0.record.rawValue == draft && $0.field == "title" })

        // Taken back to draft: withdrawn from the list with its priorities.
        _ = try await store.push([change(26, plan, "status", .string("draft"), sup: [2])], as: rhyl)
        let withdrawn = try await store.pull(for: pcpg, after: agreed.cursor, limit: 1000)
        #expect(withdrawn.oversight?.escalated.map(\.record.rawValue) == [ofTheDraft, draftPriorities, draft].sorted())
    }
}
