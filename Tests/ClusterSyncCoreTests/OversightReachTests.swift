import ClusterSyncCore
import Testing

/// Which listed records a read-only session's page sends whole (`OversightReach.sentWhole`):
/// those that may be new to a client that held what was listed before the logged changes.
@Suite struct OversightReachTests {
    let scope = RecordScope(tenant: "bcuhb", cluster: "conwy-east")
    let replica = ReplicaID("00000000000000b2")!

    func change(_ n: Int64, _ record: String, _ field: String, _ value: JSONValue, supersedes: [Int64] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n),
               record: RecordID(record)!, scope: scope, field: field, value: value,
               supersedes: supersedes.map { ChangeID(replica: replica, counter: $0) })
    }

    /// `linked_actions` is a set: each member is a write of its own.
    func views(_ changes: [Change]) -> [RecordView] {
        var byID: [RecordID: RecordView] = [:]
        for change in changes { byID[change.record] = RecordView.applying(change, to: byID[change.record]) }
        return Array(byID.values)
    }

    let risk = "RSK-7K3M9Q2X1A", linked = "ACT-4F8R2M6W0Z", sourced = "ACT-9H2K4M6P8R", other = "RSK-8M4N2P6Q0R"

    var history: [Change] {
        [change(1, risk, "title", .string("Locum gap")), change(2, risk, "escalation", .string("pcpg")),
         change(3, risk, "linked_actions", .string(linked)),
         change(4, linked, "title", .string("Advertise")), change(5, sourced, "title", .string("Ask the LMC")),
         change(6, sourced, "source", .string(risk)), change(7, other, "title", .string("Rota")),
         change(8, other, "escalation", .string("pcpg"))]
    }

    func whole(after logged: [Change]) -> [String] {
        let all = history + logged
        let listed = OversightReach.visible(views(all), role: .pcpg)
        return OversightReach.sentWhole(listed: listed, views: views(all), logged: logged).map(\.rawValue).sorted()
    }

    @Test func anEditToAListedRecordSendsNothingWhole() {
        #expect(whole(after: [change(9, risk, "owner", .string("Practice manager")), change(10, linked, "status", .string("open"))]).isEmpty)
    }

    @Test func aRiskWhoseEscalationChangedComesWholeWithItsActions() {
        #expect(whole(after: [change(9, risk, "escalation", .string("health-board"))]) == [linked, sourced, risk].sorted())
    }

    /// A link added to a listed risk sends the action it links whole, not the risk and its other
    /// actions again: a practice may add links freely, and each sent a risk's whole history (the
    /// fortieth session's security review). A new source sends its action whole.
    @Test func aNewLinkSendsItsActionWholeAndANewSourceItsAction() {
        #expect(whole(after: [change(9, risk, "linked_actions", .string(sourced))]) == [sourced])
        let fresh = "ACT-2B4D6F8H0J"
        #expect(whole(after: [change(9, fresh, "title", .string("Book a locum")), change(10, other, "linked_actions", .string(fresh))]) == [fresh])
        #expect(whole(after: [change(9, sourced, "source", .string(other))]) == [sourced])
        // Escalated and linked in the same pages: the risk may be new, so it goes whole with all.
        #expect(whole(after: [change(9, risk, "escalation", .string("health-board")), change(10, risk, "linked_actions", .string(sourced))])
                    == [linked, sourced, risk].sorted())
    }

    @Test func aRecordNoLongerListedIsNotSent() {
        // The lead's de-escalation supersedes the level; a write beside it would leave the risk listed.
        #expect(whole(after: [change(9, other, "escalation", .string("cluster"), supersedes: [8])]).isEmpty)
        #expect(whole(after: [change(9, other, "escalation", .string("cluster"))]) == [other])
    }

    // Cluster plans (seed 002: plans inform the PCPG's analysis): past draft, with their
    // priorities list and its items; a draft, another list and a private plan stay the cluster's.
    let plan = "PLN-3D5F7H9K1M", draft = "PLN-5G7J9M1N3P", priorities = "LST-2C4E6G8J0M", agenda = "LST-6H8K0M2P4R"
    let first = "ITM-1B3D5F7H9K", second = "ITM-7M9P1R3T5V", onTheAgenda = "ITM-4Q6S8V0W2Y", ofTheDraft = "ITM-8W0Y2A4C6E"
    let draftPriorities = "LST-9T1V3X5Z7B"

    var plans: [Change] {
        [change(11, plan, "title", .string("Cluster plan 2026-29")), change(12, plan, "status", .string("agreed")),
         change(13, plan, "priorities", .string(priorities)), change(14, priorities, "kind", .string("priorities")),
         change(15, first, "list", .string(priorities)), change(16, first, "text", .string("Same-day access")),
         change(17, second, "list", .string(priorities)), change(18, second, "text", .string("Frailty pathway")),
         change(19, agenda, "kind", .string("agenda")), change(20, onTheAgenda, "list", .string(agenda)),
         change(21, draft, "title", .string("Next year's")), change(22, draft, "status", .string("draft")),
         change(23, draft, "priorities", .string(draftPriorities)), change(24, ofTheDraft, "list", .string(draftPriorities)),
         change(25, draftPriorities, "kind", .string("priorities"))]
    }

    func listed(_ extra: [Change] = []) -> [String] {
        OversightReach.visible(views(history + plans + extra), role: .healthBoard).map(\.rawValue).filter { !$0.hasPrefix("RSK") && !$0.hasPrefix("ACT") }.sorted()
    }

    func wholePlans(after logged: [Change]) -> [String] {
        let all = history + plans + logged
        let listed = OversightReach.visible(views(all), role: .pcpg)
        return OversightReach.sentWhole(listed: listed, views: views(all), logged: logged).map(\.rawValue).sorted()
    }

    @Test func aPlanPastDraftIsListedWithItsPrioritiesAndTheirItems() {
        #expect(listed() == [first, second, priorities, plan].sorted())
        #expect(OversightReach.visible(views(plans), role: .practice).isEmpty && OversightReach.visible(views(plans), role: .clusterLead).isEmpty)
        // A deleted item leaves; a plan taken back to draft takes its priorities with it.
        #expect(listed([change(30, second, "deleted", .bool(true))]) == [first, priorities, plan].sorted())
        #expect(listed([change(30, plan, "status", .string("draft"), supersedes: [12])]).isEmpty)
        // A plan made private to a practice is never listed.
        let privateScope = RecordScope(tenant: "bcuhb", cluster: "conwy-east", practice: "rhyl")
        let own = Change(id: ChangeID(replica: replica, counter: 40), hlc: HLCTimestamp(millis: 1_700_000_000_040), record: RecordID("PLN-0A2C4E6G8J")!,
                         scope: privateScope, field: "status", value: .string("agreed"), supersedes: [])
        #expect(!OversightReach.visible(views(plans + [own]), role: .pcpg).contains(own.record))
    }

    @Test func aPlanAgreedComesWholeWithItsPrioritiesAndANewItemAsItsChanges() {
        #expect(wholePlans(after: [change(30, draft, "status", .string("agreed"), supersedes: [22])]) == [ofTheDraft, draftPriorities, draft].sorted())
        #expect(wholePlans(after: [change(30, plan, "description", .string("Summary"))]).isEmpty)
        let third = "ITM-3F5H7K9M1P"
        // A new item goes as its changes since the cursor, which are all it has.
        #expect(wholePlans(after: [change(30, third, "list", .string(priorities)), change(31, third, "text", .string("Estates"))]).isEmpty)
        // Other priorities named: that list and its items may be new to the client, not the
        // plan (any practice may write the field, as often as it likes). A list not of kind
        // priorities is never listed, whatever names it.
        let next = "LST-7B9D1F3H5K", nextItem = "ITM-2P4R6T8V0X"
        let nextList = [change(26, next, "kind", .string("priorities")), change(27, nextItem, "list", .string(next))]
        let all = history + plans + nextList + [change(30, plan, "priorities", .string(next), supersedes: [13])]
        let listed = OversightReach.visible(views(all), role: .pcpg)
        #expect(OversightReach.sentWhole(listed: listed, views: views(all), logged: [all.last!]).map(\.rawValue).sorted() == [nextItem, next].sorted())
        #expect(OversightReach.visible(views(history + plans + [change(30, plan, "priorities", .string(agenda), supersedes: [13])]), role: .pcpg)
                    .intersection([agenda, onTheAgenda, priorities].compactMap { RecordID($0) }).isEmpty)
        // A status is a listing field of a plan only: a risk's status sends nothing whole.
        #expect(wholePlans(after: [change(30, risk, "status", .string("closed"))]).isEmpty)
    }
}
