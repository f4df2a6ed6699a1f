import ClusterSyncCore
import ClusterSyncStorage
import GRDB

/// The server file's schema. Migrations never change once released: add a new one instead.
enum SQLiteServerSchema {
    /// A store keeps SQLite's default page size (4 KiB), unlike a replica (`ReplicaSchema.pageSize`):
    /// with 16 KiB pages the store fill of 1,000-change pushes ran 5–8% faster, but a push of one
    /// change took 0.62 ms instead of 0.37, each commit writing and syncing every page it changed
    /// whole, and a server's single writer mostly commits small pushes (MEASUREMENTS.md,
    /// thirty-fifth session).
    static let pageSize: Int? = nil

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
        migrator.registerMigration("v2: identities scoped by tenant and cluster") { db in
            try db.execute(sql: """
                -- A change id is unique within its tenant and cluster, not across the server: one
                -- tenant's ids never make another's changes duplicates.
                CREATE TABLE log_v2 (
                    tenant TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    cluster TEXT NOT NULL,
                    practice TEXT,
                    replica TEXT NOT NULL,
                    counter INTEGER NOT NULL,
                    change_json TEXT NOT NULL,
                    PRIMARY KEY (tenant, seq),
                    UNIQUE (tenant, cluster, replica, counter)
                ) WITHOUT ROWID;
                INSERT INTO log_v2 (tenant, seq, cluster, practice, replica, counter, change_json)
                    SELECT tenant, seq, cluster, practice, replica, counter, change_json FROM log;
                DROP TABLE log;
                ALTER TABLE log_v2 RENAME TO log;
                CREATE INDEX log_by_cluster ON log(tenant, cluster, seq, practice);

                -- A record id is unique within its tenant and cluster.
                CREATE TABLE record_v2 (
                    num INTEGER PRIMARY KEY,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    practice TEXT,
                    parent TEXT,
                    UNIQUE (tenant, cluster, id)
                );
                INSERT INTO record_v2 (num, id, type, tenant, cluster, practice, parent)
                    SELECT num, id, type, tenant, cluster, practice, parent FROM record;
                DROP TABLE record;
                ALTER TABLE record_v2 RENAME TO record;
                CREATE INDEX record_by_parent ON record(parent) WHERE parent IS NOT NULL;
                CREATE INDEX record_by_scope ON record(tenant, cluster, type);

                -- Replica ids are interned per tenant and cluster. Each old number becomes one
                -- per tenant and cluster it was used in; new numbers start above the old ones,
                -- so renumbering the change rows never collides with a row not yet renumbered.
                CREATE TABLE replica_v2 (
                    num INTEGER PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    id TEXT NOT NULL,
                    UNIQUE (tenant, cluster, id)
                );
                INSERT INTO replica_v2 (num, tenant, cluster, id)
                    SELECT (SELECT coalesce(max(num), 0) FROM replica) + row_number() OVER (ORDER BY u.tenant, u.cluster, r.id),
                           u.tenant, u.cluster, r.id
                    FROM (SELECT c.replica AS num, rec.tenant, rec.cluster FROM change c JOIN record rec ON rec.num = c.record
                          UNION
                          SELECT o.replica, rec.tenant, rec.cluster FROM orphan_supersede o JOIN record rec ON rec.num = o.record) u
                    JOIN replica r ON r.num = u.num;
                UPDATE change SET replica = (
                    SELECT v.num FROM replica_v2 v JOIN replica r ON r.id = v.id JOIN record rec ON rec.num = change.record
                    WHERE r.num = change.replica AND v.tenant = rec.tenant AND v.cluster = rec.cluster);
                UPDATE orphan_supersede SET replica = (
                    SELECT v.num FROM replica_v2 v JOIN replica r ON r.id = v.id JOIN record rec ON rec.num = orphan_supersede.record
                    WHERE r.num = orphan_supersede.replica AND v.tenant = rec.tenant AND v.cluster = rec.cluster);
                DROP TABLE replica;
                ALTER TABLE replica_v2 RENAME TO replica;

                -- Which practice owns a replica id in a cluster: the first that pushed as that
                -- replica (its hello's replica). See ReplicaOwnership. Replicas that pushed
                -- before this migration are bound at their next push.
                CREATE TABLE replica_owner (
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    replica TEXT NOT NULL,
                    practice TEXT NOT NULL,
                    PRIMARY KEY (tenant, cluster, replica)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: health check") { db in
            try db.execute(sql: """
                -- Written by `clustersyncd health` and at server start: proves the store can
                -- still be written (and fsynced), not only read. checked_at in ms since 1970.
                CREATE TABLE health (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    checked_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4: credential lifecycle and session log") { db in
            try db.execute(sql: """
                -- Credentials get a kind, an expiry, a last use (written once per session) and a
                -- revocation time; certificates issued by `credential issue --certificate` get a
                -- row too (secret_hash empty), found by their serial (lowercase hex). Times in ms.
                ALTER TABLE credential ADD COLUMN kind TEXT NOT NULL DEFAULT 'token';
                ALTER TABLE credential ADD COLUMN serial TEXT;
                ALTER TABLE credential ADD COLUMN expires_at INTEGER;
                ALTER TABLE credential ADD COLUMN last_used_at INTEGER;
                ALTER TABLE credential ADD COLUMN revoked_at INTEGER;
                UPDATE credential SET revoked_at = created_at WHERE revoked <> 0;
                CREATE UNIQUE INDEX credential_by_serial ON credential(tenant, serial) WHERE serial IS NOT NULL;
                CREATE INDEX credential_by_tenant ON credential(tenant, created_at);
                -- Serials of certificates this server did not issue (a Health Board's own CA),
                -- revoked with `credential revoke --serial HEX --tenant T`.
                CREATE TABLE revoked_serial (
                    tenant TEXT NOT NULL,
                    serial TEXT NOT NULL,
                    revoked_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, serial)
                ) WITHOUT ROWID;
                -- The session log for auditors: connections and refusals, never secrets or record
                -- contents. Entries older than the retention (settings: auditRetentionDays) are
                -- dropped as new ones are written. tenant is NULL for an unknown token.
                CREATE TABLE audit (
                    num INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    event TEXT NOT NULL,
                    tenant TEXT,
                    cluster TEXT,
                    practice TEXT,
                    credential TEXT,
                    peer TEXT,
                    code TEXT,
                    message TEXT
                );
                CREATE INDEX audit_by_tenant ON audit(tenant, at);
                CREATE INDEX audit_by_time ON audit(at);
                """)
        }
        migrator.registerMigration("v5 (roles): regions and credential roles") { db in
            try db.execute(sql: """
                -- A tenant's clusters are grouped into regions (a county): what a PCPG covers.
                -- A cluster is in at most one region (NULL: none yet).
                CREATE TABLE region (
                    tenant TEXT NOT NULL REFERENCES tenant(name),
                    name TEXT NOT NULL,
                    PRIMARY KEY (tenant, name)
                ) WITHOUT ROWID;
                ALTER TABLE cluster ADD COLUMN region TEXT;
                CREATE INDEX cluster_by_region ON cluster(tenant, region) WHERE region IS NOT NULL;

                -- Credentials get a role (CredentialRole: practice, cluster-lead, pcpg,
                -- health-board). A pcpg credential is for one region of a tenant and a
                -- health-board one for the tenant: neither has a cluster or a practice, so the
                -- table is rebuilt with those columns nullable (SQLite cannot drop NOT NULL).
                CREATE TABLE credential_v5 (
                    id TEXT NOT NULL PRIMARY KEY,
                    tenant TEXT NOT NULL REFERENCES tenant(name),
                    cluster TEXT,
                    practice TEXT,
                    role TEXT NOT NULL DEFAULT 'practice',
                    region TEXT,
                    label TEXT,
                    secret_hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked INTEGER NOT NULL DEFAULT 0,
                    kind TEXT NOT NULL DEFAULT 'token',
                    serial TEXT,
                    expires_at INTEGER,
                    last_used_at INTEGER,
                    revoked_at INTEGER,
                    FOREIGN KEY (tenant, cluster, practice) REFERENCES practice(tenant, cluster, name),
                    FOREIGN KEY (tenant, region) REFERENCES region(tenant, name),
                    CHECK ((role IN ('practice', 'cluster-lead') AND cluster IS NOT NULL AND practice IS NOT NULL AND region IS NULL)
                        OR (role = 'pcpg' AND cluster IS NULL AND practice IS NULL AND region IS NOT NULL)
                        OR (role = 'health-board' AND cluster IS NULL AND practice IS NULL AND region IS NULL))
                ) WITHOUT ROWID;
                INSERT INTO credential_v5 (id, tenant, cluster, practice, role, region, label, secret_hash, created_at, revoked,
                                           kind, serial, expires_at, last_used_at, revoked_at)
                    SELECT id, tenant, cluster, practice, 'practice', NULL, label, secret_hash, created_at, revoked,
                           kind, serial, expires_at, last_used_at, revoked_at FROM credential;
                DROP TABLE credential;
                ALTER TABLE credential_v5 RENAME TO credential;
                CREATE UNIQUE INDEX credential_by_serial ON credential(tenant, serial) WHERE serial IS NOT NULL;
                CREATE INDEX credential_by_tenant ON credential(tenant, created_at);
                """)
        }
        migrator.registerMigration("v5 (ledger): tamper-evident log and redaction") { db in
            try db.execute(sql: """
                -- One entry per accepted change, chained by hash in each tenant's sequence
                -- (LedgerChain in the core; Protocol/PROTOCOL.md §15). content_hash is SHA-256 of
                -- salt and the change's canonical text as accepted; entry_hash commits to the
                -- tenant, seq, content_hash and the previous entry's hash. salt is NULL once a
                -- redaction erased the change's value: the hash stays, the value cannot be guessed.
                CREATE TABLE ledger (
                    tenant TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    salt BLOB,
                    content_hash BLOB NOT NULL,
                    entry_hash BLOB NOT NULL,
                    PRIMARY KEY (tenant, seq)
                ) WITHOUT ROWID;
                """)
            try MaterialisedStateSchema.createRedactionTable(db)
            // Changes stored before the chain existed are chained now, in sequence order: the
            // chain then vouches for them from this migration on.
            let tenants = try String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM log ORDER BY tenant")
            let insert = try db.makeStatement(sql: "INSERT INTO ledger (tenant, seq, salt, content_hash, entry_hash) VALUES (?, ?, ?, ?, ?)")
            for tenant in tenants {
                var previous = LedgerChain.genesis
                let rows = try Row.fetchCursor(db, sql: "SELECT seq, change_json FROM log WHERE tenant = ? ORDER BY seq", arguments: [tenant])
                var entries: [LedgerEntry] = []
                while let row = try rows.next() {
                    let entry = LedgerChain.entry(tenant: tenant, seq: row[0], canonicalText: row[1], previous: previous)
                    previous = entry.entryHash
                    entries.append(entry)
                }
                for entry in entries {
                    try insert.execute(arguments: [tenant, entry.seq, entry.salt, entry.contentHash, entry.entryHash])
                }
            }
        }
        migrator.registerMigration("v6 (pcpg): kept roll-up contributions") { db in
            try db.execute(sql: """
                -- What each cluster-shared record adds to its cluster's roll-up (the JSON of
                -- RollupContribution), upserted in the transaction of every push that touches the
                -- record, so roll-ups are aggregated from these rows and never from the log.
                -- A record that contributes nothing (deleted, an uncounted type) has no row;
                -- practice-private records never have one.
                CREATE TABLE rollup_contribution (
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    record TEXT NOT NULL,
                    contribution TEXT NOT NULL,
                    PRIMARY KEY (tenant, cluster, record)
                ) WITHOUT ROWID;
                -- The RollupContribution format the rows were computed with: when the server
                -- starts with another (or none, on a store that predates this table), it
                -- recomputes every row from the materialised records.
                CREATE TABLE rollup_format (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    format INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v7 (signing): replica keys and change signatures") { db in
            try db.execute(sql: """
                -- Each replica's Ed25519 public key (32 bytes), registered to the practice and
                -- person of the credential whose session first presented it (PROTOCOL.md §6.2);
                -- author is what that replica's changes are stamped with. Never changed: a hello
                -- with another key for the replica id is refused.
                CREATE TABLE replica_key (
                    tenant TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    replica TEXT NOT NULL,
                    public_key BLOB NOT NULL,
                    practice TEXT NOT NULL,
                    person TEXT NOT NULL,
                    author TEXT NOT NULL,
                    registered_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, cluster, replica)
                ) WITHOUT ROWID;
                """)
            // The materialised changes keep their signature, as a replica's do.
            try MaterialisedStateSchema.addSignatures(db)
        }
        migrator.registerMigration("v8 (snapshot): log compaction") { db in
            try db.execute(sql: """
                -- Each tenant's last compaction (PROTOCOL.md §7.2, §15): the texts of superseded
                -- changes accepted at or before through_seq are gone from the log (change_json
                -- is '' there, the row kept so a resent change is still a duplicate) and from the
                -- materialised state; pulls from before through_seq are cursor-expired.
                -- checkpoint: the chain's entry hash at through_seq when it happened. Times in ms.
                CREATE TABLE compaction (
                    tenant TEXT NOT NULL PRIMARY KEY REFERENCES tenant(name),
                    through_seq INTEGER NOT NULL,
                    checkpoint BLOB NOT NULL,
                    compacted_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                -- Where each tenant's stream ended at a given time, noted at every compaction run
                -- (hourly): how a horizon in days becomes a sequence number, without a clock
                -- column on every log row.
                CREATE TABLE compaction_mark (
                    tenant TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (tenant, at)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v9 (restore): store identity") { db in
            try db.execute(sql: """
                -- This store's identity (welcome.store, PROTOCOL.md §5.2): 128 random bits, made
                -- here and again by `clustersyncd restore`, so replicas tell a restored stream
                -- from the one their cursor belongs to.
                CREATE TABLE store_identity (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    id TEXT NOT NULL
                );
                INSERT INTO store_identity (singleton, id) VALUES (1, lower(hex(randomblob(16))));
                """)
        }
        migrator.registerMigration("v10 (speed): changes clustered by id") { db in
            try MaterialisedStateSchema.clusterChangesByID(db)
        }
        migrator.registerMigration("v11 (oversight): escalations and sources by value") { db in
            try db.execute(sql: """
                -- The live escalations and action sources by value, for a read-only session's
                -- pull (ServerOversight.visible): the risks escalated to it and the actions
                -- naming them are found here, without reading each record of each cluster.
                -- IN rather than =, as change_kept: see that index.
                CREATE INDEX change_by_value ON change(field, value, record)
                    WHERE live = 1 AND field IN ('escalation', 'source');
                """)
        }
        migrator.registerMigration("v12 (oversight): when a cluster last changed region") { db in
            try db.execute(sql: """
                -- The tenant's stream end when the administrator last moved the cluster to
                -- another region (or out of one); NULL if never. A PCPG's pull sends the
                -- escalated records of a cluster moved into its region since its cursor
                -- (ServerOversight.sendsChanges): the move stores no change to tell it.
                ALTER TABLE cluster ADD COLUMN moved_after INTEGER;
                """)
        }
        migrator.registerMigration("v13 (isolation): records by id within a tenant") { db in
            try db.execute(sql: """
                -- A record new to a cluster is refused when another cluster of the tenant has
                -- its id (ChangeAdmission.idTakenInAnotherCluster): looked up here.
                CREATE INDEX record_by_id ON record(tenant, id);
                """)
        }
        migrator.registerMigration("v14 (roll-up): practices' kind") { db in
            try db.execute(sql: """
                -- PracticeKind: only a GP practice owes the GP Collaborative's attendance and a
                -- contribution to the cluster plan. Every practice registered before was taken
                -- for one, so that is what they stay until `practice set-kind` says otherwise.
                ALTER TABLE practice ADD COLUMN kind TEXT NOT NULL DEFAULT 'gp';
                """)
        }
        migrator.registerMigration("v15 (keys): retired replicas") { db in
            try db.execute(sql: """
                -- When the administrator retired the replica (ms since 1970; NULL: in use): its
                -- hello is refused, and so is any change in its name the log does not hold
                -- (ReplicaKeys.admitNew), whoever pushes it.
                ALTER TABLE replica_key ADD COLUMN retired_at INTEGER;
                """)
        }
        return migrator
    }
}
