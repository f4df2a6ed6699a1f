import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// Turns edits into changes inside one write transaction: numbers them, stamps them with the
/// replica's clock, applies them and queues them in the outbox.
///
/// Each record an edit touches is read from the file once per session and then kept in step, in
/// memory, with every change made here (`views`); each change is signed on the other cores as
/// soon as it is made (`ChangeSigningPipeline`) and they are written, in order, as their
/// signatures come back (`flush`, which `finish` calls): a batch of a thousand edits is one
/// read of its records and a few `ChangeWriter` batches. A batch reads only the fields its
/// edits plan against (`Edit.fieldsRead`): reading whole records was a third of a batch's time
/// on its editing thread (MEASUREMENTS.md, twenty-sixth session). Code that reads the file
/// between edits (an import reading a list's items) flushes first.
struct LocalEditSession {
    let identity: ReplicaIdentity
    /// The role of the last welcome: what `LeadPowers` checks each edit against.
    let role: CredentialRole
    private var writer: ChangeWriter
    private var clock: HybridLogicalClock
    private var counter: Int64
    private let wallMillis: Int64
    /// Records as this session has left them (nil: no live writes), read once each, with the
    /// fields read (nil: all of them).
    private var views: [RecordID: (view: RecordView?, fields: Set<String>?)] = [:]
    /// The scopes of the records `preload` read.
    private var scopes: [RecordID: RecordScope] = [:]
    /// Changes made but not yet written, being signed.
    private let signer: ChangeSigningPipeline
    private(set) var made: [Change] = []
    /// The actions naming each record as their source (`FieldGrowth`): those the file held when
    /// this session first asked, read once (an import of many actions asks for each), and those
    /// this session named since, which the file holds only once flushed.
    private var actionsNaming: [RecordID: Set<RecordID>] = [:]
    /// `knownPracticeIDs`, once read.
    private var knownPractices: Set<String>?

    /// The actions naming a record (its id's canonical JSON text the argument) as `source`.
    /// `CROSS JOIN`: the records first, each action's `source` then by `change_kept`; with a
    /// plain `JOIN` SQLite walked every live write of the replica, 21–26 ms on one holding
    /// 44,000 (`ReplicaQueryPlanTests`).
    static let actionsNamingSourceSQL = """
        SELECT rec.id FROM record rec CROSS JOIN change c ON c.record = rec.num
        WHERE rec.type = 'action' AND c.field = 'source' AND c.value = ? AND c.live = 1
        """

    init(_ db: Database, wallMillis: Int64) throws {
        try Replica.refuseIfReadOnly(db)
        // Part-way through taking the server's state (a sync cut off after a snapshot's first
        // page replaced it, until a pull's last page): the records not come yet look deleted,
        // and an edit to a field not come yet would stand beside its value, a conflict on every
        // replica. A flag of its own: the cursor's spelling said so until `remote set` or a
        // store replacement rewrote the cursor.
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT state_partial FROM remote")) == true {
            throw ClusterSyncError(.unreachable,
                "this replica is part-way through taking the server's state (a sync was cut off while it came): sync again to finish it, then edit")
        }
        identity = try Replica.identity(db)
        role = try Replica.grantedRole(db).role
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT counter, hlc FROM identity"))!
        counter = row["counter"]
        clock = HybridLogicalClock(last: HLCTimestamp(packed: row["hlc"]))
        writer = try Replica.changeWriter(db)
        // Every change made here is signed (Protocol/changes.md §2.1).
        signer = ChangeSigningPipeline(key: try Replica.signingKey(db))
        self.wallMillis = wallMillis
    }

    /// Reads the records of `edits` whose scope is not known yet, each with only the fields its
    /// edits plan against (the whole record for a delete), and tells the change writer their
    /// numbers and scopes, in a query for each of the two kinds. A record this session already
    /// holds a view of keeps it: the view may hold changes not yet written.
    mutating func preload(_ edits: some Sequence<(RecordID, Edit)>) throws {
        // Records some edit reads whole, and the rest with the fields any of their edits reads
        // (one query reads those fields for all of them).
        var whole = Set<RecordID>(), some = Set<RecordID>(), fields = Set<String>()
        for (id, edit) in edits where scopes[id] == nil {
            if let read = edit.fieldsRead {
                some.insert(id)
                fields.formUnion(read)
            } else {
                whole.insert(id)
            }
        }
        some.subtract(whole)
        let groups: [(ids: Set<RecordID>, fields: Set<String>?)] = [(whole, nil), (some, fields)]
        for (ids, fields) in groups where !ids.isEmpty {
            for record in try ChangeReader.held(writer.db, ids: ids, fields: fields) {
                if views[record.id] == nil { views[record.id] = (record.view, fields) }
                writer.remember(record.id, ChangeWriter.StoredRecord(number: record.number, scope: record.scope))
                scopes[record.id] = record.scope
            }
        }
    }

    /// The scope of a record `preload` found; nil when this replica does not hold it.
    func scope(of id: RecordID) -> RecordScope? { scopes[id] }

    /// The record as this session has left it, with at least `fields` (nil: all of them).
    mutating func view(_ id: RecordID, reading fields: Set<String>? = nil) throws -> RecordView? {
        if let known = views[id] {
            if let held = known.fields {
                if let fields, fields.isSubset(of: held) { return known.view }
                // Read for other fields: the file holds what this session made of it once flushed.
                try flush()
            } else {
                return known.view
            }
        }
        let view = try Replica.view(id, writer.db)
        views[id] = (view, nil)
        return view
    }

    /// The practice ids this cluster's records name (`LocalEditRules.practiceIDs`) and this
    /// replica's own, with this session's writes. Read from the file once, and again only after
    /// this session removed or replaced one (the id may be named nowhere now): read for each
    /// attendee, an import of 150 meetings took five minutes (the scale audit, forty-ninth session).
    private mutating func knownPracticeIDs() throws -> Set<String> {
        if let knownPractices { return knownPractices }
        try flush()
        var known: Set<String> = [identity.practice]
        for view in try ChangeReader.views(writer.db, where: """
            rec.type IN ('meeting', 'terms', 'contribution') AND c.field IN ('attendees', 'practices', 'contributor')
            """) {
            for (field, writes) in view.writes {
                for write in writes { known.formUnion(LocalEditRules.practiceIDs(in: view.type, field: field, value: write.value) ?? []) }
            }
        }
        knownPractices = known
        return known
    }

    mutating func edit(_ id: RecordID, scope: RecordScope, _ edit: Edit) throws {
        let view = try self.view(id, reading: edit.fieldsRead)
        let planned = try edit.plan(on: view, type: id.type)
        try LocalEditRules.checkEscalation(of: id, scope: scope, field: planned.field, to: planned.value)
        try LocalEditRules.checkContributionYear(of: id, field: planned.field, to: planned.value)
        try LocalEditRules.checkCompletionDate(of: id, field: planned.field, to: planned.value, today: CalendarDate(unixMillis: wallMillis),
                                               held: view?.writes[planned.field]?.map(\.value) ?? [])
        try LocalEditRules.checkPracticeIDs(of: id.type, field: planned.field, to: planned.value) { try self.knownPracticeIDs() }
        if let kind = id.type.schema.field(planned.field)?.kind, let value = planned.value?.stringValue, let target = RecordID(value) {
            switch kind {
            case .reference, .referenceSet:
                // A link made here must name a record held here (Protocol/changes.md §6.1).
                try LocalEditRules.checkLink(from: id, scope: scope, field: planned.field, to: try self.view(target), id: target)
            default: break
            }
        }
        var change = Change(
            id: ChangeID(replica: identity.replicaID, counter: counter + 1),
            hlc: clock.tick(wallMillis: wallMillis),
            record: id, scope: scope, field: planned.field, value: planned.value,
            supersedes: try Replica.reachingPastNeverPushed(planned.supersedes, writer.db),
            seen: try Replica.reachingPastNeverPushed(planned.seen, writer.db), author: identity.displayName)
        // The checks every receiver makes of a change (the server refused a delete naming more
        // than `Change.maxSeen` writes that this replica had already made and shown).
        if planned.seen.count > Change.maxSeen {
            throw ClusterSyncError(.invalidValue, """
                \(id) holds \(planned.seen.count) values, more than one delete can name (\(Change.maxSeen)), so every server \
                would refuse it; the record stays as it is
                """, field: RecordSchema.deletedField.name)
        }
        try change.validate()
        // A lead-only edit without the lead's role is refused here, before it reaches the outbox.
        let live = view?.writes[planned.field] ?? []
        let superseded = change.supersedes.map { id -> String? in
            id.replica == identity.replicaID ? identity.practice : LeadPowers.practice(stampedIn: live.first { $0.id == id }?.author)
        }
        let supersededValues = LeadPowers.readsSupersededValues(change) ? change.supersedes.map { id in live.first { $0.id == id }?.value } : []
        var escalatedRisks = Set<RecordID>()
        if !role.hasLeadPowers {
            for risk in LeadPowers.risksLeft(by: change, supersededValues: supersededValues)
            where OversightReach.isBeyondTheCluster(try self.view(risk, reading: ["escalation"])?.escalation) {
                escalatedRisks.insert(risk)
            }
        }
        // Never true of an edit planned here, which supersedes every live write it holds; asked
        // all the same, so that the rule the server applies to pushes is the one applied here.
        let leavesOwnWriteLive = LeadPowers.readsOwnLiveWrites(change, by: identity.practice, supersededPractices: superseded)
            && LeadPowers.leavesOwnWriteLive(change, ownLiveWrites: live.map(\.id).filter { [replica = identity.replicaID] in $0.replica == replica })
        try LeadPowers.check(change, role: role, practice: identity.practice, supersededPractices: superseded,
                             supersededValues: supersededValues, escalatedRisks: escalatedRisks,
                             leavesOwnWriteLive: leavesOwnWriteLive, receiver: .replica)
        // A field holding as many live writes as one may (`FieldGrowth`) takes no more; a map's
        // entries count together, so a map's record is read whole.
        if change.value != nil {
            let group = FieldGrowth.group(of: planned.field)
            let groupWrites = group == planned.field ? live
                : Array(((try self.view(id))?.writes ?? [:]).filter { FieldGrowth.field($0.key, isIn: group) }.values.joined())
            if groupWrites.count >= FieldGrowth.maxLiveWrites {
                try FieldGrowth.check(change, live: Set(groupWrites.map { FieldGrowth.LiveWrite(field: $0.field, id: $0.id) }), receiver: .replica)
            }
        }
        if let source = FieldGrowth.sourceNamed(by: change) {
            if actionsNaming[source] == nil {
                actionsNaming[source] = Set(try String.fetchAll(writer.db.cachedStatement(sql: Self.actionsNamingSourceSQL),
                    arguments: [JSONValue.string(source.rawValue).canonicalText]).compactMap(RecordID.init))
            }
            try FieldGrowth.checkSource(change, source: source, actions: actionsNaming[source]!, receiver: .replica)
            actionsNaming[source]!.insert(id)
        }
        counter += 1
        if let written = LocalEditRules.practiceIDs(in: id.type, field: planned.field, value: change.value ?? .null) {
            if change.value == nil || !change.supersedes.isEmpty { knownPractices = nil } else { knownPractices?.formUnion(written) }
        }
        // The value as the file will give it back (a number's canonical text may read back as
        // another case), so later edits of this session plan against what a read would show.
        if let value = change.value, !value.readsBackItself {
            change.value = try JSONValue(parsing: value.canonicalText)
        }
        views[id] = (RecordView.applying(change, to: view), views[id]?.fields)
        signer.submit(change)
    }

    /// Writes the changes made since the last flush as their signatures come back, and queues
    /// them in the outbox.
    mutating func flush() throws {
        guard !signer.isEmpty else { return }
        let queue = try BoundStatement(writer.db, sql: "INSERT INTO outbox (replica, counter) VALUES (?, ?)")
        let me = try writer.replicaNumber(identity.replicaID)
        try signer.drain { signed in
            _ = try writer.apply(signed)
            for change in signed { try queue.run(.int(me), .int(change.id.counter)) }
            try Replica.forgetHeldBack(supersededBy: signed, writer.db)
            made += signed
        }
    }

    mutating func finish() throws {
        try flush()
        // Prepared once per connection: preparing it anew at every batch showed in its profile.
        try writer.db.cachedStatement(sql: "UPDATE identity SET counter = ?, hlc = ?").execute(arguments: [counter, clock.last.packed])
    }
}

extension JSONValue {
    /// Whether this value's canonical text parses back to an equal value.
    var readsBackItself: Bool {
        switch self {
        case .string, .bool, .int, .null: true
        default: false
        }
    }
}
