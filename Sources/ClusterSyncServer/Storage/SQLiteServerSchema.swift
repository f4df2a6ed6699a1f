import ClusterSyncStorage
import GRDB

/// The server file's schema. Migrations never change once released: add a new one instead.
enum SQLiteServerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                -- The administrative hierarchy: tenant (Health Board), cluster, practice.
                CREATE TABLE tenant (name TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID;
                CREATE TABLE cluster (
                    tenant TEXT NOT NULL REFERENCES tenant(name),
                    name TEXT NOT NULL,
                    PRIMARY KEY (tenant, name)
                ) WITHOUT ROWID;
                CREATE TABLE practice (
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (tenant, cluster, name),
                    FOREIGN KEY (tenant, cluster) REFERENCES cluster(tenant, name)
                ) WITHOUT ROWID;
                -- Bearer tokens `cst_<id>_<secret>`: only SHA-256 of the secret's 32 bytes is kept.
                -- created_at is in milliseconds since 1970.
                CREATE TABLE credential (
                    id TEXT NOT NULL PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    practice TEXT NOT NULL,
                    label TEXT,
                    secret_hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked INTEGER NOT NULL DEFAULT 0,
                    FOREIGN KEY (tenant, cluster, practice) REFERENCES practice(tenant, cluster, name)
                ) WITHOUT ROWID;
                -- The last sequence number given to a change of each tenant.
                CREATE TABLE tenant_sequence (
                    tenant TEXT NOT NULL PRIMARY KEY REFERENCES tenant(name),
                    last INTEGER NOT NULL
                ) WITHOUT ROWID;
                -- Every change accepted, in the order it was accepted, as it is sent to clients:
                -- change_json is the change's canonical JSON with the author the server stamped.
                -- practice is NULL for a cluster-shared record. (replica, counter) is the
                -- change's id, unique so that a resent change is recognised.
                CREATE TABLE log (
                    tenant TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    cluster TEXT NOT NULL,
                    practice TEXT,
                    replica TEXT NOT NULL,
                    counter INTEGER NOT NULL,
                    change_json TEXT NOT NULL,
                    PRIMARY KEY (tenant, seq),
                    UNIQUE (replica, counter)
                ) WITHOUT ROWID;
                -- A pull walks one cluster's changes after a cursor; practice is in the key so
                -- that other practices' private changes are skipped without reading the row.
                CREATE INDEX log_by_cluster ON log(tenant, cluster, seq, practice);
                """)
            // The materialised records, for roll-ups and conflict views.
            try MaterialisedStateSchema.createTables(db)
        }
        return migrator
    }
}
