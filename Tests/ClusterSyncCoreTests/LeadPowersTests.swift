import Testing

@testable import ClusterSyncCore

/// The cluster lead's powers: the one rule both ends apply (`LeadPowers`).
@Suite struct LeadPowersTests {
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    static let mine = RecordScope(tenant: "bcuhb", cluster: "north", practice: "rhyl")
    static let a = ReplicaID("00000000000000a1")!, b = ReplicaID("00000000000000b2")!

    func change(_ type: RecordType, _ field: String, _ value: JSONValue?, scope: RecordScope = shared, supersedes: Int = 0) -> Change {
        Change(id: ChangeID(replica: Self.a, counter: 9), hlc: HLCTimestamp(millis: 1_790_000_000_000), record: RecordID.random(for: type),
               scope: scope, field: field, value: value,
               supersedes: (0..<supersedes).map { ChangeID(replica: $0 == 0 ? Self.a : Self.b, counter: Int64($0 + 1)) })
    }

    func needed(_ change: Change, _ practices: [String?] = []) -> LeadPowers.Power? {
        LeadPowers.needed(for: change, by: "rhyl", supersededPractices: practices)
    }

    @Test func closingEscalatingAndDeletingSharedRecordsNeedTheLead() {
        #expect(needed(change(.risk, "status", .string("closed"))) == .close)
        #expect(needed(change(.risk, "status", .string("open"))) == nil)
        #expect(needed(change(.action, "status", .string("closed"))) == .close)
        #expect(needed(change(.action, "status", .string("cancelled"))) == .close)
        #expect(needed(change(.action, "status", .string("complete"))) == nil, "the owner reports an action done")
        #expect(needed(change(.meeting, "status", .string("cancelled"))) == nil)
        #expect(needed(change(.risk, "escalation", .string("pcpg"))) == .escalate)
        #expect(needed(change(.risk, "escalation", .string("health-board"))) == .escalate)
        #expect(needed(change(.risk, "escalation", .string("cluster"))) == nil)
        #expect(needed(change(.risk, "escalation", .string("pcpg"), scope: Self.mine)) == .escalate, "a private risk shown beyond the cluster")
        #expect(needed(change(.list, "deleted", .bool(true))) == .deleteShared)
        #expect(needed(change(.list, "deleted", .bool(false))) == nil, "restoring")
        #expect(needed(change(.item, "deleted", .bool(true))) == nil, "removing an item edits its list")
        // A practice's own records are its own.
        #expect(needed(change(.risk, "status", .string("closed"), scope: Self.mine)) == nil)
        #expect(needed(change(.risk, "deleted", .bool(true), scope: Self.mine)) == nil)
    }

    /// A shared plan past draft goes to the PCPG and the Health Board, so recording it so is the
    /// lead's (forty-fourth session's review: any practice could send a draft, or re-send a
    /// plan's priorities to every read-only sync by writing its status again).
    @Test func recordingASharedPlanPastDraftNeedsTheLead() {
        #expect(needed(change(.plan, "status", .string("agreed"))) == .agreePlan)
        #expect(needed(change(.plan, "status", .string("in-progress"))) == .agreePlan)
        #expect(needed(change(.plan, "status", .string("draft"))) == nil)
        #expect(needed(change(.plan, "title", .string("Plan 2026-29"))) == nil)
        #expect(needed(change(.plan, "status", .string("agreed"), scope: Self.mine)) == nil, "a practice's own plan stays its own")
        #expect(LeadPowers.power(writing: "status", of: .plan) == .agreePlan)
    }

    @Test func withdrawingAnEscalationBeyondTheClusterNeedsTheLead() {
        func withdraw(to level: JSONValue?, from previous: JSONValue?, scope: RecordScope = Self.shared) -> LeadPowers.Power? {
            LeadPowers.needed(for: change(.risk, "escalation", level, scope: scope, supersedes: 1), by: "rhyl",
                              supersededPractices: ["prestatyn"], supersededValues: [previous])
        }
        #expect(withdraw(to: .string("cluster"), from: .string("pcpg")) == .withdrawEscalation)
        #expect(withdraw(to: .string("practice"), from: .string("health-board")) == .withdrawEscalation)
        #expect(withdraw(to: .string("health-board"), from: .string("pcpg")) == .escalate)
        #expect(withdraw(to: .string("practice"), from: .string("cluster")) == nil)
        #expect(withdraw(to: .string("cluster"), from: nil) == nil, "a value this end does not hold withdraws nothing here")
        #expect(withdraw(to: .string("cluster"), from: .string("pcpg"), scope: Self.mine) == nil, "a private risk is never seen beyond")
        #expect(LeadPowers.Power.withdrawEscalation.words(for: .risk) == "withdrawing a risk's escalation beyond the cluster")
    }

    @Test func takingAnActionOffAnEscalatedRiskNeedsTheLead() {
        // A removal from the risk's linked actions: the risk itself is the one left.
        let unlink = change(.risk, "linked_actions", nil, supersedes: 1)
        #expect(LeadPowers.risksLeft(by: unlink, supersededValues: []) == [unlink.record])
        func needed(_ change: Change, from values: [JSONValue?] = [], escalated: Set<RecordID>) -> LeadPowers.Power? {
            LeadPowers.needed(for: change, by: "rhyl", supersededPractices: change.supersedes.map { _ in "rhyl" },
                              supersededValues: values, escalatedRisks: escalated)
        }
        #expect(needed(unlink, escalated: [unlink.record]) == .withdrawAction)
        #expect(needed(unlink, escalated: []) == nil, "a risk kept within the cluster")
        #expect(needed(change(.risk, "linked_actions", .string("ACT-7K3M9Q2X1C")), escalated: [unlink.record]) == nil, "linking one")
        // An action's source moved off an escalated risk (or cleared), not the same risk named again.
        let risk = RecordID("RSK-7K3M9Q2X1C")!, other = RecordID("RSK-8K3M9Q2X1C")!
        let moved = change(.action, "source", .string(other.rawValue), supersedes: 1)
        #expect(LeadPowers.readsSupersededValues(moved))
        #expect(LeadPowers.risksLeft(by: moved, supersededValues: [.string(risk.rawValue)]) == [risk])
        #expect(needed(moved, from: [.string(risk.rawValue)], escalated: [risk]) == .withdrawAction)
        #expect(needed(change(.action, "source", nil, supersedes: 1), from: [.string(risk.rawValue)], escalated: [risk]) == .withdrawAction)
        #expect(needed(change(.action, "source", .string(risk.rawValue), supersedes: 1), from: [.string(risk.rawValue)], escalated: [risk]) == nil)
        #expect(needed(moved, from: [.string(risk.rawValue)], escalated: [other]) == nil, "left a risk not escalated")
        #expect(LeadPowers.risksLeft(by: change(.action, "source", nil, scope: Self.mine, supersedes: 1), supersededValues: [.string(risk.rawValue)]).isEmpty,
                "a private action is never seen beyond")
        #expect(LeadPowers.Power.withdrawAction.words(for: .action) == "taking an action off a risk escalated beyond the cluster")
    }

    @Test func resolvingAConflictWithAnotherPracticesValueNeedsTheLead() {
        let settle = change(.risk, "title", .string("Winter locum cover"), supersedes: 2)
        #expect(needed(settle, ["rhyl", "prestatyn"]) == .resolveConflict)
        #expect(needed(settle, ["rhyl", "rhyl"]) == nil, "two laptops of one practice")
        #expect(needed(settle, ["rhyl", nil]) == nil, "a value whose practice this end does not know")
        #expect(needed(change(.risk, "title", .string("x"), supersedes: 1), ["prestatyn"]) == nil, "an ordinary edit of another's value")
        #expect(needed(change(.risk, "tags", nil, supersedes: 2), ["rhyl", "prestatyn"]) == nil, "a set member's removal")
        #expect(LeadPowers.readsSupersededValues(settle), "the values decide whether another practice's is overridden")
        #expect(!LeadPowers.readsSupersededValues(change(.risk, "title", .string("x"), supersedes: 1)))
    }

    /// Keeping the other practice's value over one's own overrides nobody (a practice whose edit
    /// was held back for the lead gives way to the lead's settlement: the CLI audit found it
    /// stuck with a conflict only the lead could clear, and the lead had none); values that agree
    /// are no conflict, so writing over them is an ordinary edit.
    @Test func givingWayOrEditingOverValuesThatAgreeNeedsNoLead() {
        func needed(_ value: String, over values: [JSONValue?], _ practices: [String?]) -> LeadPowers.Power? {
            LeadPowers.needed(for: change(.risk, "effect", .string(value), supersedes: values.count), by: "rhyl",
                              supersededPractices: practices, supersededValues: values)
        }
        let mine = JSONValue.string("C"), leads = JSONValue.string("D")
        #expect(needed("D", over: [mine, leads], ["rhyl", "prestatyn"]) == nil, "giving way to the other practice's value")
        #expect(needed("X", over: [mine, leads], ["rhyl", "prestatyn"]) == .resolveConflict)
        #expect(needed("C", over: [mine, leads], ["rhyl", "prestatyn"]) == .resolveConflict, "keeping one's own")
        #expect(needed("X", over: [leads, leads], ["rhyl", "prestatyn"]) == nil, "values that agree are no conflict")
        #expect(needed("D", over: [nil, leads], ["rhyl", "prestatyn"]) == nil, "one's own value, not held at the server")
        #expect(needed("X", over: [nil, leads], ["rhyl", "prestatyn"]) == .resolveConflict, "a value not held counts as differing")
        #expect(needed("D", over: [mine, leads, .string("F")], ["rhyl", "prestatyn", "meliden"]) == .resolveConflict,
                "a third practice's value overridden")
        #expect(needed("D", over: [mine, leads], ["rhyl", "prestatyn"]) == nil)
        // Giving way never opens the two-step route: a write of its own left live still needs the lead.
        #expect(LeadPowers.needed(for: change(.risk, "effect", leads, supersedes: 1), by: "rhyl", supersededPractices: ["prestatyn"],
                                  supersededValues: [leads], leavesOwnWriteLive: true) == .resolveConflict)
    }

    /// The first of two steps that would settle a conflict without the lead: superseding only
    /// the other practice's value while a write of the change's own maker stays live.
    @Test func supersedingAnotherPracticesValueBesideOnesOwnNeedsTheLead() {
        let mine = ChangeID(replica: Self.a, counter: 3), theirs = ChangeID(replica: Self.b, counter: 4)
        var pick = change(.risk, "title", .string("Winter locum cover"))
        pick.supersedes = [theirs]
        #expect(LeadPowers.readsOwnLiveWrites(pick, by: "rhyl", supersededPractices: ["prestatyn"]))
        #expect(!LeadPowers.readsOwnLiveWrites(pick, by: "rhyl", supersededPractices: ["rhyl"]), "its own practice's value")
        #expect(!LeadPowers.readsOwnLiveWrites(pick, by: "rhyl", supersededPractices: [nil]), "a value whose practice this end does not know")
        #expect(LeadPowers.leavesOwnWriteLive(pick, ownLiveWrites: [mine]))
        #expect(!LeadPowers.leavesOwnWriteLive(pick, ownLiveWrites: []))
        #expect(LeadPowers.needed(for: pick, by: "rhyl", supersededPractices: ["prestatyn"], leavesOwnWriteLive: true) == .resolveConflict)
        #expect(LeadPowers.needed(for: pick, by: "rhyl", supersededPractices: ["prestatyn"], leavesOwnWriteLive: false) == nil)
        #expect(LeadPowers.needed(for: pick, by: "rhyl", supersededPractices: ["rhyl"], leavesOwnWriteLive: true) == nil)

        // The same push's earlier changes: a write of its maker to the field is live; one that a
        // change before it superseded is not; other fields and records do not count.
        var earlierWrite = change(.risk, "title", .string("Draft"))
        earlierWrite.record = pick.record
        earlierWrite.id = mine
        #expect(LeadPowers.leavesOwnWriteLive(pick, ownLiveWrites: [], earlier: [earlierWrite]))
        var otherMaker = earlierWrite
        otherMaker.id = ChangeID(replica: Self.b, counter: 9)
        otherMaker.supersedes = [mine]
        #expect(!LeadPowers.leavesOwnWriteLive(pick, ownLiveWrites: [mine], earlier: [otherMaker]))
        var otherField = earlierWrite
        otherField.field = "owner"
        #expect(!LeadPowers.leavesOwnWriteLive(pick, ownLiveWrites: [], earlier: [otherField]))
        var bothSuperseded = pick
        bothSuperseded.supersedes = [theirs, mine]
        #expect(!LeadPowers.leavesOwnWriteLive(bothSuperseded, ownLiveWrites: [mine]))
    }

    @Test func theRoleDecidesAndTheRefusalSaysWhatToDo() throws {
        let close = change(.risk, "status", .string("closed"))
        try LeadPowers.check(close, role: .clusterLead, practice: "rhyl", supersededPractices: [], receiver: .replica)
        for role in [CredentialRole.practice, .pcpg, .healthBoard] {
            let error = #expect(throws: ClusterSyncError.self) {
                try LeadPowers.check(close, role: role, practice: "rhyl", supersededPractices: [], receiver: .replica)
            }
            #expect(error?.code == .leadOnly)
            #expect(error?.message.contains("ask your cluster lead, or sync with a cluster-lead credential") == true)
        }
        let server = #expect(throws: ClusterSyncError.self) {
            try LeadPowers.check(close, role: .practice, practice: "rhyl", supersededPractices: [], receiver: .server)
        }
        #expect(server?.message.hasPrefix("change \(close.id) is closing a risk") == true, "\(String(describing: server))")
    }

    @Test func thePracticeInAServersStamp() {
        #expect(LeadPowers.practice(stampedIn: "rhyl") == "rhyl")
        #expect(LeadPowers.practice(stampedIn: "rhyl (Dr Jones laptop)") == "rhyl")
        #expect(LeadPowers.practice(stampedIn: "W95010 (Siân Evans)") == "W95010")
        #expect(LeadPowers.practice(stampedIn: "Practice manager, Rhyl via prestatyn") == nil)
        #expect(LeadPowers.practice(stampedIn: "Practice manager, Rhyl") == nil)
        #expect(LeadPowers.practice(stampedIn: nil) == nil)
    }
}
