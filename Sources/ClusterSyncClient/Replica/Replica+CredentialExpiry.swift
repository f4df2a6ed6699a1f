import ClusterSyncCore
import GRDB

extension Replica {
    /// Remembers when the server said this replica's credential expires (nil: it does not).
    public func rememberCredentialExpiry(_ millis: Int64?) throws {
        try database.write { db in try Self.rememberCredentialExpiry(millis, db) }
    }

    static func rememberCredentialExpiry(_ millis: Int64?, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE remote SET credential_expires_at = ?1 WHERE credential_expires_at IS NOT ?1").execute(arguments: [millis])
    }

    /// When the credential expires, as the server said at the last sync; nil if it does not or
    /// the replica has not synced with a server that says.
    public func credentialExpiry() throws -> Int64? {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT credential_expires_at FROM remote") }
    }

    /// The head of the tenant's tamper-evident chain as the server gave it at the last sync
    /// that named one, and when this replica was told; nil before. A data protection officer
    /// checks the server still holds it: `clustersyncd verify --tenant T --expect-head HEAD`.
    public func serverChainHead() throws -> (head: LedgerHead, toldAt: Int64)? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT chain_head, chain_head_at FROM remote WHERE chain_head IS NOT NULL"),
                  let head = LedgerHead(text: row[0]) else { return nil }
            return (head, row[1])
        }
    }
}
