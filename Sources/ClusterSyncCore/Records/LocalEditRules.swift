/// Rules for edits made here, which a replica does not apply to changes it receives (those may
/// arrive in any order, so a link may arrive before the record it names).
public enum LocalEditRules {
    /// Statuses that mean an action is done.
    static let doneStatuses: Set<String> = ["complete", "closed"]

    /// Edits the given ones imply for one record: setting an action complete (or closed) fills
    /// its completed date with today, unless the edits give one or it was already done, and
    /// reopening one empties it, unless the edits give one; linking
    /// a decision to a meeting dates it by the meeting (`meetingDate` reads it), unless the edits
    /// give a date: minutes typed up later, or a meeting corrected, still date the decision by
    /// the day it was taken.
    public static func implied(by edits: [Edit], type: RecordType, current: RecordView?, today: CalendarDate,
                               meetingDate: (RecordID) -> CalendarDate? = { _ in nil }) -> [Edit] {
        if type == .decision {
            var meeting: RecordID?
            for edit in edits {
                switch edit {
                case .set("date", _): return []
                case .set("meeting", let value): meeting = value.stringValue.flatMap { RecordID($0) }
                default: break
                }
            }
            guard let meeting, let date = meetingDate(meeting) else { return [] }
            return [.set("date", .string(date.description))]
        }
        guard type == .action, let written = statusLeftToRules(edits) else { return [] }
        let wasDone = current?.string("status").map(doneStatuses.contains) ?? false
        if written.stringValue.map(doneStatuses.contains) ?? false {
            return wasDone ? [] : [.set("completed_date", .string(today.description))]
        }
        // Reopened (set done by mistake, or work found left): it is not completed, so its
        // completion date goes, as the completion wrote it.
        return wasDone && current?.value("completed_date") != nil ? [.set("completed_date", RecordView.emptiedDate)] : []
    }

    /// Whether what `edits` imply depends on the record as it stands (`implied`'s `current`):
    /// an action's status set without its completion date, which completing dates and
    /// reopening empties. An edit session reads the record only then.
    public static func readsCurrent(_ edits: [Edit], type: RecordType) -> Bool {
        type == .action && statusLeftToRules(edits) != nil
    }

    /// The status `edits` write on an action whose completion date they leave to these rules:
    /// nil when they write none, or write the completion date themselves.
    private static func statusLeftToRules(_ edits: [Edit]) -> JSONValue? {
        var status: JSONValue?
        for edit in edits {
            switch edit {
            case .set("completed_date", _): return nil
            case .set("status", let value): status = value
            default: break
            }
        }
        return status
    }

    /// Whether `edits` give a record its date.
    public static func setsDate(_ edits: [Edit]) -> Bool {
        edits.contains { if case .set("date", _) = $0 { true } else { false } }
    }

    /// The day `edits` move a meeting to, when they set its date.
    public static func rescheduledDate(of type: RecordType, by edits: [Edit]) -> CalendarDate? {
        guard type == .meeting else { return nil }
        var date: CalendarDate?
        for case .set("date", let value) in edits { date = value.stringValue.flatMap(CalendarDate.init) }
        return date
    }

    /// Rescheduling a meeting moves the decisions it dates: each live decision linked to the
    /// meeting and dated on its old day takes the new day. A decision dated otherwise (a date
    /// typed for it) keeps its own, as linking it would have; so does one whose date is in
    /// conflict (moving it would settle the conflict unseen), and one whose date `dated` names
    /// (given in the same edit).
    public static func decisionsFollowing(_ meeting: RecordID, from old: CalendarDate?, to new: CalendarDate,
                                          decisions: [RecordView], dated: Set<RecordID> = []) -> [(RecordID, Edit)] {
        guard let old, old != new else { return [] }
        return decisions.filter {
            $0.type == .decision && !$0.isDeleted && $0.string("meeting") == meeting.rawValue && $0.date("date") == old
                && ($0.writes["date"]?.count ?? 0) <= 1 && !dated.contains($0.id)
        }.map { ($0.id, .set("date", .string(new.description))) }
    }

    /// Refuses escalating a practice-private risk: nobody beyond its practice ever sees it (a
    /// roll-up and a PCPG's or Health Board's replica leave private records out), so the level
    /// would promise what does not happen.
    public static func checkEscalation(of record: RecordID, scope: RecordScope, field: String, to value: JSONValue?) throws(ClusterSyncError) {
        guard record.type == .risk, field == "escalation", let practice = scope.practice,
              let level = value?.stringValue, level != "practice" else { return }
        throw ClusterSyncError(.invalidValue,
            "\(record) is private to \(practice), so nobody beyond the practice sees it and it cannot be escalated to \(level); "
            + "record the risk as one shared with the cluster (without --private) to escalate it", field: field)
    }

    /// Refuses a contribution's `year` that is not a QAIF year (`2026-27`): such a contribution
    /// counts in no year's figures (review, forty-second session). The editor's rule, not
    /// admission's: a text year stored before is still received.
    public static func checkContributionYear(of record: RecordID, field: String, to value: JSONValue?) throws(ClusterSyncError) {
        guard record.type == .contribution, field == "year", let text = value?.stringValue, QAIFYear(text) == nil else { return }
        throw ClusterSyncError(.invalidValue,
            "year must be a QAIF year written like 2026-27 (1 October 2026 to 30 September 2027); got \(PatientDataGuard.quotable(text) ?? "something else")",
            field: field)
    }

    /// Refuses an action's completion date after today: work is completed on a day that has
    /// come, and a date typed a month or a year out (the chair's audit typed one) made the
    /// action read as done on a day nobody has seen. A day's grace, since `today` is the UTC
    /// day and Wales is an hour ahead of it in summer. The editor's rule, not admission's: a
    /// value the field already holds (`held`: a conflict settled by keeping one side) is kept.
    public static func checkCompletionDate(of record: RecordID, field: String, to value: JSONValue?, today: CalendarDate,
                                           held: [JSONValue] = []) throws(ClusterSyncError) {
        guard record.type == .action, field == "completed_date", let value, let text = value.stringValue, let day = CalendarDate(text),
              day.dayNumber > today.dayNumber + 1, !held.contains(value) else { return }
        throw ClusterSyncError(.invalidValue,
            "completed_date must be a day that has come (today is \(today)); got \(day): give the day the work was done, or leave it empty until then",
            field: field)
    }

    /// The practice ids a value of `field` names, for the fields that name practices by id: a
    /// meeting's attendee (`practice`, `represents`), a terms of reference's `practices`, a
    /// contribution's `contributor`. Nil for every other field.
    public static func practiceIDs(in type: RecordType, field: String, value: JSONValue) -> [String]? {
        switch (type, field) {
        case (.meeting, "attendees"): Attendee(value).map { [$0.practice, $0.represents].compactMap { $0 } } ?? []
        case (.terms, "practices"), (.contribution, "contributor"): value.stringValue.map { [$0] } ?? []
        default: nil
        }
    }

    /// Checks the practice ids an edit here writes (`practiceIDs`): each in the form a
    /// registered practice has (`PracticeName`), and none a practice id this cluster already
    /// uses (`known`: the replica's own and those its records name) written with other capitals:
    /// "Rhyl" beside "rhyl" split one practice's GP Collaborative attendance in two, and "Prestatyn
    /// Medical" in a terms of reference listed a practice that never attends (web app audit,
    /// forty-third session). Received changes are not checked: ids stored before stay readable.
    public static func checkPracticeIDs(of type: RecordType, field: String, to value: JSONValue?,
                                        known: () throws -> Set<String>) throws {
        guard let value, let ids = practiceIDs(in: type, field: field, value: value), !ids.isEmpty else { return }
        let label = type == .contribution ? "the contributor" : type == .terms ? "practices" : "an attendee's practice"
        for id in ids where !PracticeName.isValid(id) {
            throw ClusterSyncError(.invalidValue,
                "\(label) must be a practice's id as the cluster registered it (such as prestatyn): 1 to 64 of A-Z, a-z, 0-9, '.', '_' or '-', "
                + "starting with a letter or digit; got \(PatientDataGuard.quotable(id).map { "\"\($0)\"" } ?? "something else")", field: field)
        }
        let known = try known()
        for id in ids where !known.contains(id) {
            if let same = known.first(where: { $0.lowercased() == id.lowercased() }) {
                throw ClusterSyncError(.invalidValue,
                    "\(label) \"\(id)\" is written \"\(same)\" elsewhere in this cluster: a practice's id is written one way, or its attendance "
                    + "and contributions count as two practices' (use \(same))", field: field)
            }
        }
    }

    /// Checks a link written locally: the target must be held here, not deleted, and visible to
    /// everyone who sees the linking record (a cluster-shared record may not link to a record
    /// private to one practice).
    public static func checkLink(from record: RecordID, scope: RecordScope, field: String, to target: RecordView?, id: RecordID) throws(ClusterSyncError) {
        // An action that came from itself, a decision among its own related records: the app's
        // audit linked an action to itself by typing its id.
        if id == record {
            throw ClusterSyncError(.invalidValue, "\(field) names \(id), the record itself; link another record", field: field)
        }
        guard let target, target.exists else {
            throw ClusterSyncError(.unknownRecord, "\(field) names \(id), which this replica does not hold; check the id (clustersync \(id.type.rawValue) list)", field: field)
        }
        if target.isDeleted {
            throw ClusterSyncError(.recordDeleted, "\(field) names \(id), which is deleted; restore it first or link another record", field: field)
        }
        if let practice = target.scope.practice, scope.practice != practice {
            throw ClusterSyncError(.forbiddenScope,
                "\(field) names \(id), which is private to \(practice); a record shared with the cluster cannot link to it", field: field)
        }
    }
}
