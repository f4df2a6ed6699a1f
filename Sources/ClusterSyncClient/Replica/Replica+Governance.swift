import ClusterSyncCore

/// Governance operations: what the CLI's meeting, decision, interests and attendance commands do.
extension Replica {
    /// The live meetings, terms of reference, decisions and declarations, for derived values.
    public func governance() throws -> GovernanceRecords {
        var views: [RecordView] = []
        for type in [RecordType.meeting, .terms, .decision, .declaration] { views += try records(type) }
        return GovernanceRecords(views, today: today)
    }

    /// The governance records for a list of `type`: a decision log's with each meeting's
    /// quorum worked out once, not again for each of its decisions.
    public func governance(listing type: RecordType) throws -> GovernanceRecords {
        let governance = try governance()
        return type == .decision ? governance.withQuorumsWorkedOut() : governance
    }

    /// Records an attendee of a meeting (a set member: adding the same attendee twice is one).
    @discardableResult
    /// Records an attendee; one recorded again under the same name (ignoring case and repeated
    /// spaces) is changed, not listed twice: a substitute recorded first without who agreed to
    /// it, then with, is one attendee, agreed (web audit: listed twice, the quorum left him out).
    public func attend(_ meeting: RecordID, _ attendee: Attendee) throws -> [Change] {
        let view = try requireType(meeting, .meeting)
        let value = attendee.jsonValue
        let replaced = Self.attendeeEntries(named: attendee.name, in: view).filter { $0 != value }
        let kept = view.members("attendees").contains(value)
        let edits = replaced.map { Edit.remove("attendees", $0) } + (kept ? [] : [.add("attendees", value)])
        guard !edits.isEmpty else { return [] }
        do {
            return try edit(edits.map { (meeting, $0) })
        } catch let error as ClusterSyncError {
            // Typed, not written as JSON: what is wrong, without the JSON shape (the CLI audit,
            // as the web app's audit found for its form).
            throw ClusterSyncError(error.code, Attendee.formMessage(error.message), field: error.field)
        }
    }

    /// Removes every attendee entry of that name (ignoring case and repeated spaces, as `attend`
    /// matches it) from a meeting; fails if there is none.
    @discardableResult
    public func unattend(_ meeting: RecordID, name: String) throws -> [Change] {
        let view = try requireType(meeting, .meeting)
        let entries = Self.attendeeEntries(named: name, in: view)
        guard !entries.isEmpty else {
            throw ClusterSyncError(.invalidValue, "\(meeting) has no attendee named \(PatientDataGuard.quotable(name) ?? "so")", field: "attendees")
        }
        return try edit(entries.map { (meeting, Edit.remove("attendees", $0)) })
    }

    /// Records (or changes) one member's vote on a decision: that member's own register. A name
    /// that matches a member who has voted, ignoring case and repeated spaces, changes that
    /// member's vote rather than adding a second voter.
    ///
    /// `forInterest`: the member abstains because of a declared interest (guide §3.7): the vote
    /// is `abstain` and the member is recorded in `abstained_for_interest`, in one transaction.
    /// `byProxy`: a proxy cast the vote for the absent member (guide §3.10), recorded in
    /// `voted_by_proxy`; a vote recorded again without it was cast in person, and the member
    /// leaves that set.
    @discardableResult
    public func vote(_ decision: RecordID, member: String, _ vote: String, forInterest: Bool = false, byProxy: Bool = false) throws -> [Change] {
        let view = try requireType(decision, .decision)
        let typed = member.trimmingCharacters(in: .whitespaces)
        guard !typed.isEmpty else { throw ClusterSyncError(.invalidValue, "a vote needs the member's name", field: "votes") }
        try GovernanceRecords.checkVoterName(typed)
        guard RecordSchema.voteChoices.contains(vote) else {
            throw ClusterSyncError(.invalidValue, "a vote is \(RecordSchema.voteChoices.joined(separator: ", ")); got \(PatientDataGuard.quotable(vote).map { "\"\($0)\"" } ?? "other text")"
                + " (a vote recorded in error is withdrawn, not recorded as nothing)", field: "votes")
        }
        // A withdrawn vote's key too: the member's register is the one written again.
        let key = view.entries(ofMap: "votes").map(\.key).first { GovernanceRecords.nameKey($0) == GovernanceRecords.nameKey(typed) } ?? typed
        if forInterest, vote != "abstain" {
            throw ClusterSyncError(.invalidValue, "a member with a declared interest abstains: the vote is abstain, not \(PatientDataGuard.quotable(vote) ?? "that")",
                                   field: "votes")
        }
        func entries(_ field: String) -> [JSONValue] {
            view.members(field).filter { $0.stringValue.map { GovernanceRecords.nameKey($0) == GovernanceRecords.nameKey(key) } == true }
        }
        var edits: [Edit] = [.set(FieldMap.field("votes", key: key), .string(vote))]
        if forInterest, entries("abstained_for_interest").isEmpty { edits.append(.add("abstained_for_interest", .string(key))) }
        let proxied = entries("voted_by_proxy")
        if byProxy, proxied.isEmpty { edits.append(.add("voted_by_proxy", .string(key))) }
        if !byProxy { edits += proxied.map { .remove("voted_by_proxy", $0) } }
        return try edit(edits.map { (decision, $0) })
    }

    /// Withdraws a vote recorded in error (the member did not vote): the member's entry is
    /// written as `FieldMap.withdrawn`, and the member leaves `voted_by_proxy` and
    /// `abstained_for_interest`, in one transaction. A name is matched as `vote` matches it.
    @discardableResult
    public func withdrawVote(_ decision: RecordID, member: String) throws -> [Change] {
        let view = try requireType(decision, .decision)
        let typed = GovernanceRecords.nameKey(member)
        let cast = view.mapValues("votes").keys.sorted()
        // The entry as written first (the app's button names it so), then as `vote` matches names.
        guard let key = cast.first(where: { $0 == member }) ?? cast.first(where: { GovernanceRecords.nameKey($0) == typed }) else {
            let named = PatientDataGuard.quotable(member.trimmingCharacters(in: .whitespaces)).map { "for \($0)" } ?? "under that name"
            throw ClusterSyncError(.invalidValue, "\(decision) has no vote recorded \(named); "
                + (cast.isEmpty ? "it has no votes" : "its votes are by \(cast.joined(separator: ", "))"), field: "votes")
        }
        var edits: [Edit] = [.set(FieldMap.field("votes", key: key), FieldMap.withdrawn)]
        for field in ["voted_by_proxy", "abstained_for_interest"] {
            edits += view.members(field).filter { $0.stringValue.map { GovernanceRecords.nameKey($0) == typed } == true }.map { .remove(field, $0) }
        }
        return try edit(edits.map { (decision, $0) })
    }

    /// Whether a vote's changes took a member out of `voted_by_proxy`: recorded again without
    /// `byProxy`, the vote now reads as cast in person, which a front end says (a chair
    /// correcting a proxy's vote would otherwise lose the mark unawares).
    public static func nowCastInPerson(_ changes: [Change]) -> Bool {
        changes.contains { $0.field == "voted_by_proxy" && $0.value == nil }
    }

    /// Interests in force for a meeting's attendees on its date, or for a decision.
    public func interestsInForce(for id: RecordID) throws -> [GovernanceRecords.InterestInForce] {
        guard id.type == .meeting || id.type == .decision else {
            throw ClusterSyncError(.wrongType, "\(id) is \(id.type.withArticle); interests are reported for a meeting (MTG-) or a decision (DEC-)")
        }
        let view = try requireType(id, id.type)
        let governance = try governance()
        return id.type == .meeting ? governance.interests(atMeeting: view) : governance.interests(forDecision: view)
    }

    /// GP Collaborative attendance for a QAIF year (default: the year containing today).
    public func attendance(year: QAIFYear? = nil) throws -> AttendanceReport {
        try refuseClusterReport("a cluster's attendance report")
        let today = self.today
        let views = try records(.meeting) + records(.terms)
        return AttendanceReport(records: views, year: year ?? QAIFYear(containing: today), today: today)
    }

    /// A meeting's attendee entries recorded under `name`, ignoring case and repeated spaces.
    static func attendeeEntries(named name: String, in meeting: RecordView) -> [JSONValue] {
        let key = GovernanceRecords.nameKey(name)
        return meeting.members("attendees").filter { Attendee($0).map { GovernanceRecords.nameKey($0.name) == key } == true }
    }

    @discardableResult
    /// The record an id typed by a person names (any letter case, as `RecordID(typed:)` reads
    /// it), of `type` when one is given: refused naming what was wrong (not an id, another
    /// type, not held here). The one check the CLI's commands and the app's routes share.
    public func requireRecord(typed text: String, of type: RecordType?) throws -> RecordView {
        guard let id = RecordID(typed: text) else {
            throw ClusterSyncError(.unknownRecord, "\"\(text)\" is not a record id (like RSK-7K3M9Q2X1A)")
        }
        if let type { return try requireType(id, type) }
        guard let view = try record(id), view.exists else { throw ClusterSyncError(.unknownRecord, "no record \(id) in this replica") }
        return view
    }

    func requireType(_ id: RecordID, _ type: RecordType) throws -> RecordView {
        guard id.type == type else { throw ClusterSyncError(.wrongType, "\(id) is \(id.type.withArticle), not \(type.withArticle)") }
        guard let view = try record(id), view.exists else { throw ClusterSyncError(.unknownRecord, "no record \(id) in this replica") }
        return view
    }
}

extension Replica {
    /// Overdue reviews (risks, terms of reference) and actions, earliest date first.
    public func overdue() throws -> [RecordView] {
        let today = self.today
        let views = try records(.risk) + records(.action) + records(.terms)
        func date(_ v: RecordView) -> Int { v.overdueDate?.dayNumber ?? .max }
        let governance = GovernanceRecords(views)
        return views.filter { !$0.isDeleted && governance.isOverdue($0, today: today) }.sorted { (date($0), $0.id) < (date($1), $1.id) }
    }
}

extension Replica {
    /// Appends a progress note to an action, dated today: one rule for the CLI's `action note`
    /// and the app's note form. An empty note is refused.
    @discardableResult
    public func addNote(_ action: RecordID, _ text: String) throws -> [Change] {
        _ = try requireType(action, .action)
        let note = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else { throw ClusterSyncError(.invalidValue, "a progress note needs some text", field: "notes") }
        return try edit([(action, .add("notes", .object(["date": .string(today.description), "text": .string(note)])))])
    }
}

extension Replica {
    /// Deletes a record (a tombstone: its history stays, and `restore` undoes it). One rule for
    /// the CLI's `delete` and the app's *Delete*: a record already deleted is said to be.
    @discardableResult
    public func delete(_ id: RecordID) throws -> [Change] {
        guard let view = try record(id), view.exists else {
            throw ClusterSyncError(.unknownRecord, "no record \(id) in this replica")
        }
        guard !view.isDeleted else { throw ClusterSyncError(.recordDeleted, "\(id) is already deleted") }
        return try edit([(id, .delete)])
    }

    /// Undoes a record's delete (and settles a delete and a restore made concurrently).
    @discardableResult
    public func restore(_ id: RecordID) throws -> [Change] {
        try edit([(id, .restore)])
    }
}
