/// The cluster lead's powers (issue 9 item 3): the one rule, applied by the replica before an
/// edit reaches its outbox and by the server's push when it stores a change, that says which
/// changes only a `cluster-lead` credential may make.
///
/// A change needs the lead when it
/// - **closes** a cluster-shared risk (`status` to `closed`) or action (`status` to `closed` or
///   `cancelled`; `complete` is the action's owner reporting it done, and stays open to every
///   practice);
/// - **escalates** a risk beyond the cluster (`escalation` to `pcpg` or `health-board`);
/// - **withdraws** a shared risk's escalation beyond the cluster (an `escalation` write that
///   supersedes a `pcpg` or `health-board` value with a level within the cluster, or none): the
///   PCPG or Health Board stops seeing the risk, so the lead answers for that as for escalating;
/// - **takes an action off** a shared risk escalated beyond the cluster (removes it from the
///   risk's `linked_actions`, or gives the action a `source` other than the risk): the PCPG or
///   Health Board stops seeing the action, as it would the risk;
/// - **resolves another practice's conflict**: it writes a value superseding two or more
///   concurrent values of one field that are not all the same (a conflict), replacing one that
///   another practice wrote with another value (`overridesAnotherPractice`: a practice giving way,
///   keeping the other practice's value over its own, needs no lead, nor does an edit over values
///   that agree, which are no conflict; the practice's value after giving way is its own write,
///   and editing it later is an ordinary edit, as editing a value another practice wrote is when
///   no conflict stands: the power is over settling a conflict, and history keeps each step with
///   its author); or it supersedes
///   another practice's value while a write its own maker made to the field stays live beside
///   it (`leavesOwnWriteLive`). The second is the first of two steps a client writing the wire
///   itself could settle a conflict by without the lead (supersede only the other practice's
///   value, then settle its own two); the reference client never writes so, since its write
///   supersedes every live value it holds, and a replica holds every write it made;
/// - **deletes** a cluster-shared record (a list item is part of its list, and removing one is
///   editing the list, not deleting a record);
/// - **redacts** a written value (`Redaction`), on any record;
/// - **records a shared cluster plan past draft** (`status` other than `draft`): the plan then
///   goes to the PCPG and the Health Board with its priorities (`OversightReach`), so the lead
///   answers for it as for escalating a risk (forty-fourth session's review).
///
/// Practice-private records are the practice's own: closing or deleting one needs no lead
/// (escalating one still does; a replica refuses it anyway, `LocalEditRules.checkEscalation`).
///
/// Who wrote a superseded value is what each end knows of it (`supersededPractices`): the server
/// knows which practice owns each replica id in the cluster (`ReplicaOwnership`); a replica knows
/// its own values, and the practice the server stamped on values it pulled
/// (`practice(stampedIn:)`). A value whose practice an end does not know does not count as
/// another practice's there. Likewise a superseded escalation's level (`supersededValues`) is
/// what each end holds of it: a value it does not hold withdraws nothing there. Whether a risk
/// an action is taken off is escalated (`escalatedRisks`) is each end's live state of it
/// (`RecordView.escalation`).
public enum LeadPowers {
    public enum Power: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case close
        case escalate
        case withdrawEscalation = "withdraw-escalation"
        case withdrawAction = "withdraw-action"
        case resolveConflict = "resolve-conflict"
        case deleteShared = "delete-shared"
        /// Erasing a written value (`Redaction`), on any record.
        case redact
        /// Recording a shared cluster plan past draft (agreed, in progress…), which sends it to
        /// the PCPG and the Health Board (`OversightReach`), as escalating a risk does.
        case agreePlan = "agree-plan"

        /// What the power lets a lead do, for messages: "closing a risk".
        public func words(for type: RecordType) -> String {
            switch self {
            case .close: "closing \(type == .action ? "an action" : "a risk")"
            case .escalate: "escalating a risk beyond the cluster"
            case .withdrawEscalation: "withdrawing a risk's escalation beyond the cluster"
            case .withdrawAction: "taking an action off a risk escalated beyond the cluster"
            case .resolveConflict: "resolving a conflict with another practice's value"
            case .deleteShared: "deleting a record shared with the cluster"
            case .redact: "redacting a value"
            case .agreePlan: "recording a cluster plan as agreed (past draft), which sends it to the PCPG and the Health Board"
            }
        }

        public var description: String { rawValue }
    }

    /// The power a value written to `field` of a shared record of `type` may need (closing: a
    /// risk's or an action's status; escalating: a risk's escalation), so a front end can say so
    /// beside the field before the edit is refused; `needed` decides by the value itself.
    public static func power(writing field: String, of type: RecordType) -> Power? {
        switch (type, field) {
        case (.risk, "status"), (.action, "status"): .close
        case (.risk, "escalation"): .escalate
        case (.plan, "status"): .agreePlan
        default: nil
        }
    }

    /// Action statuses that close it.
    static let closingActionStatuses: Set<String> = ["closed", "cancelled"]
    /// Escalation levels beyond the cluster.
    static let beyondTheCluster = Set(OversightReach.levels)

    /// Whether `needed` reads the values `change` supersedes (an end looks them up only then):
    /// a shared risk's escalation, a shared action's source, or a value written over two or more
    /// (whether it overrides another practice's, `overridesAnotherPractice`).
    public static func readsSupersededValues(_ change: Change) -> Bool {
        movesOutOfReach(change) || (change.value != nil && change.supersedes.count >= 2)
    }

    /// A shared risk's escalation or a shared action's source written over another value: what
    /// may withdraw an escalation or take an action off an escalated risk.
    static func movesOutOfReach(_ change: Change) -> Bool {
        guard change.scope.practice == nil, !change.supersedes.isEmpty else { return false }
        return (change.record.type == .risk && change.field == "escalation") || (change.record.type == .action && change.field == "source")
    }

    /// Whether `change`, written over two or more values that are not all the same (a conflict),
    /// replaces one another practice wrote with another value. A practice keeping the other
    /// practice's value over its own (giving way: its held-back edit met the lead's settlement)
    /// overrides nothing; values that agree are no conflict (`RecordView.conflicts`), so an edit
    /// over them is an ordinary edit. A value this end does not hold counts as differing.
    static func overridesAnotherPractice(_ change: Change, by practice: String, supersededPractices: [String?],
                                         supersededValues: [JSONValue?]) -> Bool {
        guard change.supersedes.count >= 2 else { return false }
        let values = change.supersedes.indices.map { supersededValues.indices.contains($0) ? supersededValues[$0] : nil }
        let held = values.compactMap { $0 }
        guard held.count < values.count || Set(held).count > 1 else { return false }
        return zip(supersededPractices, values).contains { owner, value in
            owner != nil && owner != practice && value != change.value
        }
    }

    /// The risks `change` takes an action off, whose escalation `needed` asks about
    /// (`escalatedRisks`): the risk itself for a removal from its `linked_actions`, and for an
    /// action's `source` the risks the superseded values named, unless named again. An end
    /// looks their escalation up only for these.
    public static func risksLeft(by change: Change, supersededValues: [JSONValue?]) -> [RecordID] {
        guard change.scope.practice == nil else { return [] }
        if change.record.type == .risk, change.field == "linked_actions", change.value == nil, !change.supersedes.isEmpty {
            return [change.record]
        }
        guard change.record.type == .action, change.field == "source" else { return [] }
        return supersededValues.compactMap { value -> RecordID? in
            guard let text = value?.stringValue, text != change.value?.stringValue, let id = RecordID(text), id.type == .risk else { return nil }
            return id
        }
    }

    /// The lead power `change` needs, or nil. `practice` is the practice making (or pushing) it;
    /// `supersededPractices` holds, for each value it supersedes, the practice that wrote it (nil:
    /// not known at this end), and `supersededValues` the values, where `readsSupersededValues`.
    /// Every risk some change of a push could take an action off (`risksLeft(by:)`), for a store
    /// that looks their escalation up once before deciding the push: `storedValue` gives a
    /// superseded change's stored value, and any `source` the push itself writes counts too (a
    /// change may supersede one made earlier in the same push).
    public static func risksLeft(in changes: [Change], storedValue: (ChangeID) -> JSONValue?) -> Set<RecordID> {
        let givenSources = changes.filter { $0.field == "source" }.map(\.value)
        var left = Set<RecordID>()
        for change in changes {
            left.formUnion(risksLeft(by: change, supersededValues: change.supersedes.map(storedValue) + givenSources))
        }
        return left
    }

    /// Whether `needed` asks whether `change` leaves a write of its maker live
    /// (`leavesOwnWriteLive`), so that an end looks up the field's live writes only then: it
    /// writes a value over another practice's, as this end knows the practices.
    public static func readsOwnLiveWrites(_ change: Change, by practice: String, supersededPractices: [String?]) -> Bool {
        change.value != nil && supersededPractices.contains { $0 != nil && $0 != practice }
    }

    /// Whether a write of `change`'s maker (`change.id.replica`) to its record's field stays
    /// live beside it. `ownLiveWrites`: the live writes of that field its maker made, as this
    /// end held them before the push or edit; `earlier`: the changes of the same push before
    /// `change`, which may add such a write or supersede one.
    public static func leavesOwnWriteLive(_ change: Change, ownLiveWrites: some Sequence<ChangeID>, earlier: some Sequence<Change> = [Change]()) -> Bool {
        var live = Set(ownLiveWrites)
        for other in earlier where other.record == change.record && other.field == change.field {
            live.subtract(other.supersedes)
            if other.id.replica == change.id.replica, other.value != nil { live.insert(other.id) }
        }
        live.subtract(change.supersedes)
        live.remove(change.id)
        return !live.isEmpty
    }

    /// `escalatedRisks`: of `risksLeft(by:)`, those escalated beyond the cluster at this end;
    /// `leavesOwnWriteLive`: `leavesOwnWriteLive(_:ownLiveWrites:earlier:)`, where
    /// `readsOwnLiveWrites` (false elsewhere).
    public static func needed(for change: Change, by practice: String, supersededPractices: [String?],
                              supersededValues: [JSONValue?] = [], escalatedRisks: Set<RecordID> = [],
                              leavesOwnWriteLive: Bool = false) -> Power? {
        let type = change.record.type
        let shared = change.scope.practice == nil
        let word = change.value?.stringValue
        if change.field == Redaction.field { return .redact }
        switch power(writing: change.field, of: type) {
        case .close? where shared && word.map({ type == .risk ? $0 == "closed" : closingActionStatuses.contains($0) }) == true:
            return .close
        case .escalate? where word.map(beyondTheCluster.contains) == true:
            return .escalate
        case .agreePlan? where shared && word.map({ $0 != "draft" }) == true:
            return .agreePlan
        default: break
        }
        if movesOutOfReach(change),
           supersededValues.contains(where: { $0?.stringValue.map(beyondTheCluster.contains) ?? false }) {
            return .withdrawEscalation
        }
        if !escalatedRisks.isEmpty, risksLeft(by: change, supersededValues: supersededValues).contains(where: escalatedRisks.contains) {
            return .withdrawAction
        }
        if shared, type != .item, change.field == "deleted", change.value == .bool(true) {
            return .deleteShared
        }
        // A set member's removal (no value) supersedes its adds: that settles no conflict.
        if readsOwnLiveWrites(change, by: practice, supersededPractices: supersededPractices),
           leavesOwnWriteLive || overridesAnotherPractice(change, by: practice, supersededPractices: supersededPractices,
                                                          supersededValues: supersededValues) {
            return .resolveConflict
        }
        return nil
    }

    /// Refuses `change` with `lead-only` when it needs a power `role` lacks. `receiver` words the
    /// message: a replica refuses an edit before it is made, a server a change pushed.
    public static func check(_ change: Change, role: CredentialRole, practice: String, supersededPractices: [String?],
                             supersededValues: [JSONValue?] = [], escalatedRisks: Set<RecordID> = [],
                             leavesOwnWriteLive: Bool = false, receiver: ChangeAdmission.Receiver) throws(ClusterSyncError) {
        guard !role.hasLeadPowers,
              let power = needed(for: change, by: practice, supersededPractices: supersededPractices, supersededValues: supersededValues,
                                 escalatedRisks: escalatedRisks, leavesOwnWriteLive: leavesOwnWriteLive)
        else { return }
        let what = power.words(for: change.record.type)
        switch receiver {
        case .replica:
            throw ClusterSyncError(.leadOnly,
                "\(what) (\(change.record) \(change.field)) needs the cluster lead, and this replica's credential is \(role.credentialName) "
                + "(as its last sync said; before its first sync a replica is a practice's): "
                + "ask your cluster lead, or sync with a cluster-lead credential and try again. "
                + "Nothing was changed.", field: change.field)
        case .server:
            throw ClusterSyncError(.leadOnly,
                "change \(change.id) is \(what) (\(change.record) \(change.field)), which needs a cluster-lead credential, and this session's is "
                + "\(role.credentialName); nothing of this push was stored. The replica holds the change back until it syncs with a cluster-lead "
                + "credential, and pushes the rest again without it.",
                field: change.field)
        }
    }

    /// The practice a server stamped in an author (PROTOCOL.md §6.1): `rhyl` in `rhyl` or
    /// `rhyl (Dr Jones laptop)`. nil for a relayed change (`X via rhyl`: its maker's practice is
    /// not known) and for a name a person typed (`Practice manager, Rhyl`): a practice name has
    /// no spaces.
    public static func practice(stampedIn author: String?) -> String? {
        guard let author, !author.contains(" via ") else { return nil }
        let head = author.split(separator: " ", maxSplits: 1)
        guard let first = head.first, head.count == 1 || head[1].hasPrefix("("),
              first.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F })
        else { return nil }
        return String(first)
    }
}
