import ClusterSyncStorage
import GRDB

/// The replica file's schema. Migrations never change once released: add a new one instead.
enum ReplicaSchema {
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
        migrator.registerMigration("v5 (ledger): redactions") { db in
            // Which change values redactions erased, so a copy arriving later (a stale merge)
            // is erased before it is written (Protocol/changes.md §10).
            try MaterialisedStateSchema.createRedactionTable(db)
        }
        return migrator
    }
}
