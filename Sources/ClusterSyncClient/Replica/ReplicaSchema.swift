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
        return migrator
    }
}
