import Foundation

/// What a read-only (`pcpg`, `health-board`) session receives besides changes (PROTOCOL.md §7.1):
/// the server's kept roll-up of the clusters it covers, and the complete list of the records it
/// may hold in full (the risks escalated to it and the actions linked to them). A replica deletes
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

/// Which escalated risks a read-only role sees in full: the one rule, used by both server stores.
///
/// Escalation levels are ordered practice < cluster < pcpg < health-board. A level sees the risks
/// escalated to it **or above**, within its reach: a PCPG sees its region's clusters' risks
/// escalated to `pcpg` or `health-board` (a risk the PCPG passed up is still its county's); a
/// Health Board sees every cluster's risks escalated to `pcpg` or `health-board` (it monitors all
/// its clusters, guide §3.11). Practice-private risks are never seen; nor are deleted ones.
public enum EscalationReach {
    /// The escalation levels beyond the cluster, lowest first: the one list of them.
    public static let levels = ["pcpg", "health-board"]

    /// Whether `level` is beyond the cluster (a PCPG or the Health Board sees the risk).
    public static func isBeyondTheCluster(_ level: String?) -> Bool { level.map(levels.contains) ?? false }

    /// Whether `role` sees a cluster-shared, live risk escalated to `level`.
    public static func sees(_ role: CredentialRole, escalation level: String?) -> Bool {
        guard let level else { return false }
        switch role {
        case .practice, .clusterLead: return false
        case .pcpg, .healthBoard: return levels.contains(level)
        }
    }

    /// The risks (cluster-shared, live, escalated so `role` sees them) and the cluster-shared
    /// live actions they link (`linked_actions`) or that name them as `source`, among `views`
    /// (one cluster's records). What a read-only replica holds in full.
    public static func visible(_ views: [RecordView], role: CredentialRole) -> Set<RecordID> {
        var byID: [RecordID: RecordView] = [:]
        for view in views where view.scope.practice == nil && view.exists && !view.isDeleted { byID[view.id] = view }
        var visible = Set<RecordID>()
        for view in byID.values where view.type == .risk && sees(role, escalation: view.escalation) {
            visible.insert(view.id)
            for member in view.members("linked_actions") {
                if let text = member.stringValue, let id = RecordID(text), byID[id]?.type == .action { visible.insert(id) }
            }
        }
        for view in byID.values where view.type == .action {
            if let text = view.string("source"), let source = RecordID(text), visible.contains(source), source.type == RecordType.risk {
                visible.insert(view.id)
            }
        }
        return visible
    }

    /// The fields whose change can put a record on a read-only replica's list (`visible` reads
    /// them, or decides with them whether a record is live and its values what they were).
    public static let listingFields: Set<String> = ["escalation", "linked_actions", "source", RecordSchema.deletedField.name, Redaction.field]

    /// Of the records `role` may hold now (`listed`, among `views`), those a client that held
    /// what was listed before the `logged` changes may not hold, so that a page sends them whole
    /// (PROTOCOL.md §7.1): each record with a change among `logged` to a listing field other than
    /// `linked_actions` (escalated, deleted or restored, redacted, given a source), with the listed
    /// actions of such a risk (those it links and those that name it as source); and each action
    /// a `linked_actions` add among `logged` names. A link added to a listed risk leaves the risk
    /// listed as it was, so the risk and its other actions go as their `logged` changes only:
    /// before the fortieth session they went whole again, history and all, at every link a
    /// practice added (free to any practice), which the session's security review used to make a
    /// PCPG's sync read 985 KB for one link to a risk whose description had been rewritten
    /// 3,000 times. Any other listed record was listed before, so the client holds its history
    /// and needs only its `logged` changes. A record made since has all its changes in `logged`.
    public static func sentWhole(listed: Set<RecordID>, views: [RecordView], logged: [Change]) -> Set<RecordID> {
        var renewed = Set<RecordID>(), linked = Set<RecordID>()
        for change in logged where listingFields.contains(change.field) && listed.contains(change.record) {
            if change.field != "linked_actions" {
                renewed.insert(change.record)
            } else if let text = change.value?.stringValue, let id = RecordID(text), listed.contains(id) {
                linked.insert(id)
            }
        }
        guard !renewed.isEmpty else { return linked }
        var whole = renewed.union(linked)
        for view in views where view.type == .risk && renewed.contains(view.id) {
            for member in view.members("linked_actions") {
                if let text = member.stringValue, let id = RecordID(text), listed.contains(id) { whole.insert(id) }
            }
        }
        for view in views where view.type == .action && listed.contains(view.id) {
            if let text = view.string("source"), let source = RecordID(text), renewed.contains(source) { whole.insert(view.id) }
        }
        return whole
    }
}
