import ClusterSyncCore
import ClusterSyncStorage
import GRDB

extension Replica {
    /// A change of the outbox the server refused, kept out of the outbox so the rest syncs.
    public struct HeldBackChange: Sendable, Equatable {
        public var change: ChangeID
        public var record: RecordID?
        public var field: String?
        public var code: ClusterSyncError.Code
        /// The server's words.
        public var reason: String
        public var heldBackMillis: Int64
    }

    /// Takes a change the server refused out of the outbox and keeps the refusal. The change
    /// stays in this replica's state: it was made, and it is shown; only the server did not take
    /// it. For another replica's change (relayed from a merge) its maker's later changes in the
    /// outbox are held back with it: they build on it, and would each be refused the same way.
    /// They reach the server from the replica that made them.
    public func holdBack(_ id: ChangeID, code: ClusterSyncError.Code, reason: String) throws {
        let now = wallClock()
        try database.write { db in
            guard let num = try Int64.fetchOne(db, sql: "SELECT num FROM replica WHERE id = ?", arguments: [id.replica.rawValue])
            else { return }
            let relayed = try Self.identity(db).replicaID != id.replica
            let upTo = relayed ? Int64.max : id.counter
            try db.execute(sql: """
                INSERT OR REPLACE INTO held_back (replica, counter, code, reason, held_back_at)
                SELECT replica, counter, ?, ?, ? FROM outbox WHERE replica = ? AND counter >= ? AND counter <= ?
                """, arguments: [code.rawValue, reason, now, num, id.counter, upTo])
            try db.execute(sql: "DELETE FROM outbox WHERE replica = ? AND counter >= ? AND counter <= ?",
                           arguments: [num, id.counter, upTo])
        }
    }

    /// Puts the changes held back with `code` back in the outbox (those refused as `lead-only`,
    /// once the replica syncs with a cluster-lead credential); returns how many.
    @discardableResult
    public func releaseHeldBack(coded code: ClusterSyncError.Code) throws -> Int {
        try database.write { db in try Self.releaseHeldBack(coded: code, db) }
    }

    @discardableResult
    static func releaseHeldBack(coded code: ClusterSyncError.Code, _ db: Database) throws -> Int {
        try db.execute(sql: "INSERT OR IGNORE INTO outbox (replica, counter) SELECT replica, counter FROM held_back WHERE code = ?",
                       arguments: [code.rawValue])
        try db.execute(sql: "DELETE FROM held_back WHERE code = ?", arguments: [code.rawValue])
        return db.changesCount
    }

    /// Changes held back as too long for a line that lines of `maxLineBytes` now hold (a server
    /// set low, then raised: they were held back for good) go back in the outbox, in the
    /// welcome's transaction; one still too long stays held back, so an edit over it still
    /// reaches past it (`reachingPastNeverPushed`).
    static func releaseHeldBack(fitting maxLineBytes: Int, _ db: Database) throws {
        let code = ClusterSyncError.Code.lineTooLong.rawValue
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM held_back WHERE code = ?)"), arguments: [code])! else { return }
        let held = try ChangeReader.changes(db, from: "held_back h JOIN change c ON c.replica = h.replica AND c.counter = h.counter",
                                            where: "h.code = ?", arguments: [code])
        let release = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO outbox (replica, counter) SELECT replica, counter FROM held_back
            WHERE code = ?1 AND replica = (SELECT num FROM replica WHERE id = ?2) AND counter = ?3
            """)
        let forget = try db.cachedStatement(sql: "DELETE FROM held_back WHERE code = ?1 AND replica = (SELECT num FROM replica WHERE id = ?2) AND counter = ?3")
        for change in held where !Push.fitting([change], maxLineBytes: maxLineBytes).isEmpty {
            let key: StatementArguments = [code, change.id.replica.rawValue, change.id.counter]
            try release.execute(arguments: key)
            try forget.execute(arguments: key)
        }
    }

    /// The server now has these changes (a pull brought them: the replica that made a relayed
    /// change pushed it itself), so a refusal of them is no longer news. Not when the server's
    /// change under that id is another than the one held back here (a copy of this replica's
    /// file made it): that refusal stays, and `status` keeps saying why.
    func forgetHeldBack(_ changes: [Change]) throws {
        guard !changes.isEmpty else { return }
        try database.write { db in try Self.forgetHeldBack(changes, db) }
    }

    static func forgetHeldBack(_ changes: [Change], _ db: Database) throws {
        guard !changes.isEmpty, try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM held_back)"))! else { return }
        let held = try db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM held_back WHERE counter = ? AND replica = (SELECT num FROM replica WHERE id = ?))
            """)
        let forget = try db.cachedStatement(sql: """
            DELETE FROM held_back WHERE counter = ? AND replica = (SELECT num FROM replica WHERE id = ?)
            """)
        for change in changes {
            let arguments: StatementArguments = [change.id.counter, change.id.replica.rawValue]
            guard try Bool.fetchOne(held, arguments: arguments)!, try !differsFromHeld(change, db) else { continue }
            try forget.execute(arguments: arguments)
        }
        try releaseHeldBack(awaiting: changes, db)
    }

    /// Puts back in the outbox this replica's own changes held back as `supersedes-unsynced`
    /// that supersede or have seen another replica's change among `pulled`: the server holds it
    /// now, so its maker has synced it. A watch pushes them at its next poll and a sync in the
    /// same run (the session's machine lets each be refused once more after a page: another
    /// change it names may still be missing, and then it is held back again until that one
    /// comes). Another replica's change held back so (relayed from a merge) is not: it reaches
    /// the server from its maker, and the pull that brings it forgets the refusal. Run after
    /// `forgetHeldBack`'s own pass, so a change the page itself brought is not pushed again.
    static func releaseHeldBack(awaiting pulled: [Change], _ db: Database) throws {
        let me = try identity(db).replicaID
        let waiting = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT h.replica, h.counter, c.sup, c.seen FROM held_back h JOIN change c ON c.replica = h.replica AND c.counter = h.counter
            WHERE h.code = ? AND h.replica = (SELECT num FROM replica WHERE id = ?)
            """), arguments: [ClusterSyncError.Code.supersedesUnsynced.rawValue, me.rawValue])
        guard !waiting.isEmpty else { return }
        let arrived = Set(pulled.lazy.filter { $0.id.replica != me }.map(\.id))
        let release = try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (replica, counter) VALUES (?, ?)")
        let forget = try db.cachedStatement(sql: "DELETE FROM held_back WHERE replica = ? AND counter = ?")
        for row in waiting {
            let named = ChangeWriter.parseIDList(row["sup"]) + ChangeWriter.parseIDList(row["seen"])
            guard named.contains(where: { $0.replica != me && arrived.contains($0) }) else { continue }
            let key: StatementArguments = [row["replica"] as Int64, row["counter"] as Int64]
            try release.execute(arguments: key)
            try forget.execute(arguments: key)
        }
    }

    /// Held-back changes the server will never take: a retired replica's, whoever pushes it
    /// (`replica-retired`: a lost laptop's, merged here), and one of this replica's own whose
    /// text alone is longer than the server's lines (`line-too-long`). An edit over one reaches
    /// past it (`reachingPastNeverPushed`). (Another replica's too long for a line is not
    /// reached past: the server takes no edit naming another replica's change it lacks unless
    /// that replica is retired, so an edit over it waits as `supersedes-unsynced`.)
    static let neverPushedSQL = """
        (h.code = '\(ClusterSyncError.Code.replicaRetired.rawValue)'
         OR (h.code = '\(ClusterSyncError.Code.lineTooLong.rawValue)' AND h.replica = \(ownNumberSQL)))
        """

    /// Held-back changes an edit made here forgets when it supersedes them (`forgetHeldBack`):
    /// those the server will never take (`neverPushedSQL`), and this replica's own held back for
    /// the lead (`lead-only`: a value held back for the lead and then given up, the practice
    /// keeping the lead's settlement instead).
    static let writtenOverSQL = """
        (\(neverPushedSQL)
         OR (h.code = '\(ClusterSyncError.Code.leadOnly.rawValue)' AND h.replica = \(ownNumberSQL)))
        """

    private static let ownNumberSQL = "(SELECT num FROM replica WHERE id = (SELECT replica_id FROM identity))"

    /// Forgets the held-back changes that `changes`, made here, supersede (or, for a delete, have
    /// seen) and that wait on no one (`writtenOverSQL`). None is ever pushed (the change
    /// superseding it is), and `status` stops listing it. A refusal of another kind (a change the
    /// server holds with other contents, from a copied file) stays, since `status` is where it
    /// is said.
    static func forgetHeldBack(supersededBy changes: [Change], _ db: Database) throws {
        // A delete's `seen` covers what it deletes as `sup` covers what an edit replaces.
        let superseded = changes.flatMap { $0.supersedes + $0.seen }
        // Asked of every batch of edits: a replica holding back only refusals of other kinds (a
        // copied file's) reads nothing more.
        guard !superseded.isEmpty,
              try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM held_back h WHERE \(writtenOverSQL))"))!
        else { return }
        let forget = try db.cachedStatement(sql: """
            DELETE FROM held_back AS h
            WHERE h.replica = (SELECT num FROM replica WHERE id = ?) AND h.counter = ? AND \(writtenOverSQL)
            """)
        for id in superseded {
            try forget.execute(arguments: [id.replica.rawValue, id.counter])
        }
    }

    /// `ids` (what an edit supersedes) and, for each that is a change held back for good
    /// (`neverPushedSQL`: a lost laptop's, merged here, or one of its own too long for a line), the
    /// changes that one superseded, in turn. The server holds those: an edit over the held-back
    /// value that named only it would leave them live there, a conflict beside the edit that
    /// every other replica shows and this one never would.
    static func reachingPastNeverPushed(_ ids: [ChangeID], _ db: Database) throws -> [ChangeID] {
        guard !ids.isEmpty, try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM held_back h WHERE \(neverPushedSQL))"))!
        else { return ids }
        let retiredChange = ChangeReader.changesSQL(
            from: "held_back h JOIN change c ON c.replica = h.replica AND c.counter = h.counter",
            where: "\(neverPushedSQL) AND r.id = ? AND c.counter = ?")
        var reached = ids, next = ids
        var known = Set(ids)
        while let id = next.popLast() {
            for change in try ChangeReader.changes(db, sql: retiredChange, arguments: [id.replica.rawValue, id.counter], cached: true) {
                for earlier in change.supersedes where known.insert(earlier).inserted {
                    reached.append(earlier)
                    next.append(earlier)
                }
            }
        }
        return reached
    }

    /// The changes the server refused, oldest first.
    public func heldBack() throws -> [HeldBackChange] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id AS replica_id, h.counter, h.code, h.reason, h.held_back_at, rec.id AS record, c.field
                FROM held_back h JOIN replica r ON r.num = h.replica
                LEFT JOIN change c ON c.replica = h.replica AND c.counter = h.counter
                LEFT JOIN record rec ON rec.num = c.record
                ORDER BY h.held_back_at, r.id, h.counter
                """).compactMap { row in
                guard let replica = ReplicaID(row["replica_id"] as String) else { return nil }
                return HeldBackChange(
                    change: ChangeID(replica: replica, counter: row["counter"]),
                    record: (row["record"] as String?).flatMap { RecordID($0) }, field: row["field"],
                    code: ClusterSyncError.Code(row["code"]), reason: row["reason"], heldBackMillis: row["held_back_at"])
            }
        }
    }
}
