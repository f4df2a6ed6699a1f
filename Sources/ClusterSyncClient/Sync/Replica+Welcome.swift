import ClusterSyncCore
import GRDB

extension Replica {
    /// Keeps what a `welcome` said, in one write transaction (a sync's first; PROTOCOL.md §5.2):
    /// the server's limits, when the credential expires, the role (and region) it grants, held-back
    /// lead-only changes put back in the outbox once that role is a lead's, and, when the welcome
    /// named a store this replica has not synced with, that store (`rememberServerStore`: with
    /// `replaced`, the outbox refill and the cursor reset go in the same transaction). Each rule
    /// stays in its own method; this only draws one transaction boundary around them.
    public func rememberWelcome(limits: WireLimits, credentialExpiresAt: Int64?, identity: SessionIdentity?,
                                store: (id: String, replaced: Bool, cursor: ClusterSyncCore.Cursor?)?, head: LedgerHead? = nil) throws {
        let now = wallClock()
        try database.write { db in
            try Self.rememberServerLimits(limits, db)
            try Self.releaseHeldBack(fitting: limits.maxLineBytes, db)
            try Self.rememberCredentialExpiry(credentialExpiresAt, db)
            if let head {
                try db.cachedStatement(sql: "UPDATE remote SET chain_head = ?, chain_head_at = ?").execute(arguments: [head.text, now])
            }
            if let identity {
                try Self.rememberRole(identity.role, region: identity.region, at: now, db)
                // Held-back lead-only changes go again once the credential is a lead's.
                if identity.role.hasLeadPowers { try Self.releaseHeldBack(coded: .leadOnly, db) }
            }
            if let store { try Self.rememberServerStore(store.id, replaced: store.replaced, cursor: store.cursor, db) }
        }
    }
}
