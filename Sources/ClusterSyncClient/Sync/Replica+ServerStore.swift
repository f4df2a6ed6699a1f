import ClusterSyncCore
import GRDB

extension Replica {
    /// The server store this replica's cursor belongs to (`welcome.store`, PROTOCOL.md §5.2);
    /// nil until a server has named one.
    public func knownServerStore() throws -> String? {
        try database.read { db in try Self.knownServerStore(db) }
    }

    static func knownServerStore(_ db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT store FROM remote"))
    }

    /// Keeps the store a welcome named. When it `replaced` another (the server was restored
    /// from a backup, or this is another server), in the same transaction: every change this
    /// replica made goes back into the outbox, since the store may have lost those it
    /// acknowledged after its backup (it counts the ones it has as duplicates), and the cursor
    /// becomes `cursor` (the stream's start), so the pull replays the stream. Changes whose
    /// value a redaction erased stay out: their redaction goes, and the server never takes
    /// back an erased value.
    public func rememberServerStore(_ store: String, replaced: Bool, cursor: ClusterSyncCore.Cursor?) throws {
        try database.write { db in try Self.rememberServerStore(store, replaced: replaced, cursor: cursor, db) }
    }

    static func rememberServerStore(_ store: String, replaced: Bool, cursor: ClusterSyncCore.Cursor?, _ db: Database) throws {
        try db.execute(sql: "UPDATE remote SET store = ?", arguments: [store])
        guard replaced else { return }
        try db.execute(sql: "UPDATE remote SET cursor = ?, snapshot_cursor = NULL", arguments: [cursor?.rawValue])
        let me = try Self.identity(db).replicaID.rawValue
        try db.execute(sql: """
            INSERT OR IGNORE INTO outbox (replica, counter)
            SELECT c.replica, c.counter FROM change c JOIN replica r ON r.num = c.replica
            WHERE r.id = ?1
              AND NOT EXISTS (SELECT 1 FROM redaction x WHERE x.change = c.counter || '@' || ?1)
            """, arguments: [me])
    }
}
