import GRDB

/// The tables that hold changes and the state they materialise, the same in a practice's
/// replica and in the server's SQLite store. Called from each one's first migration; a later
/// change to these tables is a new migration in each, never an edit here.
public enum MaterialisedStateSchema {
    /// The first layout, frozen: `change` clustered by record and field. Every store brings it
    /// up to date with `addSignatures` and `clusterChangesByID`, which re-clusters it by id.
    public static func createTables(_ db: Database) throws {
        try db.execute(sql: """
            -- Replica ids are interned: a change row keeps an integer, not 16 characters.
            CREATE TABLE replica (num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
            -- parent: the list an item belongs to, once its "list" write has arrived.
            CREATE TABLE record (
                num INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                practice TEXT,
                parent TEXT
            );
            CREATE INDEX record_by_parent ON record(parent) WHERE parent IS NOT NULL;
            CREATE INDEX record_by_scope ON record(tenant, cluster, type);
            -- Every change ever applied: the log and, through live = 1, the materialised state.
            -- Clustered by record and field, so reading a field's live writes, killing a
            -- superseded write and reading a record's history each touch one key range.
            CREATE TABLE change (
                record INTEGER NOT NULL,
                field TEXT NOT NULL,
                replica INTEGER NOT NULL,
                counter INTEGER NOT NULL,
                hlc INTEGER NOT NULL,
                value TEXT,
                sup TEXT,
                seen TEXT,
                author TEXT,
                live INTEGER NOT NULL,
                PRIMARY KEY (record, field, replica, counter)
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX change_by_id ON change(replica, counter);
            -- Writes superseded before they arrived, so they arrive dead.
            CREATE TABLE orphan_supersede (
                replica INTEGER NOT NULL,
                counter INTEGER NOT NULL,
                record INTEGER NOT NULL,
                field TEXT NOT NULL,
                PRIMARY KEY (replica, counter)
            ) WITHOUT ROWID;
            """)
    }

    /// Adds each change's signature (`Change.sig`, NULL for changes made before signing). Called
    /// from a later migration of the replica and of the server store.
    public static func addSignatures(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE change ADD COLUMN sig TEXT")
    }

    /// Clusters `change` by change id instead of by record and field (the layout of
    /// `createTables`): most changes arrive in their maker's order, so a row goes at the end of
    /// its maker's range instead of into the middle of its record's, and a transaction of a
    /// thousand edits to a thousand records dirties a few pages of the table, not a thousand.
    /// Reads by record and field go through `change_by_field`; reads of the live writes and
    /// snapshots through `change_kept`, which holds only the rows a snapshot keeps
    /// (`SnapshotQueryPlanTests` checks a snapshot page uses it). Called from a later migration
    /// of the replica and of the server store, after `addSignatures`; measured in
    /// Sources/clustersync-bench/MEASUREMENTS.md ("Tenth session").
    public static func clusterChangesByID(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE change_clustered_by_id (
                record INTEGER NOT NULL,
                field TEXT NOT NULL,
                replica INTEGER NOT NULL,
                counter INTEGER NOT NULL,
                hlc INTEGER NOT NULL,
                value TEXT,
                sup TEXT,
                seen TEXT,
                author TEXT,
                live INTEGER NOT NULL,
                sig TEXT,
                PRIMARY KEY (replica, counter)
            ) WITHOUT ROWID;
            INSERT INTO change_clustered_by_id (record, field, replica, counter, hlc, value, sup, seen, author, live, sig)
                SELECT record, field, replica, counter, hlc, value, sup, seen, author, live, sig FROM change ORDER BY replica, counter;
            DROP TABLE change;
            ALTER TABLE change_clustered_by_id RENAME TO change;
            -- A record's history, a field's writes (what a late write is checked against).
            CREATE INDEX change_by_field ON change(record, field);
            -- What a snapshot keeps (SnapshotReader.kept, whose terms these must stay, and why
            -- they say IN): the materialised state, a record's live writes and a field's
            -- conflicts, read through it too (`live = 1` implies this WHERE), plus list slots
            -- and redactions.
            CREATE INDEX change_kept ON change(record, field)
                WHERE live = 1 OR (field IN ('position', 'redact') AND (value IS NOT NULL OR field = 'redact'));
            """)
    }

    /// Redactions (Protocol/changes.md §10), the same in a replica and in the server store:
    /// which change's value each erased, so that a copy of that change arriving later (a stale
    /// merge, a replica that had not heard) is erased before it is written. Called from each
    /// one's migration that adds it; a later change is a new migration in each.
    public static func createRedactionTable(_ db: Database) throws {
        try db.execute(sql: """
            -- change: the erased change's id; by: the redaction's id. The first redaction of a
            -- change is kept. record and field: what the redaction names, checked against a
            -- change that arrives later.
            CREATE TABLE redaction (
                tenant TEXT NOT NULL,
                cluster TEXT NOT NULL,
                change TEXT NOT NULL,
                record TEXT NOT NULL,
                field TEXT NOT NULL,
                by TEXT NOT NULL,
                PRIMARY KEY (tenant, cluster, change)
            ) WITHOUT ROWID;
            """)
    }
}
