import ClusterSyncClient
import ClusterSyncCore
import Testing

/// The replica's side of the cluster lead's powers: a lead-only edit is refused before it reaches
/// the outbox unless the last welcome gave the lead's role; changes the server refused are held
/// back and go again with a lead's credential.
@Suite struct LeadPowersReplicaTests {
    @Test func aLeadOnlyEditIsRefusedLocallyAndNothingIsQueued() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Winter locum gap"))])
        let pending = try rhyl.pendingCount()
        for edit in [Edit.set("status", .string("closed")), .set("escalation", .string("pcpg")), .delete] {
            let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit(risk, edit) }
            #expect(error?.code == .leadOnly, "\(edit)")
            #expect(error?.message.contains("ask your cluster lead") == true)
        }
        #expect(try rhyl.pendingCount() == pending, "nothing waits in the outbox")
        #expect(try rhyl.record(risk)?.string("status") == nil)
        // A private risk is the practice's own to close.
        let own = try rhyl.create(.risk, private: true, edits: [.set("title", .string("Our lease"))])
        try rhyl.edit(own, .set("status", .string("closed")))

        // Once a welcome gives the lead's role, the same edits go through.
        try rhyl.rememberRole(.clusterLead, region: nil)
        #expect(try rhyl.grantedRole().role == .clusterLead)
        try rhyl.edit(risk, .set("status", .string("closed")))
        try rhyl.edit(risk, .delete)
    }

    @Test func onlyTheLeadWithdrawsAnEscalationAndAPrivateRiskIsNeverEscalated() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        try rhyl.rememberRole(.clusterLead, region: nil)
        let risk = try rhyl.add(.risk, edits: [.set("title", .string("Out-of-hours cover")), .set("escalation", .string("pcpg"))])
        try rhyl.rememberRole(.practice, region: nil)
        for level in ["cluster", "practice"] {
            let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit(risk, .set("escalation", .string(level))) }
            #expect(error?.code == .leadOnly, "\(level)")
            #expect(error?.message.hasPrefix("withdrawing a risk's escalation beyond the cluster") == true, "\(String(describing: error))")
        }
        #expect(try rhyl.record(risk)?.string("escalation") == "pcpg")
        try rhyl.rememberRole(.clusterLead, region: nil)
        try rhyl.edit(risk, .set("escalation", .string("cluster")))
        try rhyl.rememberRole(.practice, region: nil)
        try rhyl.edit(risk, .set("escalation", .string("practice")))

        let own = try rhyl.add(.risk, private: true, edits: [.set("title", .string("Our lease"))])
        for level in ["cluster", "pcpg"] {
            let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit(own, .set("escalation", .string(level))) }
            #expect(error?.code == .invalidValue && error?.field == "escalation", "\(level)")
            #expect(error?.message.contains("private to rhyl") == true, "\(String(describing: error))")
        }
        try rhyl.edit(own, .set("escalation", .string("practice")))
    }

    @Test func onlyTheLeadTakesAnActionOffAnEscalatedRisk() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        try rhyl.rememberRole(.clusterLead, region: nil)
        let risk = try rhyl.add(.risk, edits: [.set("title", .string("Out-of-hours cover")), .set("escalation", .string("pcpg"))])
        let other = try rhyl.add(.risk, edits: [.set("title", .string("Estates"))])
        let action = try rhyl.add(.action, edits: [.set("title", .string("Recruit a locum")), .set("source", .string(risk.rawValue))])
        try rhyl.edit(risk, .add("linked_actions", .string(action.rawValue)))
        try rhyl.rememberRole(.practice, region: nil)
        for (id, edit) in [(risk, Edit.remove("linked_actions", .string(action.rawValue))), (action, .set("source", .string(other.rawValue)))] {
            let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit(id, edit) }
            #expect(error?.code == .leadOnly, "\(edit)")
            #expect(error?.message.hasPrefix("taking an action off a risk escalated beyond the cluster") == true, "\(String(describing: error))")
        }
        #expect(try rhyl.record(risk)?.members("linked_actions") == [.string(action.rawValue)])
        // Within the cluster, an action moves freely.
        try rhyl.edit(other, .add("linked_actions", .string(action.rawValue)))
        try rhyl.edit(other, .remove("linked_actions", .string(action.rawValue)))
        try rhyl.rememberRole(.clusterLead, region: nil)
        try rhyl.edit(action, .set("source", .string(other.rawValue)))
        try rhyl.rememberRole(.practice, region: nil)
        try rhyl.edit(action, .set("source", .string(risk.rawValue)))
    }

    @Test func settlingAnotherPracticesValueNeedsTheLeadOnlyWhenTheReplicaKnowsWhoseItIs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let prestatyn = try makeReplica(dir, "prestatyn", practice: "prestatyn")
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Locum cover"))])
        _ = try prestatyn.merge(with: rhyl)
        try rhyl.edit(risk, .set("owner", .string("Rhyl")))
        let theirs = try prestatyn.edit(risk, .set("owner", .string("Prestatyn")))
        _ = try prestatyn.merge(with: rhyl)
        // Merged offline, prestatyn's value carries the name it was made with: whose it is, the
        // replica cannot tell, so it does not refuse (the server decides).
        try rhyl.edit(risk, .set("owner", .string("Both")))
        #expect(try rhyl.record(risk)?.conflicts.isEmpty == true)

        // A value the server stamped with prestatyn's practice is known to be prestatyn's.
        try prestatyn.edit(risk, .set("owner", .string("Prestatyn again")))
        let stamped = try prestatyn.outbox(limit: 100).last!
        try prestatyn.acknowledge([stamped.id], author: "prestatyn (laptop)")
        try rhyl.edit(risk, .set("owner", .string("Rhyl again")))
        _ = try prestatyn.merge(with: rhyl)
        #expect(try rhyl.record(risk)?.conflicts.count == 1)
        let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit(risk, .set("owner", .string("Settled"))) }
        #expect(error?.code == .leadOnly)
        #expect(error?.message.hasPrefix("resolving a conflict with another practice's value") == true)
        // Giving way, keeping prestatyn's value over its own, overrides nobody.
        let conflict = try #require(try rhyl.record(risk)?.conflicts.first)
        let (keep, _) = try ConflictResolution.keeping("prestatyn", conflict, of: try #require(try rhyl.record(risk)), values: ValueText(replica: rhyl))
        try rhyl.edit(risk, keep)
        #expect(try rhyl.record(risk)?.conflicts.isEmpty == true && (try rhyl.record(risk)?.string("owner")) == "Prestatyn again")
        _ = theirs
    }

    @Test func changesTheServerRefusedAreHeldBackAndReleasedForALead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        try rhyl.rememberRole(.clusterLead, region: nil)
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Winter locum gap"))])
        let close = try #require(try rhyl.edit(risk, .set("status", .string("closed"))).first)
        let pending = try rhyl.pendingCount()
        try rhyl.holdBack(close.id, code: .leadOnly, reason: "needs a cluster-lead credential")
        #expect(try rhyl.pendingCount() == pending - 1)
        #expect(try rhyl.heldBack().map(\.change) == [close.id])
        #expect(try rhyl.record(risk)?.string("status") == "closed", "it stays applied here")
        #expect(try rhyl.releaseHeldBack(coded: .leadOnly) == 1)
        #expect(try rhyl.pendingCount() == pending)
        #expect(try rhyl.heldBack().isEmpty)
    }
}
