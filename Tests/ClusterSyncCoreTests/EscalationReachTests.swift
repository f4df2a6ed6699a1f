import ClusterSyncCore
import Testing

/// Which listed records a read-only session's page sends whole (`EscalationReach.sentWhole`):
/// those that may be new to a client that held what was listed before the logged changes.
@Suite struct EscalationReachTests {
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
        let listed = EscalationReach.visible(views(all), role: .pcpg)
        return EscalationReach.sentWhole(listed: listed, views: views(all), logged: logged).map(\.rawValue).sorted()
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
}
