import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// What read-only (`pcpg`, `health-board`) sessions read, from the materialised records of a
/// server store: the records listed to them (`OversightReach`), with every change of those
/// records, and the roll-up contributions kept per record. Shared by `SQLiteServerStore` and the
/// in-memory store, which hold the same materialised tables.
public enum ServerOversight {
    /// The cluster-shared records of one cluster that `role` may hold in full
    /// (`OversightReach`): risks escalated to it (or above) and their actions, plans past draft
    /// and their priorities. Reads those only, never the cluster's other records.
    public static func visible(_ db: Database, tenant: String, cluster: String, role: CredentialRole) throws -> ListedRecords {
        let views = try escalatedRisks(db, tenant: tenant, cluster: cluster, role: role)
            + plans(db, tenant: tenant, cluster: cluster, role: role)
        return ListedRecords(ids: OversightReach.visible(views, role: role).sorted { $0.rawValue < $1.rawValue }, views: views)
    }

    /// The risks escalated so `role` sees them, and their actions. Both are found through the
    /// server store's `change_by_value` index, so a pull costs what is escalated, not what the
    /// cluster holds. (Tested on SQLite's plans: the index's WHERE is repeated word for word, as
    /// SQLite uses a partial index only for a query whose terms include the index's own; the
    /// unary `+` keeps SQLite from walking the cluster's whole record index instead, which it
    /// prefers for coming in id order.) The index is the store's, not the cluster's: each
    /// cluster's search reads the escalations of every tenant, hundreds where the cluster's
    /// records are thousands.
    private static func escalatedRisks(_ db: Database, tenant: String, cluster: String, role: CredentialRole) throws -> [RecordView] {
        let levels = OversightReach.levels.map { JSONValue.string($0).canonicalText }
        let risks = try ChangeReader.views(db, where: """
            +rec.tenant = ? AND +rec.cluster = ? AND rec.type = 'risk' AND rec.practice IS NULL
            AND rec.num IN (SELECT record FROM change WHERE \(byValue) AND field = 'escalation' AND value IN (?, ?))
            """, arguments: [tenant, cluster, levels[0], levels[1]])
        let escalated = risks.filter { !$0.isDeleted && OversightReach.sees(role, escalation: $0.escalation) }
        guard !escalated.isEmpty else { return [] }
        let linked = Set(escalated.flatMap { $0.members("linked_actions").compactMap { $0.stringValue } })
        let sources = escalated.map { JSONValue.string($0.id.rawValue).canonicalText }
        let actions = try ChangeReader.views(db, where: """
            +rec.tenant = ? AND +rec.cluster = ? AND rec.type = 'action' AND rec.practice IS NULL
            AND rec.num IN (SELECT num FROM record WHERE tenant = ? AND cluster = ? AND id IN \(listed)
                            UNION ALL
                            SELECT record FROM change WHERE \(byValue) AND field = 'source' AND value IN \(listed))
            """, arguments: [tenant, cluster, tenant, cluster, jsonList(Array(linked)), jsonList(sources)])
        return escalated + actions
    }

    /// The plans `role` sees (past draft), the lists they name as priorities and those lists'
    /// items: a cluster's plans through `record_by_scope` (a cluster has a few), the lists by
    /// id (`record_by_id`), the items through `record_by_parent`.
    private static func plans(_ db: Database, tenant: String, cluster: String, role: CredentialRole) throws -> [RecordView] {
        // By number from the scope index: asked directly, SQLite walks the cluster's records
        // in id order (the views' order) instead of reading its plans.
        let plans = try ChangeReader.views(db, where: """
            +rec.tenant = ? AND +rec.cluster = ? AND rec.practice IS NULL
            AND rec.num IN (SELECT num FROM record WHERE tenant = ? AND cluster = ? AND type = 'plan')
            """, arguments: [tenant, cluster, tenant, cluster])
            .filter { !$0.isDeleted && OversightReach.sees(role, planStatus: $0.string("status")) }
        let named = Set(plans.compactMap { $0.reference("priorities")?.rawValue })
        guard !named.isEmpty else { return plans }
        let lists = try ChangeReader.views(db, where: """
            rec.tenant = ? AND +rec.cluster = ? AND +rec.type = 'list' AND rec.practice IS NULL AND rec.id IN \(listed)
            """, arguments: [tenant, cluster, jsonList(Array(named))]).filter { !$0.isDeleted }
        guard !lists.isEmpty else { return plans }
        let items = try ChangeReader.views(db, where: """
            +rec.tenant = ? AND +rec.cluster = ? AND +rec.type = 'item' AND rec.practice IS NULL AND rec.parent IN \(listed)
            """, arguments: [tenant, cluster, jsonList(lists.map(\.id.rawValue))])
        return plans + lists + items
    }

    /// The cluster-shared risks of one cluster among `ids`, as stored now (a push asks whether
    /// the risks a change takes an action off are escalated: `LeadPowers.risksLeft`).
    public static func risks(_ db: Database, tenant: String, cluster: String, ids: [RecordID]) throws -> [RecordView] {
        try ChangeReader.views(db, where: """
            rec.tenant = ? AND rec.cluster = ? AND rec.type = 'risk' AND rec.practice IS NULL AND rec.id IN \(listed)
            """, arguments: [tenant, cluster, jsonList(ids.map(\.rawValue))])
    }

    /// Of `ids`, the cluster-shared risks escalated beyond the cluster now (`LeadPowers`'
    /// `escalatedRisks`).
    public static func escalatedRisks(_ db: Database, tenant: String, cluster: String, among ids: some Collection<RecordID>) throws -> Set<RecordID> {
        guard !ids.isEmpty else { return [] }
        return Set(try risks(db, tenant: tenant, cluster: cluster, ids: Array(ids)).filter { OversightReach.isBeyondTheCluster($0.escalation) }.map(\.id))
    }

    /// The records of one cluster a read-only role may hold, sorted by id, and the views they
    /// were found with (which `OversightReach.sentWhole` reads for links and sources).
    public struct ListedRecords: Sendable {
        public var ids: [RecordID]
        public var views: [RecordView]

        public init(ids: [RecordID], views: [RecordView]) {
            self.ids = ids
            self.views = views
        }
    }

    /// A list of any length bound as one argument (`jsonList`): one `?` per member ran into
    /// SQLite's limit on variables when a risk linked hundreds of thousands of actions, failing
    /// every read-only pull of its region.
    static let listed = "(SELECT value FROM json_each(?))"

    static func jsonList(_ texts: [String]) -> String { JSONValue.array(texts.map(JSONValue.string)).canonicalText }

    /// The WHERE of the `change_by_value` index (SQLiteServerSchema, v11), as written there.
    static let byValue = "live = 1 AND field IN ('escalation', 'source')"

    /// What a page sends of `listed`, one cluster's listed records, in the order a read-only
    /// session's pages go (`OversightPaging`): by record id, then replica id and counter; after
    /// `resume` (the last change sent, when a page goes on in this cluster), at most `limit`.
    /// With `logged` nil, every change of each record, live and superseded
    /// (`OversightPaging.sendsLogged` said the client may lack any): a read-only replica holds a
    /// record's whole history, so it shows conflicts and history as a practice's replica does.
    /// Otherwise `logged` holds the cluster's cluster-shared changes stored after the pull's
    /// position, and the page sends whole only the records that may be new to the client
    /// (`OversightReach.sentWhole`), and of the others their changes among `logged`. Before the
    /// thirty-fourth session every change of every listed record of a cluster went again
    /// whenever anything was stored in the cluster. The order is the changes' ids so that a page
    /// can end anywhere (a replica applies changes in any order).
    public static func changes(_ db: Database, tenant: String, cluster: String, listed: ListedRecords, logged: [Change]?,
                               after resume: OversightCursor?, limit: Int) throws -> [Change] {
        guard let logged else { return try history(db, tenant: tenant, cluster: cluster, records: listed.ids, after: resume, limit: limit) }
        let ids = Set(listed.ids)
        let whole = OversightReach.sentWhole(listed: ids, views: listed.views, logged: logged,
                                             writtenAgain: try writtenAgain(db, tenant: tenant, cluster: cluster, listed: listed, logged: logged))
        let fromHistory = try history(db, tenant: tenant, cluster: cluster, records: listed.ids.filter(whole.contains), after: resume, limit: limit)
        let fromLog = logged.filter { change in
            ids.contains(change.record) && !whole.contains(change.record) && resume.map { follows(change, $0) } ?? true
        }
        return Array((fromHistory + fromLog).sorted(by: pageOrder).prefix(limit))
    }

    /// The changes among `logged` to records of `listed` that leave what is listed as it was
    /// (`OversightReach.leavesListingAsItWas`), with the values they supersede read from the
    /// materialised state (a value compacted away is not held, and the change renews).
    static func writtenAgain(_ db: Database, tenant: String, cluster: String, listed: ListedRecords, logged: [Change]) throws -> Set<ChangeID> {
        let ids = Set(listed.ids)
        let candidates = logged.filter { ids.contains($0.record) && OversightReach.mayBeWrittenAgain($0) }
        guard !candidates.isEmpty else { return [] }
        let views = Dictionary(listed.views.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let valueOf = try db.cachedStatement(sql: """
            SELECT c.value FROM record rec JOIN change c ON c.record = rec.num JOIN replica r ON r.num = c.replica
            WHERE rec.tenant = ? AND rec.cluster = ? AND rec.id = ? AND c.field = ? AND r.id = ? AND c.counter = ?
            """)
        var found = Set<ChangeID>()
        for change in candidates {
            let values = try change.supersedes.map { id -> JSONValue? in
                try String.fetchOne(valueOf, arguments: [tenant, cluster, change.record.rawValue, change.field, id.replica.rawValue, id.counter])
                    .flatMap { try? JSONValue(parsing: $0) }
            }
            if OversightReach.leavesListingAsItWas(change, supersededValues: values, view: views[change.record]) { found.insert(change.id) }
        }
        return found
    }

    /// Where a change stands in page order within a cluster. Ids are ASCII, so Swift's order of
    /// them is SQLite's.
    static func pageKey(_ change: Change) -> (String, String, Int64) {
        (change.record.rawValue, change.id.replica.rawValue, change.id.counter)
    }

    static func pageOrder(_ a: Change, _ b: Change) -> Bool { pageKey(a) < pageKey(b) }

    static func follows(_ change: Change, _ resume: OversightCursor) -> Bool {
        pageKey(change) > (resume.record.rawValue, resume.replica.rawValue, resume.counter)
    }

    /// Every kept change of `records`, in page order, after `resume`, at most `limit`.
    private static func history(_ db: Database, tenant: String, cluster: String, records: [RecordID],
                                after resume: OversightCursor?, limit: Int) throws -> [Change] {
        let records = resume.map { from in records.filter { $0.rawValue >= from.record.rawValue } } ?? records
        guard !records.isEmpty else { return [] }
        var arguments: StatementArguments = [tenant, cluster, jsonList(records.map(\.rawValue))]
        var condition = "rec.tenant = ? AND rec.cluster = ? AND rec.id IN \(listed)"
        if let resume {
            condition += " AND (rec.id, r.id, c.counter) > (?, ?, ?)"
            arguments += [resume.record.rawValue, resume.replica.rawValue, resume.counter]
        }
        return try ChangeReader.changes(db, where: condition, arguments: arguments, orderBy: "rec.id, r.id, c.counter", limit: limit)
    }

    /// Whether a read-only session's page carries the changes of a cluster's escalated records:
    /// only when something was stored in that cluster after the pull's position (`after`, -1
    /// for a snapshot), its newest log row being `clusterLast`, or when the cluster changed
    /// region at or after that position (`movedAfter`, the tenant's stream end when the
    /// administrator last moved it; nil if never). Whatever makes a record escalated (its
    /// escalation, a link, a source) is a change stored in its own cluster, so a cluster nothing
    /// was stored in since has nothing new to send; before, every escalated record of every
    /// cluster was sent again whenever anything was stored in the tenant. A cluster moved into a
    /// PCPG's region stores nothing by moving, so the move is noted: until the twenty-fifth
    /// session its records reached the PCPG a sync late, through the replica's own check
    /// (Replica.applyOversight), which stays for a server that does not note moves. A moved
    /// cluster's records are sent again at each pull until the tenant's stream moves on.
    public static func sendsChanges(clusterLast: Int64, movedAfter: Int64?, after: Int64) -> Bool {
        after < clusterLast || movedAfter.map { after <= $0 } ?? false
    }

    /// The contribution kept for a record, as stored (JSON of `RollupContribution`).
    static func encode(_ contribution: RollupContribution) throws -> String {
        String(decoding: try JSONEncoder().encode(contribution), as: UTF8.self)
    }

    /// nil for a kind of contribution this version does not know, which a later version's node
    /// on the same PostgreSQL store wrote: skipped, so a rolling upgrade that adds one does not
    /// stop the older nodes' roll-ups (review, forty-third session: `bodyMeeting` rows did).
    /// Anything else that does not decode is an error.
    static func decode(_ text: String) throws -> RollupContribution? {
        do {
            return try JSONDecoder().decode(RollupContribution.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], object.count == 1,
                  let kind = object.keys.first, !knownContributionKinds.contains(kind) else { throw error }
            return nil
        }
    }

    /// The keys `RollupContribution` is stored under, one per case.
    static let knownContributionKinds: Set<String> = ["risk", "action", "decision", "meeting", "bodyMeeting", "terms", "planContribution"]
}
