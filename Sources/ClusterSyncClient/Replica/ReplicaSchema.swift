import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// The replica file's schema. Migrations never change once released: add a new one instead.
enum ReplicaSchema {
    /// The page size of a new replica file: 32 KiB, where SQLite's default is 4. A replica's
    /// work that takes time is in batches (a pull's pages, an import, a batch of edits), each one
    /// transaction of changes with their index entries, committed without an fsync: with 32 KiB
    /// pages it applied a pull's changes about a third faster and batched local edits about a
    /// tenth; 64 KiB gained nothing more. A transaction of one edit costs more (0.36 ms instead of
    /// 0.24: every page it changes is written whole; 0.27 once a transaction no longer made its
    /// signing key again nor prepared its first reads), which a person editing does not notice
    /// (MEASUREMENTS.md, thirty-fifth session).
    static let pageSize = 32_768

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: identity, materialised state, outbox") { db in
            try db.execute(sql: """
                CREATE TABLE identity (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    replica_id TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    practice TEXT NOT NULL,
                    display_name TEXT NOT NULL,
                    counter INTEGER NOT NULL,
                    hlc INTEGER NOT NULL
                );
                -- Changes a server has not acknowledged yet: local edits and those merged from peers.
                CREATE TABLE outbox (
                    replica INTEGER NOT NULL,
                    counter INTEGER NOT NULL,
                    PRIMARY KEY (replica, counter)
                ) WITHOUT ROWID;
                """)
            try MaterialisedStateSchema.createTables(db)
        }
        migrator.registerMigration("v2: remote server and sync position") { db in
            try db.execute(sql: """
                -- The server this replica syncs with. Credentials are paths to files the practice
                -- keeps; no secret is stored here.
                CREATE TABLE remote (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    host TEXT NOT NULL,
                    port INTEGER NOT NULL,
                    ca_file TEXT NOT NULL,
                    certificate_file TEXT,
                    key_file TEXT,
                    token_file TEXT,
                    cursor TEXT,
                    last_sync_at INTEGER
                );
                """)
        }
        migrator.registerMigration("v3: set-aside changes and the server's announced limits") { db in
            try db.execute(sql: """
                -- Changes a server sent that this replica cannot admit (Protocol/changes.md §8):
                -- kept as received, with why, so a sync carries on past them and nothing is lost.
                -- change_id and record are NULL when the change could not be read that far.
                -- They are tried again at the end of every sync (a clock caught up, a newer
                -- version of ClusterSync) and leave this table once admitted.
                CREATE TABLE set_aside (
                    change_json TEXT NOT NULL UNIQUE,
                    change_id TEXT,
                    record TEXT,
                    code TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    set_aside_at INTEGER NOT NULL
                );
                -- welcome.limits.maxClockSkewMillis of the last server this replica synced with:
                -- the clock limit of the admission rule. NULL until the first sync.
                ALTER TABLE remote ADD COLUMN max_clock_skew_millis INTEGER;
                """)
        }
        migrator.registerMigration("v4 (credentials): the credential expiry the server announced") { db in
            try db.execute(sql: """
                -- welcome.credentialExpiresAt of the last sync (ms since 1970): `status` warns a
                -- practice 30 days before. NULL: no expiry announced.
                ALTER TABLE remote ADD COLUMN credential_expires_at INTEGER;
                """)
        }
        migrator.registerMigration("v5: changes the server refused") { db in
            try db.execute(sql: """
                -- Changes of the outbox the server refused for what they are (a relayed change the
                -- server cannot take from this practice, a scope or content it refuses): out of
                -- the outbox so the rest of it syncs, kept here with the refusal for `status`.
                -- The change itself stays in `change`; a relayed one reaches the server from the
                -- replica that made it.
                CREATE TABLE held_back (
                    replica INTEGER NOT NULL,
                    counter INTEGER NOT NULL,
                    code TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    held_back_at INTEGER NOT NULL,
                    PRIMARY KEY (replica, counter)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v5 (roles): the role the server granted at the last welcome") { db in
            try db.execute(sql: """
                -- welcome.role and welcome.region of the last sync (CredentialRole spellings).
                -- No row: the replica has not been welcomed yet, and acts as a practice's.
                CREATE TABLE granted_role (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    role TEXT NOT NULL,
                    region TEXT,
                    granted_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5 (ledger): redactions") { db in
            // Which change values redactions erased, so a copy arriving later (a stale merge)
            // is erased before it is written (Protocol/changes.md §10).
            try MaterialisedStateSchema.createRedactionTable(db)
        }
        migrator.registerMigration("v6 (pcpg): a read-only replica's role and roll-up") { db in
            try db.execute(sql: """
                -- Present only in a replica made with `clustersync init --role pcpg|health-board`:
                -- the read-only role it was made for, a pcpg's region, and the server's roll-up
                -- from the last page it pulled (RegionRollup JSON; NULL before the first sync).
                CREATE TABLE oversight (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    role TEXT NOT NULL,
                    region TEXT,
                    rollup TEXT,
                    received_at INTEGER
                );
                """)
        }
        migrator.registerMigration("v7 (signing): the replica's signing key and change signatures") { db in
            try db.execute(sql: """
                -- This replica's Ed25519 private key (the 32-byte seed): it signs every change made
                -- here (Protocol/changes.md §2.1) and never leaves this file. The file is kept
                -- readable by its owner only (Replica.protectFile).
                CREATE TABLE signing_key (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    private_key BLOB NOT NULL
                );
                -- Replicas whose changes this one holds: their public key when known (this
                -- replica's own, and those learned from a merged replica's file), and whether a
                -- server has registered their key (acknowledged = 1: a server acked this
                -- replica's push, or sent a signed change of theirs, or a merged file said so).
                -- A relayed change is pushed only once its maker's key is acknowledged.
                CREATE TABLE replica_key (
                    replica TEXT NOT NULL PRIMARY KEY,
                    public_key BLOB,
                    acknowledged INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                """)
            try MaterialisedStateSchema.addSignatures(db)
            // A file made before signed changes gets its key now, and signs its own changes that
            // no server has acknowledged yet, so they can still be pushed.
            let key = ReplicaSigningKey()
            try db.execute(sql: "INSERT INTO signing_key (singleton, private_key) VALUES (1, ?)", arguments: [Data(key.rawRepresentation)])
            guard let me = try String.fetchOne(db, sql: "SELECT replica_id FROM identity") else { return }
            try db.execute(sql: "INSERT INTO replica_key (replica, public_key) VALUES (?, ?)",
                           arguments: [me, Data(key.publicKey.rawRepresentation)])
            let own = try ChangeReader.changes(
                db, from: "outbox o JOIN change c ON c.replica = o.replica AND c.counter = o.counter", where: "r.id = ?", arguments: [me])
            let sign = try db.makeStatement(sql: "UPDATE change SET sig = ? WHERE replica = (SELECT num FROM replica WHERE id = ?) AND counter = ?")
            for change in own {
                try sign.execute(arguments: [ChangeSignature.signed(change, with: key).sig, me, change.id.counter])
            }
        }
        migrator.registerMigration("v8 (snapshot): bootstrapped from a snapshot") { db in
            try db.execute(sql: """
                -- The stream position (a cursor) of the last snapshot this replica's state was
                -- replaced with (PROTOCOL.md §5.7); NULL if it replayed the history. Changes
                -- superseded before it are on the server only: `history` fetches them.
                ALTER TABLE remote ADD COLUMN snapshot_cursor TEXT;
                """)
        }
        migrator.registerMigration("v9 (restore): remote store identity") { db in
            try db.execute(sql: """
                -- The identity of the server store the cursor belongs to (`welcome.store`,
                -- PROTOCOL.md §5.2); NULL until a server names one. Kept when the address
                -- changes: a store is the same whatever it is called.
                ALTER TABLE remote ADD COLUMN store TEXT;
                """)
        }
        migrator.registerMigration("v10 (snapapply): supersessions read from the stored changes") { db in
            try db.execute(sql: """
                -- 1 once a snapshot replaced the state (PROTOCOL.md §5.7): its changes name writes
                -- this replica has not got, and no orphan_supersede row is kept for them; a write
                -- arriving later is dead if a stored change of its record and field names it
                -- (ChangeWriter.Supersessions.storedChanges). Stays 1.
                ALTER TABLE identity ADD COLUMN supersessions_in_changes INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v11 (speed): changes clustered by id") { db in
            try MaterialisedStateSchema.clusterChangesByID(db)
        }
        migrator.registerMigration("v12 (ledger): the server's chain head") { db in
            try db.execute(sql: """
                -- The head of the tenant's tamper-evident chain (`welcome.head`, seq:hash) the
                -- server gave at the last sync that named one, and when (ms since 1970): a copy
                -- held outside the server, for `clustersyncd verify --expect-head`.
                ALTER TABLE remote ADD COLUMN chain_head TEXT;
                ALTER TABLE remote ADD COLUMN chain_head_at INTEGER;
                """)
        }
        migrator.registerMigration("v13 (partial): a snapshot part-way") { db in
            try db.execute(sql: """
                -- 1 from a snapshot's first page, which replaced the state, until a pull's last
                -- page: records not come yet look deleted, so edits wait (LocalEditSession).
                ALTER TABLE remote ADD COLUMN state_partial INTEGER NOT NULL DEFAULT 0;
                -- A file cut off part-way before this version: its cursor is still the
                -- snapshot's (SnapshotCursor.isSnapshotCursor: s1:<end>/<record>/...).
                UPDATE remote SET state_partial = 1 WHERE substr(cursor, 1, 3) = 's1:' AND instr(cursor, '/') > 0;
                """)
        }
        return migrator
    }
}
