import ClusterSyncCore
import ClusterSyncStorage
import GRDB

/// Turns edits into changes inside one write transaction: numbers them, stamps them with the
/// replica's clock, applies them and queues them in the outbox.
struct LocalEditSession {
    let identity: ReplicaIdentity
    /// The role of the last welcome: what `LeadPowers` checks each edit against.
    let role: CredentialRole
    private var writer: ChangeWriter
    private var clock: HybridLogicalClock
    private var counter: Int64
    private let wallMillis: Int64
    /// Signs every change made here (Protocol/changes.md §2.1).
    private let key: ReplicaSigningKey
    private(set) var made: [Change] = []

    init(_ db: Database, wallMillis: Int64) throws {
        try Replica.refuseIfReadOnly(db)
        identity = try Replica.identity(db)
        role = try Replica.grantedRole(db).role
        let row = try Row.fetchOne(db, sql: "SELECT counter, hlc FROM identity")!
        counter = row["counter"]
        clock = HybridLogicalClock(last: HLCTimestamp(packed: row["hlc"]))
        writer = try ChangeWriter(db)
        key = try Replica.signingKey(db)
        self.wallMillis = wallMillis
    }

    mutating func edit(_ id: RecordID, scope: RecordScope, _ edit: Edit) throws {
        let view = try Self.view(id, for: edit, writer.db)
        let planned = try edit.plan(on: view, type: id.type)
        if let kind = id.type.schema.field(planned.field)?.kind, let value = planned.value?.stringValue, let target = RecordID(value) {
            switch kind {
            case .reference, .referenceSet:
                // A link made here must name a record held here (Protocol/changes.md §6.1).
                try LocalEditRules.checkLink(from: id, scope: scope, field: planned.field, to: try Replica.view(target, writer.db), id: target)
            default: break
            }
        }
        counter += 1
        let change = ChangeSignature.signed(Change(
            id: ChangeID(replica: identity.replicaID, counter: counter),
            hlc: clock.tick(wallMillis: wallMillis),
            record: id, scope: scope, field: planned.field, value: planned.value,
            supersedes: planned.supersedes, seen: planned.seen, author: identity.displayName), with: key)
        // A lead-only edit without the lead's role is refused here, before it reaches the outbox.
        let live = view?.writes[planned.field] ?? []
        let superseded = change.supersedes.map { id -> String? in
            id.replica == identity.replicaID ? identity.practice : LeadPowers.practice(stampedIn: live.first { $0.id == id }?.author)
        }
        try LeadPowers.check(change, role: role, practice: identity.practice, supersededPractices: superseded, receiver: .replica)
        _ = try writer.apply(change)
        let queue = try writer.db.cachedStatement(sql: "INSERT INTO outbox (replica, counter) VALUES (?, ?)")
        queue.setUncheckedArguments([try writer.replicaNumber(identity.replicaID), counter])
        try queue.execute()
        made.append(change)
    }

    /// The part of the record an edit needs to plan against: a field edit needs that field's
    /// live writes and the tombstone (an add, which supersedes nothing, only the tombstone);
    /// a delete needs everything.
    static func view(_ id: RecordID, for edit: Edit, _ db: Database) throws -> RecordView? {
        let field: String? = switch edit {
        case .set(let f, _), .remove(let f, _): f
        case .add: "deleted"
        case .place: "position"
        case .delete, .restore: nil
        }
        guard let field else { return try Replica.view(id, db) }
        return try ChangeReader.views(db, where: "rec.id = ? AND c.field IN (?, 'deleted')", arguments: [id.rawValue, field]).first
    }

    func finish() throws {
        try writer.db.execute(sql: "UPDATE identity SET counter = ?, hlc = ?", arguments: [counter, clock.last.packed])
    }
}
