import ClusterSyncCore
import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL store's schema, in versioned SQL migrations recorded in `schema_migrations`.
/// A migration never changes once released: add a new one. Several nodes may start at once, so
/// migrating takes a transaction-scoped advisory lock first; the second node waits, then finds
/// the migrations applied.
enum PostgresServerSchema {
    /// (version, SQL), applied in order, each in its own transaction.
    static let migrations: [(version: String, sql: String)] = [
        ("v1: hierarchy, credentials, log, ledger, derived record state", """
            -- The administrative hierarchy. last_seq is the last sequence number given to a change
            -- of the tenant: a push locks this row (SELECT ... FOR UPDATE) for its whole
            -- transaction, so the tenant's pushes commit one after another, in sequence order.
            CREATE TABLE tenant (
                name TEXT PRIMARY KEY,
                last_seq BIGINT NOT NULL DEFAULT 0
            );
            CREATE TABLE region (
                tenant TEXT NOT NULL REFERENCES tenant(name),
                name TEXT NOT NULL,
                PRIMARY KEY (tenant, name)
            );
            CREATE TABLE cluster (
                tenant TEXT NOT NULL REFERENCES tenant(name),
                name TEXT NOT NULL,
                region TEXT,
                PRIMARY KEY (tenant, name),
                FOREIGN KEY (tenant, region) REFERENCES region(tenant, name)
            );
            CREATE INDEX cluster_by_region ON cluster(tenant, region) WHERE region IS NOT NULL;
            CREATE TABLE practice (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                name TEXT NOT NULL,
                PRIMARY KEY (tenant, cluster, name),
                FOREIGN KEY (tenant, cluster) REFERENCES cluster(tenant, name)
            );
            -- Tokens keep only SHA-256 of their secret; certificates (kind 'certificate') only
            -- their serial (lowercase hex). Times in ms since 1970.
            CREATE TABLE credential (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL REFERENCES tenant(name),
                cluster TEXT,
                practice TEXT,
                role TEXT NOT NULL,
                region TEXT,
                label TEXT,
                kind TEXT NOT NULL,
                serial TEXT,
                secret_hash BYTEA,
                created_at BIGINT NOT NULL,
                expires_at BIGINT,
                last_used_at BIGINT,
                revoked_at BIGINT,
                FOREIGN KEY (tenant, cluster, practice) REFERENCES practice(tenant, cluster, name),
                FOREIGN KEY (tenant, region) REFERENCES region(tenant, name),
                CHECK ((role IN ('practice', 'cluster-lead') AND cluster IS NOT NULL AND practice IS NOT NULL AND region IS NULL)
                    OR (role = 'pcpg' AND cluster IS NULL AND practice IS NULL AND region IS NOT NULL)
                    OR (role = 'health-board' AND cluster IS NULL AND practice IS NULL AND region IS NULL))
            );
            CREATE UNIQUE INDEX credential_by_serial ON credential(tenant, serial) WHERE serial IS NOT NULL;
            CREATE INDEX credential_by_tenant ON credential(tenant, created_at);
            CREATE TABLE revoked_serial (
                tenant TEXT NOT NULL,
                serial TEXT NOT NULL,
                revoked_at BIGINT NOT NULL,
                PRIMARY KEY (tenant, serial)
            );
            -- The session log: connections and refusals, never secrets or record contents.
            CREATE TABLE audit (
                num BIGSERIAL PRIMARY KEY,
                at BIGINT NOT NULL,
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

            -- Every change accepted, in the tenant's sequence, as sent to clients (canonical JSON
            -- with the author the server stamped). practice is NULL for a cluster-shared record.
            -- (tenant, cluster, replica, counter) is the change's id, unique so that a resent
            -- change is recognised as a duplicate.
            CREATE TABLE log (
                tenant TEXT NOT NULL,
                seq BIGINT NOT NULL,
                cluster TEXT NOT NULL,
                practice TEXT,
                replica TEXT NOT NULL,
                counter BIGINT NOT NULL,
                record TEXT NOT NULL,
                change_json TEXT NOT NULL,
                PRIMARY KEY (tenant, seq),
                UNIQUE (tenant, cluster, replica, counter)
            );
            -- A practice's pull walks its cluster's changes after its cursor, in sequence order,
            -- and reads practice from the index to skip other practices' private changes.
            CREATE INDEX log_by_cluster ON log(tenant, cluster, seq) INCLUDE (practice);
            -- A record's history, to recompute what the server keeps about it.
            CREATE INDEX log_by_record ON log(tenant, cluster, record, seq);
            -- Which practice owns a replica id in a cluster (ReplicaOwnership).
            CREATE TABLE replica_owner (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                replica TEXT NOT NULL,
                practice TEXT NOT NULL,
                PRIMARY KEY (tenant, cluster, replica)
            );
            -- The tamper-evident chain (LedgerChain; PROTOCOL.md §15), one entry per change.
            CREATE TABLE ledger (
                tenant TEXT NOT NULL,
                seq BIGINT NOT NULL,
                salt BYTEA,
                content_hash BYTEA NOT NULL,
                entry_hash BYTEA NOT NULL,
                PRIMARY KEY (tenant, seq)
            );
            -- What the server keeps about each record, recomputed from the record's changes by
            -- the push that touches it: the scope it was created in, and for cluster-shared
            -- records whether it has open conflicts, a risk's escalation and an action's source
            -- (what oversight sessions are given).
            CREATE TABLE record (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                id TEXT NOT NULL,
                type TEXT NOT NULL,
                practice TEXT,
                conflicted BOOLEAN NOT NULL DEFAULT FALSE,
                escalation TEXT,
                source TEXT,
                PRIMARY KEY (tenant, cluster, id)
            );
            CREATE INDEX record_conflicted ON record(tenant, cluster) WHERE conflicted;
            CREATE INDEX record_escalated ON record(tenant, cluster) WHERE escalation IS NOT NULL;
            CREATE INDEX record_by_source ON record(tenant, cluster, source) WHERE source IS NOT NULL;
            -- Redactions (Protocol/changes.md §10): the first redaction of each change.
            CREATE TABLE redaction (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                change TEXT NOT NULL,
                record TEXT NOT NULL,
                field TEXT NOT NULL,
                by TEXT NOT NULL,
                PRIMARY KEY (tenant, cluster, change)
            );
            -- What each cluster-shared record adds to its cluster's roll-up (RollupContribution's
            -- JSON), kept by the push that touches the record.
            CREATE TABLE rollup_contribution (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                record TEXT NOT NULL,
                contribution TEXT NOT NULL,
                PRIMARY KEY (tenant, cluster, record)
            );
            -- Written by the health check: proves the database takes writes, not only reads.
            CREATE TABLE health (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                checked_at BIGINT NOT NULL
            );
            """),
        ("v2 (signing): replica keys", """
            -- Each replica's Ed25519 public key (32 bytes), registered to the practice and person
            -- of the credential whose session first presented it (PROTOCOL.md §6.2); author is
            -- what that replica's changes are stamped with. Never changed.
            CREATE TABLE replica_key (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                replica TEXT NOT NULL,
                public_key BYTEA NOT NULL,
                practice TEXT NOT NULL,
                person TEXT NOT NULL,
                author TEXT NOT NULL,
                registered_at BIGINT NOT NULL,
                PRIMARY KEY (tenant, cluster, replica)
            );
            """),
        ("v3 (materialised state): kept field writes, compaction", """
            -- The list an item belongs to, once its "list" write has arrived (as the replica's
            -- record.parent).
            ALTER TABLE record ADD COLUMN parent TEXT;
            -- Replica ids numbered in order of first sight in their cluster, as the SQLite
            -- store numbers them: snapshot pages are ordered (and their cursors name rows) by
            -- record, field, replica number and counter.
            CREATE TABLE replica_number (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                replica TEXT NOT NULL,
                num BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                PRIMARY KEY (tenant, cluster, replica)
            );
            -- The materialised state: of every change applied, the rows SnapshotReader.kept
            -- keeps (live writes, list positions, redactions), as the SQLite store's change
            -- table holds them, written by the push's ChangeWriter (in its transaction). A
            -- snapshot page is a range of the primary key; what is not here is superseded, and
            -- compaction may drop its text from the log. COLLATE "C": the byte order SQLite
            -- sorts in, whatever the database's locale.
            CREATE TABLE field_write (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                record TEXT COLLATE "C" NOT NULL,
                field TEXT COLLATE "C" NOT NULL,
                replica BIGINT NOT NULL,
                counter BIGINT NOT NULL,
                replica_id TEXT NOT NULL,
                practice TEXT,
                hlc BIGINT NOT NULL,
                value TEXT,
                sup TEXT,
                seen TEXT,
                author TEXT,
                sig TEXT,
                live BOOLEAN NOT NULL,
                PRIMARY KEY (tenant, cluster, record, field, replica, counter)
            );
            -- Compaction asks of each old log row whether its change is still kept.
            CREATE UNIQUE INDEX field_write_by_change ON field_write(tenant, cluster, replica_id, counter);
            -- Writes superseded before they arrived, so they arrive dead (ChangeWriter).
            CREATE TABLE orphan_supersede (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                replica BIGINT NOT NULL,
                counter BIGINT NOT NULL,
                record TEXT NOT NULL,
                field TEXT NOT NULL,
                PRIMARY KEY (tenant, cluster, replica, counter)
            );
            -- Each tenant's last compaction (PROTOCOL.md §7.2, §15), as in the SQLite store.
            CREATE TABLE compaction (
                tenant TEXT PRIMARY KEY REFERENCES tenant(name),
                through_seq BIGINT NOT NULL,
                checkpoint BYTEA NOT NULL,
                compacted_at BIGINT NOT NULL
            );
            -- Where each tenant's stream ended at a given time, noted at every compaction run.
            CREATE TABLE compaction_mark (
                tenant TEXT NOT NULL,
                at BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (tenant, at)
            );
            """),
        ("v4 (restore): store identity", """
            -- This store's identity (welcome.store, PROTOCOL.md §5.2): 128 random bits, made here
            -- and again by Deploy/postgres-restore.sh, so replicas tell a restored stream from
            -- the one their cursor belongs to.
            CREATE TABLE store_identity (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                id TEXT NOT NULL
            );
            INSERT INTO store_identity (singleton, id) VALUES (1, replace(gen_random_uuid()::text, '-', ''));
            """),
        ("v5 (oversight): when a cluster last changed region", """
            -- The tenant's stream end when the administrator last moved the cluster to another
            -- region (or out of one); NULL if never. A PCPG's pull sends the escalated records of
            -- a cluster moved into its region since its cursor (ServerOversight.sendsChanges).
            ALTER TABLE cluster ADD COLUMN moved_after BIGINT;
            """),
        ("v6 (isolation): records by id within a tenant", """
            -- A record new to a cluster is refused when another cluster of the tenant has its id
            -- (ChangeAdmission.idTakenInAnotherCluster): looked up here.
            CREATE INDEX record_by_id ON record(tenant, id);
            """),
        ("v7 (governance): meeting contributions under the attendance rules of 2026-12-05", """
            -- A senior administrator alone counts for CND014W only when agreed in advance: each
            -- meeting's kept contribution (who it counted for) is made again by the backfill.
            COMMENT ON TABLE rollup_contribution IS 'one roll-up contribution per cluster-shared record';
            """),
        ("v8 (bounds): actions naming a source by any live write", """
            -- FieldGrowth counts the actions naming a record as their source by every live write
            -- of their source (one in conflict names both), as SQLite and the replica count them.
            CREATE INDEX field_write_by_source ON field_write(tenant, cluster, value) WHERE field = 'source' AND live;
            """),
        ("v9 (roll-up): risks by category, decisions' sums", """
            -- Risks' and decisions' kept contributions now carry a risk's category and a
            -- decision's financial implications and amount: made again by the backfill.
            COMMENT ON TABLE rollup_contribution IS 'one roll-up contribution per cluster-shared record';
            """),
        ("v10 (roll-up): practices' contributions to the plan", """
            -- A practice's contribution to the cluster plan now contributes to the roll-up
            -- (CND015W): made by the backfill for those stored before.
            COMMENT ON TABLE rollup_contribution IS 'one roll-up contribution per cluster-shared record';
            """),
        ("v11 (roll-up): practices' kind", """
            -- PracticeKind: only a GP practice owes the GP Collaborative's attendance and a
            -- contribution to the cluster plan. Every practice registered before was taken for
            -- one, so that is what they stay until `practice set-kind` says otherwise.
            ALTER TABLE practice ADD COLUMN kind TEXT NOT NULL DEFAULT 'gp';
            """),
        ("v12 (roll-up): meetings of every body", """
            -- A meeting of a body other than the GP Collaborative now contributes to the roll-up
            -- (its meetings by body): made by the backfill for those stored before.
            COMMENT ON TABLE rollup_contribution IS 'one roll-up contribution per cluster-shared record';
            """),
        ("v13 (oversight): cluster plans and their priorities", """
            -- A read-only session is listed each cluster plan past draft, its priorities list
            -- and that list's items (OversightReach): a cluster's plans are found by type, a
            -- list's items by their live "list" write. Indexes only: nodes of an earlier
            -- version run beside them unchanged.
            CREATE INDEX record_plans ON record(tenant, cluster) WHERE type = 'plan';
            CREATE INDEX field_write_by_list ON field_write(tenant, cluster, value) WHERE field = 'list' AND live;
            """),
        ("v14 (keys): retired replicas", """
            -- When the administrator retired the replica (ms since 1970; NULL: in use): its hello
            -- is refused, and so is any change in its name the log does not hold
            -- (ReplicaKeys.admitNew), whoever pushes it. Nodes of an earlier version read the
            -- columns they name, and take such changes until they are upgraded.
            ALTER TABLE replica_key ADD COLUMN retired_at BIGINT;
            """),
    ]

    /// Work a migration does beyond its SQL, in its transaction after the SQL: v3 builds the
    /// materialised rows of a store from before it by replaying its log.
    static let backfills: [String: @Sendable (PostgresConnection, Logger) async throws -> Void] = [
        "v12 (roll-up): meetings of every body": { connection, logger in
            try await PostgresServerStore.recomputeContributions(ofType: .meeting, connection, logger: logger)
        },
        "v10 (roll-up): practices' contributions to the plan": { connection, logger in
            try await PostgresServerStore.recomputeContributions(ofType: .contribution, connection, logger: logger)
        },
        "v9 (roll-up): risks by category, decisions' sums": { connection, logger in
            try await PostgresServerStore.recomputeContributions(ofType: .risk, connection, logger: logger)
            try await PostgresServerStore.recomputeContributions(ofType: .decision, connection, logger: logger)
        },
        "v7 (governance): meeting contributions under the attendance rules of 2026-12-05": { connection, logger in
            try await PostgresServerStore.recomputeContributions(ofType: .meeting, connection, logger: logger)
        },
        "v3 (materialised state): kept field writes, compaction": { connection, logger in
            try await PostgresMaterialisedState.backfill(connection, logger: logger)
        },
    ]

    /// A migration's statements: the extended protocol takes one at a time. Statements end with
    /// a semicolon at the end of a line (a semicolon inside a comment line does not end one).
    static func statements(_ sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { fragment in
            fragment.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
        }.map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
    }

    /// Applies the migrations not yet recorded, and returns their versions. Safe to run from
    /// several nodes at once. When nothing is pending it runs no DDL at all, so nodes may log in
    /// as a role that may not create tables (Deploy's `clustersync_app`); a pending migration
    /// then needs the owner role (`clustersyncd migrate` with the owner's URL), and says so.
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        let applied = try await appliedVersions(client, logger: logger)
        guard migrations.contains(where: { !applied.contains($0.version) }) else { return [] }
        do {
            return try await client.withConnection { connection in
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """, logger: logger)
                var done: [String] = []
                for migration in migrations {
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        // One key for every ClusterSync node: 0x436c5379 is "ClSy".
                        try await connection.query("SELECT pg_advisory_xact_lock(1131172729)", logger: logger)
                        let recorded = try await connection.query(
                            "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)", logger: logger).collect()
                        if recorded.isEmpty {
                            logger.notice("applying PostgreSQL store migration", metadata: ["migration": "\(migration.version)"])
                            for statement in statements(migration.sql) {
                                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                            }
                            try await backfills[migration.version]?(connection, logger)
                            try await connection.query("INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
                            done.append(migration.version)
                        }
                        try await connection.query("COMMIT", logger: logger)
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
                return done
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
            let pending = migrations.map(\.version).filter { !applied.contains($0) }
            throw ClusterSyncError(.storeUnavailable,
                "the PostgreSQL store needs migration \(pending.joined(separator: ", ")), and this node's database role may not create tables: "
                + "run `clustersyncd migrate` once with the owner role's URL (Deploy's clustersync_owner), then start the nodes")
        }
    }

    /// The versions recorded, without creating anything.
    static func appliedVersions(_ client: PostgresClient, logger: Logger) async throws -> Set<String> {
        try await client.withConnection { connection in
            let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger).collect()
            guard try exists.first?.decode(Bool.self) == true else { return [] }
            return Set(try await connection.query("SELECT version FROM schema_migrations", logger: logger).collect().map { try $0.decode(String.self) })
        }
    }
}
