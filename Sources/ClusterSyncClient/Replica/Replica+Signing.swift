import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB
import Synchronization

/// The replica's signing key and what it knows of other replicas' keys (Protocol/PROTOCOL.md §6.2).
extension Replica {
    /// This replica's public key, which its `hello` presents.
    public func publicKey() throws -> ReplicaPublicKey {
        try database.read { db in try Self.signingKey(db).publicKey }
    }

    static func signingKey(_ db: Database) throws -> ReplicaSigningKey {
        guard let seed = try Data.fetchOne(db.cachedStatement(sql: "SELECT private_key FROM signing_key")) else {
            throw ClusterSyncError(.internal, "this replica file has no signing key")
        }
        return try lastSigningKey.withLock { last throws(ClusterSyncError) in
            if let last, last.seed == seed { return last.key }
            let key = try ReplicaSigningKey(rawRepresentation: seed)
            last = (seed, key)
            return key
        }
    }

    /// The key last made from a seed, with its seed: every transaction of edits signs, and making
    /// the key from its seed costs about as much as a signature (a transaction of one edit paid
    /// it twice). A process works on one replica at a time, so one is kept; the seed is read and
    /// compared each time, so another file's key is never taken for this one's.
    private static let lastSigningKey = Mutex<(seed: Data, key: ReplicaSigningKey)?>(nil)

    /// Whether a server has registered this replica's key (it acknowledged a push of this
    /// replica's own session).
    public func isKeyAcknowledged() throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT acknowledged FROM replica_key WHERE replica = (SELECT replica_id FROM identity)") ?? false
        }
    }

    /// Notes that a server has registered these replicas' keys.
    static func markAcknowledged(_ replicas: some Sequence<ReplicaID>, _ db: Database) throws {
        let mark = try db.cachedStatement(sql: """
            INSERT INTO replica_key (replica, acknowledged) VALUES (?, 1) ON CONFLICT (replica) DO UPDATE SET acknowledged = 1
            """)
        // A page's changes come in runs by maker: most are the one before's, and need no hashing.
        var marked = Set<ReplicaID>()
        var previous: ReplicaID?
        for replica in replicas where replica != previous {
            previous = replica
            if marked.insert(replica).inserted { try mark.execute(arguments: [replica.rawValue]) }
        }
    }

    /// The public keys this replica knows, and whether each is acknowledged by a server.
    func knownKeys() throws -> [ReplicaID: (key: ReplicaPublicKey?, acknowledged: Bool)] {
        try database.read { db in
            var keys: [ReplicaID: (key: ReplicaPublicKey?, acknowledged: Bool)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT replica, public_key, acknowledged FROM replica_key") {
                guard let replica = ReplicaID(row[0] as String) else { continue }
                keys[replica] = ((row[1] as Data?).flatMap { ReplicaPublicKey(rawRepresentation: [UInt8]($0)) }, row[2])
            }
            return keys
        }
    }

    /// Learns keys from another replica's file (a merge): adds those not known here, and marks
    /// acknowledged those the other file knows a server registered.
    func learnKeys(_ keys: [ReplicaID: (key: ReplicaPublicKey?, acknowledged: Bool)]) throws {
        try database.write { db in
            let learn = try db.cachedStatement(sql: """
                INSERT INTO replica_key (replica, public_key, acknowledged) VALUES (?, ?, ?)
                ON CONFLICT (replica) DO UPDATE SET public_key = coalesce(public_key, excluded.public_key),
                    acknowledged = max(acknowledged, excluded.acknowledged)
                """)
            for (replica, known) in keys {
                try learn.execute(arguments: [replica.rawValue, known.key.map { Data($0.rawRepresentation) }, known.acknowledged])
            }
        }
    }

    /// The outbox's changes, `o` joined to `c`, read from the outbox. `CROSS JOIN` fixes that
    /// order: with a plain `JOIN` and nothing ordered by the outbox, SQLite scanned the whole
    /// `change` table for the outbox's few rows, 35 ms at every sync of a replica that had
    /// pulled a million changes (MEASUREMENTS.md, forty-first session). `ReplicaQueryPlanTests`
    /// checks every statement that reads it.
    static let outboxChanges = "outbox o CROSS JOIN change c ON c.replica = o.replica AND c.counter = o.counter"

    /// Whether a relayed change waits in the outbox for its maker's key (`waitingRelays()`).
    static let relaysWaitingSQL = """
        SELECT EXISTS (SELECT 1 FROM \(outboxChanges) JOIN replica r ON r.num = c.replica WHERE NOT \(pushableCondition))
        """

    static let waitingRelaysSQL = """
        SELECT r.id, count(*), max(c.sig IS NULL)
        FROM \(outboxChanges) JOIN replica r ON r.num = c.replica
        WHERE NOT \(pushableCondition)
        GROUP BY r.id ORDER BY r.id
        """

    /// Outbox changes this replica may push (an SQL condition on `change c` joined to
    /// `replica r`): its own, and relayed ones that are signed and whose maker's key a server
    /// has registered. The others wait: the server would refuse them (`bad-signature`), since
    /// no one but their maker can vouch for them.
    static let pushableCondition = """
        (r.id = (SELECT replica_id FROM identity)
         OR (c.sig IS NOT NULL AND EXISTS (SELECT 1 FROM replica_key k WHERE k.replica = r.id AND k.acknowledged = 1)))
        """

    /// Changes relayed from other replicas (merged from their files) that wait in the outbox
    /// because their maker has not synced since signed changes came in: its key is not
    /// registered, so the server would not know whose they are. They go once the maker syncs
    /// itself (or leave the outbox when the server sends them back, pushed by their maker).
    public struct WaitingRelays: Sendable, Equatable {
        public var maker: ReplicaID
        public var count: Int
        /// The maker's changes are unsigned (made by a ClusterSync older than signed changes):
        /// only the maker, upgraded, can push them.
        public var unsigned: Bool

        public init(maker: ReplicaID, count: Int, unsigned: Bool) {
            self.maker = maker
            self.count = count
            self.unsigned = unsigned
        }
    }

    public func waitingRelays() throws -> [WaitingRelays] {
        try database.read { db in
            try Row.fetchAll(db, sql: Self.waitingRelaysSQL).compactMap { row in
                ReplicaID(row[0] as String).map { WaitingRelays(maker: $0, count: row[1], unsigned: row[2]) }
            }
        }
    }

    /// The replica file holds the signing key: it is kept readable and writable by its owner
    /// only (0600), with its WAL and shared-memory files, whatever the umask made them.
    static func protectFile(_ path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                  let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 else { continue }
            try? FileManager.default.setAttributes([.posixPermissions: mode & 0o700], ofItemAtPath: file)
        }
    }
}

extension Replica.WaitingRelays {
    /// What `status` and `sync` say about them.
    public var sentence: String {
        let changes = "\(count) change\(count == 1 ? "" : "s") by replica \(maker)"
        return unsigned
            ? "\(changes) wait for that replica to sync itself: they were made by an older ClusterSync, unsigned, and only it can push them"
            : "\(changes) wait for that replica to sync once: until it has, the server cannot tell whose they are"
    }
}
