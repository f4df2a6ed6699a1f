import ClusterSyncCore
import GRDB

extension Replica {
    /// What a sync needs from the replica before it connects, read in one transaction (one
    /// consistent view, and one trip to the reader instead of six on every sync).
    struct SyncStart {
        var identity: ReplicaIdentity
        var key: ReplicaPublicKey
        var oversight: OversightRole?
        var knownStore: String?
        var cursor: ClusterSyncCore.Cursor?
        var pending: Int
        /// Relayed changes wait in the outbox for their makers' keys (`waitingRelays()`).
        var relaysWaiting: Bool
    }

    func syncStart() throws -> SyncStart {
        try database.read { db in
            SyncStart(
                identity: try Self.identity(db),
                key: try Self.signingKey(db).publicKey,
                oversight: try Self.oversightRole(db),
                knownStore: try Self.knownServerStore(db),
                cursor: try Self.syncState(db).cursor,
                pending: try Self.pendingCount(db),
                relaysWaiting: try Bool.fetchOne(db, sql: Self.relaysWaitingSQL)!)
        }
    }
}
