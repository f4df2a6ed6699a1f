import ClusterSyncCore
import GRDB

/// Applies changes inside one write transaction: the SQLite form of `FieldWrites.apply`.
///
/// Lives for one transaction and caches the interned replica and record numbers it has looked
/// up, so a batch of changes to few records costs about one insert and one update per change.
struct ChangeWriter {
    let db: Database
    private var replicaNumbers: [ReplicaID: Int64] = [:]
    private var records: [RecordID: (num: Int64, scope: RecordScope)] = [:]

    init(_ db: Database) {
        self.db = db
    }

    /// Applies one change; returns false if it was already here.
    mutating func apply(_ change: Change) throws -> Bool {
        let replica = try replicaNumber(change.id.replica)
        let record = try recordNumber(change.record, scope: change.scope)

        let insert = try db.cachedStatement(sql: """
            INSERT INTO change (replica, counter, hlc, record, field, value, sup, seen, author, live)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
                CASE WHEN ?6 IS NULL THEN 0
                     WHEN EXISTS (SELECT 1 FROM orphan_supersede
                                  WHERE replica = ?1 AND counter = ?2 AND record = ?4 AND field = ?5) THEN 0
                     ELSE 1 END)
            ON CONFLICT DO NOTHING
            """)
        insert.setUncheckedArguments([
            replica, change.id.counter, change.hlc.packed, record, change.field,
            change.value?.canonicalText, Self.idList(change.supersedes), Self.idList(change.seen), change.author,
        ])
        try insert.execute()
        guard db.changesCount == 1 else { return false }

        if !change.supersedes.isEmpty {
            let kill = try db.cachedStatement(sql: """
                UPDATE change SET live = 0 WHERE replica = ? AND counter = ? AND record = ? AND field = ?
                """)
            for id in change.supersedes {
                let target = try replicaNumber(id.replica)
                kill.setUncheckedArguments([target, id.counter, record, change.field])
                try kill.execute()
                if db.changesCount == 0 {
                    let orphan = try db.cachedStatement(sql: """
                        INSERT OR IGNORE INTO orphan_supersede (replica, counter, record, field) VALUES (?, ?, ?, ?)
                        """)
                    orphan.setUncheckedArguments([target, id.counter, record, change.field])
                    try orphan.execute()
                }
            }
        }
        if change.field == "list", change.recordType == .item, let list = change.value?.stringValue {
            try db.execute(sql: "UPDATE record SET parent = ? WHERE num = ? AND parent IS NULL", arguments: [list, record])
        }
        return true
    }

    mutating func replicaNumber(_ id: ReplicaID) throws -> Int64 {
        if let num = replicaNumbers[id] { return num }
        let select = try db.cachedStatement(sql: "SELECT num FROM replica WHERE id = ?")
        let num: Int64
        if let existing = try Int64.fetchOne(select, arguments: [id.rawValue]) {
            num = existing
        } else {
            try db.execute(sql: "INSERT INTO replica (id) VALUES (?)", arguments: [id.rawValue])
            num = db.lastInsertedRowID
        }
        replicaNumbers[id] = num
        return num
    }

    /// The record's number, creating its row on first sight. A change that claims another scope
    /// than the record was created in is refused: scope is fixed at creation.
    mutating func recordNumber(_ id: RecordID, scope: RecordScope) throws -> Int64 {
        if let known = records[id] {
            guard known.scope == scope else { throw Self.scopeMismatch(id) }
            return known.num
        }
        let select = try db.cachedStatement(sql: "SELECT num, tenant, cluster, practice FROM record WHERE id = ?")
        let num: Int64
        if let row = try Row.fetchOne(select, arguments: [id.rawValue]) {
            let stored = RecordScope(tenant: row["tenant"], cluster: row["cluster"], practice: row["practice"])
            guard stored == scope else { throw Self.scopeMismatch(id) }
            num = row["num"]
        } else {
            try db.execute(
                sql: "INSERT INTO record (id, type, tenant, cluster, practice) VALUES (?, ?, ?, ?, ?)",
                arguments: [id.rawValue, id.type.rawValue, scope.tenant, scope.cluster, scope.practice])
            num = db.lastInsertedRowID
        }
        records[id] = (num, scope)
        return num
    }

    static func scopeMismatch(_ id: RecordID) -> ClusterSyncError {
        ClusterSyncError(.forbiddenScope, "a change to \(id) names another tenant, cluster or practice than the record was created in")
    }

    static func idList(_ ids: [ChangeID]) -> String? {
        ids.isEmpty ? nil : ids.map(\.description).joined(separator: ",")
    }

    static func parseIDList(_ text: String?) -> [ChangeID] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: ",").compactMap { ChangeID($0) }
    }
}
