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
        migrator.registerMigration("v6 (roles): changes held back as lead-only") { db in
            try db.execute(sql: """
                -- Changes the server refused as lead-only (made while this replica's credential was
                -- a cluster lead's, or before it knew another practice's value was in a conflict):
                -- out of the outbox so the rest syncs, kept here with why, and put back in the
                -- outbox when the replica next syncs with a cluster-lead credential.
                CREATE TABLE held_back (
                    replica INTEGER NOT NULL,
                    counter INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    held_at INTEGER NOT NULL,
                    PRIMARY KEY (replica, counter)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}
