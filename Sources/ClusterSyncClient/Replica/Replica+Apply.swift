import ClusterSyncCore
import ClusterSyncStorage
import GRDB

extension Replica {
    /// Where a batch of remote changes came from.
    public enum Origin: Sendable {
        /// From a server: already acknowledged there, so not queued.
        case server
        /// From another replica file: queued so that it reaches a server even if that replica
        /// never syncs itself.
        case peer
    }

    public struct ApplyOutcome: Sendable, Equatable {
        public var applied = 0
        public var duplicates = 0

        public init(applied: Int = 0, duplicates: Int = 0) {
            self.applied = applied
            self.duplicates = duplicates
        }
    }

    /// Applies a batch of remote changes in one transaction. The batch is checked whole first:
    /// one invalid change, one for a scope this replica may not hold, or one stamped too far in
    /// the future refuses the batch and nothing is written.
    @discardableResult
    public func apply(_ changes: [Change], origin: Origin) throws -> ApplyOutcome {
        try apply(changes, origin: origin, cursor: nil)
    }

    func apply(_ changes: [Change], origin: Origin, cursor: ClusterSyncCore.Cursor?) throws -> ApplyOutcome {
        let now = wallClock()
        let identity = try identity()
        for change in changes {
            try Self.check(change, for: identity, now: now)
        }
        return try database.write { db in
            var writer = try ChangeWriter(db)
            var outcome = ApplyOutcome()
            var latest = HLCTimestamp.zero
            let queue = origin == .peer
                ? try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (replica, counter) VALUES (?, ?)") : nil
            let stampAuthor = try BoundStatement(db, sql: """
                UPDATE change SET author = ?1 WHERE replica = ?2 AND counter = ?3 AND author IS NOT ?1
                """)
            let isNew = try writer.apply(changes)
            for (change, new) in zip(changes, isNew) {
                if new {
                    outcome.applied += 1
                    latest = max(latest, change.hlc)
                    if let queue {
                        queue.setUncheckedArguments([try writer.replicaNumber(change.id.replica), change.id.counter])
                        try queue.execute()
                    }
                } else {
                    outcome.duplicates += 1
                    // The server's copy carries the author it stamped: it replaces the one the
                    // change was made with here, so every replica shows the same author.
                    if origin == .server, let author = change.author {
                        try stampAuthor.run(.optional(author), .int(try writer.replicaNumber(change.id.replica)), .int(change.id.counter))
                    }
                }
            }
            if let cursor {
                try db.execute(sql: "UPDATE remote SET cursor = ?", arguments: [cursor.rawValue])
            }
            // Later local edits must sort after everything seen.
            try db.execute(sql: "UPDATE identity SET hlc = max(hlc, ?)", arguments: [latest.packed])
            return outcome
        }
    }

    static func check(_ change: Change, for identity: ReplicaIdentity, now: Int64) throws(ClusterSyncError) {
        guard identity.mayHold(change.scope) else {
            throw ClusterSyncError(.forbiddenScope,
                "change \(change.id) is for \(change.scope.tenant)/\(change.scope.cluster)\(change.scope.practice.map { "/" + $0 } ?? ""), "
                + "which this replica (\(identity.tenant)/\(identity.cluster)/\(identity.practice)) may not hold")
        }
        guard change.hlc.millis <= now + ClockPolicy.maximumSkewMillis else {
            throw ClusterSyncError(.clockSkew,
                "change \(change.id) is stamped \((change.hlc.millis - now) / 1000) s ahead of this machine's clock "
                + "(at most \(ClockPolicy.maximumSkewMillis / 1000) s allowed); check the clock of the replica that made it")
        }
        do {
            try change.validate()
        } catch {
            var error = error
            error.message = "change \(change.id) to \(change.record): \(error.message)"
            throw error
        }
    }
}
