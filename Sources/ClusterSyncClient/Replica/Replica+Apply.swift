import ClusterSyncCore
import ClusterSyncStorage
import GRDB

extension Replica {
    /// Where a batch of remote changes came from.
    public enum Origin: Sendable {
        /// From a server: already acknowledged there, so not queued. A change the replica cannot
        /// admit is set aside and the rest applied.
        case server
        /// From another replica file: queued so that it reaches a server even if that replica
        /// never syncs itself. One change the replica cannot admit refuses the batch.
        case peer
    }

    public struct ApplyOutcome: Sendable, Equatable {
        public var applied = 0
        public var duplicates = 0
        /// Changes from a server this replica could not admit, now in `setAside()`.
        public var setAside = 0
        /// Records a read-only replica deleted because its server no longer lists them (a risk
        /// de-escalated or deleted, an action no longer linked to an escalated one).
        public var withdrawn = 0

        public init(applied: Int = 0, duplicates: Int = 0, setAside: Int = 0) {
            self.applied = applied
            self.duplicates = duplicates
            self.setAside = setAside
        }
    }

    /// Applies a batch of remote changes in one transaction, each first checked by the one
    /// admission rule (`ChangeAdmission`, with the clock limit the server announced). From a
    /// peer the batch is checked whole first: one change the rule refuses refuses the batch and
    /// nothing is written. From a server, a refused change is set aside and the rest applied.
    @discardableResult
    public func apply(_ changes: [Change], origin: Origin) throws -> ApplyOutcome {
        try apply(changes, unreadable: [], origin: origin, cursor: nil)
    }

    /// The admission rule of this replica: its scopes, and the clock limit of the last server it
    /// synced with (`ClockPolicy` before the first sync).
    public func admissionRule() throws -> ChangeAdmission {
        try database.read { db in try Self.admissionRule(db) }
    }

    static func admissionRule(_ db: Database) throws -> ChangeAdmission {
        let identity = try identity(db)
        // Held to the range a welcome may announce (a replica of an earlier version kept any).
        let announced = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max_clock_skew_millis FROM remote")) ?? ClockPolicy.maximumSkewMillis
        let skew = min(max(announced, WireLimits.clockSkewMillis.lowerBound), WireLimits.clockSkewMillis.upperBound)
        var rule = ChangeAdmission(tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                   maxClockSkewMillis: skew, receiver: .replica)
        rule.readsTenant = try oversightRole(db) != nil
        if let key = try? signingKey(db).publicKey {
            rule.own = ChangeAdmission.OwnReplica(replica: identity.replicaID, key: key, counter: try ownCounter(db))
        }
        return rule
    }

    /// Remembers the limits a server announced in `welcome`: its clock limit becomes this
    /// replica's, so both ends admit the same changes.
    public func rememberServerLimits(_ limits: WireLimits) throws {
        try database.write { db in try Self.rememberServerLimits(limits, db) }
    }

    static func rememberServerLimits(_ limits: WireLimits, _ db: Database) throws {
        // Unchanged (the usual case) writes nothing, so a sync's first transaction commits no page.
        try db.cachedStatement(sql: "UPDATE remote SET max_clock_skew_millis = ?1 WHERE max_clock_skew_millis IS NOT ?1")
            .execute(arguments: [limits.maxClockSkewMillis])
    }

    func apply(_ changes: [Change], unreadable: [UnreadableChange], origin: Origin, cursor: ClusterSyncCore.Cursor?,
               retrySetAside: Bool = false, oversight: OversightPage? = nil, more: Bool = false,
               prepare: (@Sendable (Database) throws -> Void)? = nil,
               finish: ((Database) throws -> Void)? = nil,
               progressSlice: Int? = nil, progress: (Int) -> Void = { _ in }) throws -> ApplyOutcome {
        let now = wallClock()
        // A read-only replica takes changes from its server only: a merge would write records
        // the server never sent it.
        if origin == .peer { try database.read { db in try Self.refuseIfReadOnly(db) } }
        let rule = try admissionRule()
        // The batch itself until a change is refused (no copy of 100,000 changes to admit them all).
        var admittedSoFar: [Change]?
        var refused: [SetAsideEntry] = unreadable.map { SetAsideEntry(text: $0.text, error: $0.error) }
        for index in changes.indices {
            do throws(ClusterSyncError) {
                try rule.check(changes[index], nowMillis: now)
                admittedSoFar?.append(changes[index])
            } catch {
                if origin == .peer { throw error }
                if admittedSoFar == nil { admittedSoFar = Array(changes[..<index]) }
                refused.append(SetAsideEntry(change: changes[index], error: error))
            }
        }
        let admitted = admittedSoFar ?? changes
        defer {
            // A redaction erased values: their bytes go from the file too.
            if changes.indices.contains(where: { changes[$0].field == Redaction.field }) { scrub() }
        }
        return try database.write { db in
            // A snapshot's first page replaces the materialised state first (Replica+Snapshot).
            try prepare?(db)
            var writer = try Self.changeWriter(db)
            // The stateful part of the rule: a record keeps the scope it was created in.
            let scoped = try Self.checkRecordScopes(admitted, &writer)
            for (change, error) in scoped.refused {
                if origin == .peer { throw error }
                refused.append(SetAsideEntry(change: change, error: error))
            }
            // With a progress report, written in slices of one transaction, each reported.
            var outcome = ApplyOutcome()
            let slice = progressSlice ?? max(1, scoped.admitted.count)
            for start in stride(from: 0, to: scoped.admitted.count, by: slice) {
                let end = min(start + slice, scoped.admitted.count)
                let part = try Self.write(start == 0 && end == scoped.admitted.count ? scoped.admitted : Array(scoped.admitted[start..<end]),
                                          origin: origin, &writer)
                outcome.applied += part.applied
                outcome.duplicates += part.duplicates
                progress(part.applied + part.duplicates)
            }
            outcome.setAside = try Self.setAside(refused, at: now, db)
            let listed = try oversight.map { try Self.applyOversight($0, now: now, db) }
            outcome.withdrawn = listed?.withdrawn ?? 0
            if let cursor {
                // A read-only replica missing a record it is told to hold pulls from the start
                // next time; until the last page, what is listed may still be on its way.
                try db.cachedStatement(sql: "UPDATE remote SET cursor = ?")
                    .execute(arguments: [more || listed?.holdsAllListed ?? true ? cursor.rawValue : nil])
                // A pull's last page: a snapshot that replaced the state has come whole.
                if !more { try db.cachedStatement(sql: "UPDATE remote SET state_partial = 0 WHERE state_partial = 1").execute() }
            }
            if retrySetAside {
                outcome.applied += try Self.retrySetAside(rule: rule, now: now, &writer)
            }
            try finish?(db)
            return outcome
        }
    }

    /// Writes admitted changes; moves this replica's clock and counter past what they carry.
    static func write(_ changes: [Change], origin: Origin, _ writer: inout ChangeWriter) throws -> ApplyOutcome {
        let db = writer.db
        var outcome = ApplyOutcome()
        var latest = HLCTimestamp.zero
        let queue = origin == .peer
            ? try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (replica, counter) VALUES (?, ?)") : nil
        let stampAuthor = try BoundStatement(db, sql: """
            UPDATE change SET author = ?1 WHERE replica = ?2 AND counter = ?3 AND author IS NOT ?1
            """)
        let me = try identity(db).replicaID
        var ownCounter: Int64 = 0
        let isNew = try writer.apply(changes)
        if origin == .server {
            // The server has these changes: whoever relayed them here need not push them any
            // more. A signed change from the server means its maker's key is registered there.
            // An empty outbox (a fresh replica's first pull, a practice with nothing pending)
            // needs no delete per change.
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox)"))! {
                let sent = try BoundStatement(db, sql: "DELETE FROM outbox WHERE replica = ? AND counter = ?")
                for index in changes.indices {
                    // Another change of this replica's under the same id (a copy of this file made
                    // it): this one's stays in the outbox, and its push says why.
                    if changes[index].id.replica == me, try Self.differsFromHeld(changes[index], db) { continue }
                    try sent.run(.int(try writer.replicaNumber(changes[index].id.replica)), .int(changes[index].id.counter))
                }
            }
            // By place: a lazy filter of the changes would copy each out of the array.
            try markAcknowledged(changes.indices.lazy.filter { changes[$0].sig != nil }.map { changes[$0].id.replica }, db)
        }
        try eraseSetAside(writer.erased, db)
        // Set-aside copies are erased whether or not this replica holds the change itself (one
        // set aside is held nowhere else here): those of the redaction's record and field.
        try eraseSetAside(redactedBy: changes.filter { $0.field == Redaction.field }, db)
        for index in changes.indices {
            let id = changes[index].id
            if id.replica == me { ownCounter = max(ownCounter, id.counter) }
            if isNew[index] {
                outcome.applied += 1
                latest = max(latest, changes[index].hlc)
                if let queue {
                    queue.setUncheckedArguments([try writer.replicaNumber(id.replica), id.counter])
                    try queue.execute()
                }
            } else {
                outcome.duplicates += 1
                // The server's copy carries the author it stamped: it replaces the one the
                // change was made with here, so every replica shows the same author.
                if origin == .server, let author = changes[index].author {
                    try stampAuthor.run(.optional(author), .int(try writer.replicaNumber(id.replica)), .int(id.counter))
                }
            }
        }
        // Later local edits must sort after everything seen, and never reuse the id of a change
        // this replica made and the server kept (a file restored from a backup, or one that lost
        // its last transactions in a power cut, gets them back from the server).
        try db.cachedStatement(sql: "UPDATE identity SET hlc = max(hlc, ?1), counter = max(counter, ?2) WHERE hlc < ?1 OR counter < ?2")
            .execute(arguments: [latest.packed, ownCounter])
        return outcome
    }

    /// Whether this replica holds another change under `change`'s id (two files of one replica
    /// id numbered different changes alike: `ReplicaOwnership.checkResent`).
    static func differsFromHeld(_ change: Change, _ db: Database) throws -> Bool {
        guard let held = try ChangeReader.changes(db, where: "r.id = ? AND c.counter = ?",
                                                  arguments: [change.id.replica.rawValue, change.id.counter]).first else { return false }
        return !ReplicaOwnership.isResend(change, of: held)
    }

    /// The first refusal this replica would give `changes` handed over by a peer (the admission
    /// rule, then the scope each record was created in), read without writing: a merge asks
    /// both files before it writes either.
    func peerRefusal(_ changes: [Change]) throws -> ClusterSyncError? {
        let (rule, now) = (try admissionRule(), wallClock())
        for change in changes {
            do throws(ClusterSyncError) {
                try rule.check(change, nowMillis: now)
            } catch {
                return error
            }
        }
        return try database.read { db in
            var writer = try Self.changeWriter(db)
            return try Self.checkRecordScopes(changes, &writer).refused.first?.1
        }
    }

    /// Splits changes by `ChangeAdmission.recordScope`: against the stored record, or the first
    /// change of the batch that names it. The writer looks each record up once, and writes the
    /// admitted changes with what it found.
    static func checkRecordScopes(_ changes: [Change], _ writer: inout ChangeWriter) throws -> (admitted: [Change], refused: [(Change, ClusterSyncError)]) {
        var scopes: [RecordID: RecordScope] = [:]
        // The changes themselves until one is refused, as in `apply`.
        var admitted: [Change]?
        var refused: [(Change, ClusterSyncError)] = []
        for index in changes.indices {
            let record = changes[index].record
            let existing: RecordScope?
            if let known = scopes[record] {
                existing = known
            } else {
                existing = try writer.storedScope(of: record)
                scopes[record] = existing ?? changes[index].scope
            }
            do throws(ClusterSyncError) {
                try ChangeAdmission.recordScope(changes[index], existing: existing)
                admitted?.append(changes[index])
            } catch {
                if admitted == nil { admitted = Array(changes[..<index]) }
                refused.append((changes[index], error))
            }
        }
        return (admitted ?? changes, refused)
    }

    // MARK: Set-aside changes

    /// A change a server sent that this replica could not admit.
    public struct SetAsideChange: Sendable, Equatable {
        /// Nil when the change could not be read far enough to know them.
        public var change: ChangeID?
        public var record: RecordID?
        /// The admission rule's code (`malformed`, `invalid-value`, `clock-skew`, ...) and message.
        public var code: ClusterSyncError.Code
        public var reason: String
        public var setAsideMillis: Int64
        /// As received.
        public var json: String
    }

    struct SetAsideEntry {
        var text: String
        var change: ChangeID?
        var record: RecordID?
        var error: ClusterSyncError
        /// The change itself, when it was read whole before it was refused.
        var decoded: Change?

        init(change: Change, error: ClusterSyncError) {
            text = change.jsonText
            decoded = change
            self.change = change.id
            record = change.record
            self.error = error
        }

        /// An undecodable change: its id and record, if those keys at least can be read.
        init(text: String, error: ClusterSyncError) {
            self.text = text
            self.error = error
            let object = try? JSONValue(parsing: text)
            change = object?["id"]?.stringValue.flatMap { ChangeID($0) }
            record = object?["record"]?.stringValue.flatMap { RecordID($0) }
        }
    }

    /// Changes set aside, oldest first.
    public func setAside() throws -> [SetAsideChange] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM set_aside ORDER BY rowid").map { row in
                SetAsideChange(
                    change: (row["change_id"] as String?).flatMap { ChangeID($0) },
                    record: (row["record"] as String?).flatMap { RecordID($0) },
                    code: ClusterSyncError.Code(row["code"]), reason: row["reason"], setAsideMillis: row["set_aside_at"],
                    json: row["change_json"])
            }
        }
    }

    public func setAsideCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM set_aside")! }
    }

    /// Records refused changes; one already set aside is not recorded twice. Returns how many
    /// are newly set aside.
    static func setAside(_ entries: [SetAsideEntry], at now: Int64, _ db: Database) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO set_aside (change_json, change_id, record, code, reason, set_aside_at)
            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (change_json) DO NOTHING
            """)
        // A change set aside after a redaction of it arrived is kept erased, as it would be stored.
        var count = 0
        for entry in entries {
            var text = entry.text
            // An entry made from text that named an id may still read as a change (refused by a
            // rule, not by its form).
            let change = entry.decoded ?? (entry.change == nil ? nil : try? Change(jsonText: text))
            if let change, let by = try ChangeWriter.storedRedaction(of: change, db) {
                text = Redaction.erased(change, by: by).jsonText
            }
            try insert.execute(arguments: [text, entry.change?.description, entry.record?.rawValue,
                                           entry.error.code.rawValue, entry.error.message, now])
            count += db.changesCount
        }
        return count
    }

    /// Tries every set-aside change again (the clock has caught up, or this version now reads
    /// it); applies and removes those now admitted. Returns how many were applied.
    static func retrySetAside(rule: ChangeAdmission, now: Int64, _ writer: inout ChangeWriter) throws -> Int {
        let db = writer.db
        let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT rowid, change_json FROM set_aside ORDER BY rowid"))
        guard !rows.isEmpty else { return 0 }
        var admitted: [(Int64, Change)] = []
        for row in rows {
            if let change = try? rule.admit(jsonText: row[1] as String, nowMillis: now) { admitted.append((row[0], change)) }
        }
        let scoped = try checkRecordScopes(admitted.map(\.1), &writer)
        let applied = Set(scoped.admitted.map(\.id))
        let outcome = try write(scoped.admitted, origin: .server, &writer)
        for (rowid, change) in admitted where applied.contains(change.id) {
            try db.execute(sql: "DELETE FROM set_aside WHERE rowid = ?", arguments: [rowid])
        }
        return outcome.applied
    }
}
