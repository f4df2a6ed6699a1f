import Foundation

/// What a read-only (`pcpg`, `health-board`) session receives besides changes (PROTOCOL.md §7.1):
/// the server's kept roll-up of the clusters it covers, and the complete list of the records it
/// may hold in full (the risks escalated to it and their actions, the plans past draft and their
/// priorities: `OversightReach`). A replica deletes
/// every record it holds that the list leaves out: that is how a de-escalated risk is withdrawn.
public struct OversightPage: Sendable, Equatable {
    /// The roll-up of the session's region (pcpg) or tenant (health-board), aggregated by the
    /// server at its day, as canonical JSON (`RegionRollup.jsonValue`).
    public var rollup: JSONValue
    /// Every record the session may hold in full now, sorted by cluster then id.
    public var escalated: [EscalatedRecord]

    public init(rollup: JSONValue, escalated: [EscalatedRecord]) {
        self.rollup = rollup
        self.escalated = escalated
    }

    /// The roll-up decoded; nil if the JSON is not a roll-up this version reads.
    public var regionRollup: RegionRollup? {
        guard let data = rollup.canonicalText.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(RegionRollup.self, from: data)
    }
}

/// A record a read-only session may hold in full: ids are unique within a cluster.
public struct EscalatedRecord: Sendable, Hashable, Comparable {
    public var cluster: String
    public var record: RecordID

    public init(cluster: String, record: RecordID) {
        self.cluster = cluster
        self.record = record
    }

    public static func < (a: EscalatedRecord, b: EscalatedRecord) -> Bool {
        (a.cluster, a.record.rawValue) < (b.cluster, b.record.rawValue)
    }
}

/// Which records a read-only role holds in full: the one rule, used by both server stores.
///
/// **Escalated risks.** Escalation levels are ordered practice < cluster < pcpg < health-board. A
/// level sees the risks escalated to it **or above**, within its reach: a PCPG sees its region's
/// clusters' risks escalated to `pcpg` or `health-board` (a risk the PCPG passed up is still its
/// county's); a Health Board sees every cluster's risks escalated to `pcpg` or `health-board` (it
/// monitors all its clusters, guide §3.11). With each risk go the actions it links or that name
/// it as their source.
///
/// **Cluster plans.** Cluster plans "inform Pan Cluster Planning Group analysis, priorities and
/// plans" (seed 002), so both roles see each cluster plan once it is past `draft` (agreed, in
/// progress, complete or superseded), with its priorities: the list of kind `priorities` its
/// `priorities` names and that list's items (the first `maxItemsListed`). A draft is the
/// cluster's own until the lead records it agreed (`LeadPowers`: a shared plan's status past
/// draft is the lead's to write).
///
/// Practice-private records are never seen; nor are deleted ones.
public enum OversightReach {
    /// The escalation levels beyond the cluster, lowest first: the one list of them.
    public static let levels = ["pcpg", "health-board"]

    /// Whether `level` is beyond the cluster (a PCPG or the Health Board sees the risk).
    public static func isBeyondTheCluster(_ level: String?) -> Bool { level.map(levels.contains) ?? false }

    /// Whether `role` sees a cluster-shared, live risk escalated to `level`.
    public static func sees(_ role: CredentialRole, escalation level: String?) -> Bool {
        guard let level else { return false }
        return role.isReadOnly && levels.contains(level)
    }

    /// Whether `role` sees a cluster-shared, live plan whose status is `status`: every status
    /// but a draft (a plan with no status has not been agreed either).
    public static func sees(_ role: CredentialRole, planStatus status: String?) -> Bool {
        guard let status else { return false }
        return role.isReadOnly && status != "draft"
    }

    /// The records (among `views`, one cluster's records) `role` may hold in full: the
    /// cluster-shared, live risks escalated so `role` sees them and the cluster-shared live
    /// actions they link (`linked_actions`) or that name them as `source`; the cluster-shared,
    /// live plans past draft, the list each names as its `priorities` and that list's live items.
    /// What a read-only replica holds in full.
    public static func visible(_ views: [RecordView], role: CredentialRole) -> Set<RecordID> {
        var byID: [RecordID: RecordView] = [:]
        for view in views where view.scope.practice == nil && view.exists && !view.isDeleted { byID[view.id] = view }
        var visible = Set<RecordID>()
        for view in byID.values where view.type == .risk && sees(role, escalation: view.escalation) {
            visible.insert(view.id)
            for id in view.references("linked_actions") where byID[id]?.type == .action { visible.insert(id) }
        }
        var priorities = Set<RecordID>()
        for view in byID.values where view.type == .plan && sees(role, planStatus: view.string("status")) {
            visible.insert(view.id)
            if let list = view.reference("priorities"), byID[list]?.type == .list, byID[list]?.string("kind") == "priorities" { priorities.insert(list) }
        }
        visible.formUnion(priorities)
        var items: [RecordID: [RecordID]] = [:]
        for view in byID.values {
            switch view.type {
            case .action:
                if let source = view.reference("source"), source.type == .risk, visible.contains(source) { visible.insert(view.id) }
            case .item:
                if let list = view.reference("list"), priorities.contains(list) { items[list, default: []].append(view.id) }
            default:
                break
            }
        }
        for listed in items.values { visible.formUnion(listed.sorted { $0.rawValue < $1.rawValue }.prefix(maxItemsListed)) }
        return visible
    }

    /// The most items of one priorities list a read-only session holds (the first by id): a
    /// plan's priorities are a handful, and any practice may add items to a shared list, which
    /// would otherwise reach every PCPG and Health Board sync without bound.
    public static let maxItemsListed = 100

    /// Whether `change` can put its record on a read-only replica's list, or take it off
    /// (`visible` reads the field, or decides with it whether the record is live and its values
    /// what they were).
    public static func lists(_ change: Change) -> Bool {
        listingFields.contains(change.field)
            || (change.record.type == .plan && (change.field == "status" || change.field == "priorities"))
            || (change.record.type == .list && change.field == "kind")
    }

    /// Whether `sentWhole` asks if `change` leaves what is listed as it was: a write of a value
    /// over others, on a field that `lists` other than a link (a set) or a redaction.
    public static func mayBeWrittenAgain(_ change: Change) -> Bool {
        lists(change) && change.value != nil && !change.supersedes.isEmpty
            && change.field != "linked_actions" && change.field != Redaction.field
    }

    /// Whether `change` (`mayBeWrittenAgain`) leaves what is listed as it was: it writes the value
    /// every change it supersedes held (`supersededValues`, as the store holds them, nil where it
    /// holds none) and its field is in no conflict on `view`, the record as it is now (so no
    /// other value stands beside it that a replica could show instead).
    public static func leavesListingAsItWas(_ change: Change, supersededValues: [JSONValue?], view: RecordView?) -> Bool {
        guard mayBeWrittenAgain(change), let value = change.value, supersededValues.count == change.supersedes.count,
              supersededValues.allSatisfy({ $0 == value }), let view else { return false }
        return !view.conflicts.contains { $0.field == change.field }
    }

    /// The fields of any record that `lists` a change of (an item's `list` is set once, with
    /// the item).
    static let listingFields: Set<String> = ["escalation", "linked_actions", "source", RecordSchema.deletedField.name, Redaction.field]

    /// Of the records `role` may hold now (`listed`, among `views`), those a client that held
    /// what was listed before the `logged` changes may not hold, so that a page sends them whole
    /// (PROTOCOL.md §7.1): each record with a change among `logged` that `lists` other than a
    /// `linked_actions` add (escalated, deleted or restored, redacted, given a source; a plan
    /// agreed or given other priorities), with what is listed through such a record (a risk's
    /// actions, those it links and those that name it as source; a plan's priorities list and
    /// the list's items; a list's items); and each action a `linked_actions` add among `logged`
    /// names. A link added to a listed risk leaves the risk listed as it was, so the risk and its
    /// other actions go as their `logged` changes only: before the fortieth session they went
    /// whole again, history and all, at every link a practice added (free to any practice),
    /// which the session's security review used to make a PCPG's sync read 985 KB for one link
    /// to a risk whose description had been rewritten 3,000 times. Any other listed record was
    /// listed before, so the client holds its history and needs only its `logged` changes. A
    /// record made since has all its changes in `logged`.
    ///
    /// `writtenAgain`: changes among `logged` that leave what is listed as it was
    /// (`leavesListingAsItWas`): they renew nothing. Before the forty-sixth session a plan's
    /// `priorities` written again to the list it names (any practice's) sent the list and its
    /// items whole, histories and all, to every read-only replica of the region (security review).
    public static func sentWhole(listed: Set<RecordID>, views: [RecordView], logged: [Change],
                                 writtenAgain: Set<ChangeID> = []) -> Set<RecordID> {
        var renewed = Set<RecordID>(), linked = Set<RecordID>()
        for change in logged where listed.contains(change.record) && lists(change) && !writtenAgain.contains(change.id) {
            switch change.field {
            case "linked_actions":
                if let id = change.value?.stringValue.flatMap({ RecordID($0) }), listed.contains(id) { linked.insert(id) }
            case "priorities" where change.record.type == .plan:
                // Other priorities named: the list (and its items) may be new, not the plan,
                // which any practice may write this field of as often as it likes.
                if let id = change.value?.stringValue.flatMap({ RecordID($0) }), listed.contains(id) { renewed.insert(id) }
            default:
                renewed.insert(change.record)
            }
        }
        guard !renewed.isEmpty else { return linked }
        // A plan renewed renews its priorities list, and a list renewed its items.
        for view in views where view.type == .plan && renewed.contains(view.id) {
            if let list = view.reference("priorities"), listed.contains(list) { renewed.insert(list) }
        }
        var whole = renewed.union(linked)
        for view in views where listed.contains(view.id) {
            switch view.type {
            case .risk where renewed.contains(view.id):
                for id in view.references("linked_actions") where listed.contains(id) { whole.insert(id) }
            case .action:
                if let source = view.reference("source"), renewed.contains(source) { whole.insert(view.id) }
            case .item:
                if let list = view.reference("list"), renewed.contains(list) { whole.insert(view.id) }
            default:
                break
            }
        }
        return whole
    }
}
