import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB
import PostgresNIO

/// What `clustersyncd copy-to-postgres` copied, table by table.
public struct StoreCopyReport: Sendable {
    /// (PostgreSQL table, rows written), in the order they were copied.
    public var tables: [(table: String, rows: Int)] = []
    /// The store identity the copy carries on (`welcome.store`), so replicas' cursors stay valid.
    public var storeIdentity = ""

    public func rows(of table: String) -> Int { tables.first { $0.table == table }?.rows ?? 0 }
}

/// Copies a SQLite store into an empty PostgreSQL store, so a Health Board that outgrows one
/// node moves to PostgreSQL without its practices noticing: the same tenants, credentials
/// (tokens keep working: only their hashes are kept, and they are copied), replica keys, log in
/// the same sequence (so every replica's cursor stays valid), tamper-evident chain, compaction
/// and session log, and the same store identity (`welcome.store`), so replicas carry on rather
/// than start again. What the PostgreSQL store derives (per record: conflicts, escalation,
/// source, roll-up contribution) is computed by the code its pushes use (`KeptRecordFacts`).
///
/// One transaction: a copy that fails leaves the PostgreSQL store as empty as it found it. The
/// SQLite store is read from one snapshot and never written; stop the server first, since
/// what it stores after the snapshot would not be copied.
extension PostgresServerStore {
    public func copy(from source: SQLiteServerStore, progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws -> StoreCopyReport {
        let snapshot = try source.database.makeSnapshot()
        // No call deadline: a large store takes minutes.
        return try await pooledTransaction { c in
            // Numbering on after the copied rows sets sequences: the owner's, not the nodes' role.
            let owner = try await c.rows("""
                SELECT has_sequence_privilege(pg_get_serial_sequence('audit', 'num'), 'UPDATE')
                    AND has_sequence_privilege(pg_get_serial_sequence('replica_number', 'num'), 'UPDATE')
                """, self.logger)[0].decode(Bool.self)
            guard owner else {
                throw ClusterSyncError(.invalidValue,
                    "this database role may not set the store's sequences: copy with the owner role's URL "
                    + "(Deploy's clustersync_owner, as for `clustersyncd migrate`), then run the nodes as clustersync_app")
            }
            let held = try await c.rows("SELECT (SELECT count(*) FROM tenant) + (SELECT count(*) FROM log)", self.logger)[0].decode(Int64.self)
            guard held == 0 else {
                throw ClusterSyncError(.invalidValue,
                    "\(self.whereabouts) already holds tenants or changes: copy into an empty database "
                    + "(a new one, migrated with `clustersyncd migrate`), never over a store in use")
            }
            var report = StoreCopyReport()
            for table in StoreCopyTable.all {
                let rows = try await table.copy(from: snapshot, into: c, logger: self.logger)
                report.tables.append((table.target, rows))
                progress(table.target, rows)
            }
            let clusters = try await snapshot.read { db in
                try Row.fetchAll(db, sql: "SELECT tenant, name FROM cluster ORDER BY tenant, name").map { ($0[0] as String, $0[1] as String) }
            }
            var facts = 0
            for (tenant, cluster) in clusters {
                let kept = try await snapshot.read { db in
                    try KeptRecordFacts(db, where: "rec.tenant = ? AND rec.cluster = ? AND rec.practice IS NULL", arguments: [tenant, cluster])
                }
                try await kept.write(tenant: tenant, cluster: cluster, c, logger: self.logger)
                facts += kept.contributed.count
            }
            report.tables.append(("rollup_contribution", facts))
            progress("rollup_contribution", facts)

            report.storeIdentity = try await snapshot.read { db in try String.fetchOne(db, sql: "SELECT id FROM store_identity") } ?? ""
            try await c.rows("UPDATE store_identity SET id = \(report.storeIdentity)", self.logger)
            // Numbers given later continue after the copied ones.
            try await c.rows("""
                SELECT setval(pg_get_serial_sequence('audit', 'num'), coalesce(max(num), 0) + 1, false) FROM audit
                """, self.logger)
            try await c.rows("""
                SELECT setval(pg_get_serial_sequence('replica_number', 'num'), coalesce(max(num), 0) + 1, false) FROM replica_number
                """, self.logger)
            // Statistics for the planner now, not at autovacuum's next round: a node started on
            // the copy plans its first pushes and pulls against tables it would otherwise take
            // for empty.
            try await c.rows("ANALYZE", self.logger)
            return report
        }
    }
}

/// One table's copy: a SQLite query giving the PostgreSQL table's columns (and the key it is
/// read in order of), read a page at a time as one JSON array of objects SQLite writes and
/// PostgreSQL reads (`json_to_recordset`), so values keep their types and NULLs without a binding per
/// value. Blobs travel as hex.
struct StoreCopyTable: Sendable {
    /// The PostgreSQL table.
    var target: String
    /// Its columns with their PostgreSQL types; `bytea` ones arrive as hex.
    var columns: [(name: String, type: String)]
    /// A SQLite query giving every target column and the key columns under the same names.
    var source: String
    /// The columns it is read in order of, unique together.
    var key: [String]
    /// Identity columns are given, not generated.
    var overridesIdentity = false

    static let pageSize = 5_000

    func copy(from snapshot: DatabaseSnapshot, into c: PostgresConnection, logger: Logger) async throws -> Int {
        let keyList = key.joined(separator: ", ")
        let names = columns.map(\.name)
        let object = "json_object(" + names.map { "'\($0)', \($0)" }.joined(separator: ", ") + ")"
        let page = "SELECT * FROM (\(source)) WHERE (\(keyList)) > (\(key.map { _ in "?" }.joined(separator: ", "))) ORDER BY \(keyList) LIMIT \(Self.pageSize)"
        let first = "SELECT * FROM (\(source)) ORDER BY \(keyList) LIMIT \(Self.pageSize)"
        let recordset = columns.map { "\($0.name) \($0.type == "bytea" ? "text" : $0.type)" }.joined(separator: ", ")
        let values = columns.map { $0.type == "bytea" ? "decode(u.\($0.name), 'hex')" : "u.\($0.name)" }.joined(separator: ", ")
        let insert = """
            INSERT INTO \(target) (\(names.joined(separator: ", ")))\(overridesIdentity ? " OVERRIDING SYSTEM VALUE" : "")
            SELECT \(values) FROM json_to_recordset($1::json) AS u(\(recordset))
            """
        var after: [DatabaseValue]?
        var copied = 0
        while true {
            let resume = after
            // One read of the page: each row's object, and the key of the last.
            let (json, count, last) = try await snapshot.read { db -> (String, Int, [DatabaseValue]?) in
                let rows = try Row.fetchAll(db, sql: "SELECT \(object), \(keyList) FROM (\(resume == nil ? first : page))",
                                            arguments: StatementArguments(resume ?? []))
                let json = "[" + rows.map { $0[0] as String }.joined(separator: ",") + "]"
                return (json, rows.count, rows.last.map { row in key.map { row[$0] as DatabaseValue } })
            }
            guard count > 0, let last else { break }
            var bindings = PostgresBindings()
            bindings.append(json)
            // Drained so the insert has finished before the next page is read.
            _ = try await c.query(PostgresQuery(unsafeSQL: insert, binds: bindings), logger: logger).collect()
            copied += count
            after = last
            if count < Self.pageSize { break }
        }
        return copied
    }

    /// A blob column as hex, NULL when it is NULL or empty (a certificate's secret hash).
    static func hex(_ column: String) -> String { "NULLIF(hex(\(column)), '')" }

    /// Every table a SQLite store holds that the PostgreSQL store keeps as it is, in an order
    /// that meets the foreign keys. `health` and `rollup_format` are the SQLite store's own.
    static let all: [StoreCopyTable] = [
        StoreCopyTable(target: "tenant", columns: [("name", "text"), ("last_seq", "bigint")],
                       source: "SELECT t.name AS name, coalesce(s.last, 0) AS last_seq FROM tenant t LEFT JOIN tenant_sequence s ON s.tenant = t.name",
                       key: ["name"]),
        StoreCopyTable(target: "region", columns: [("tenant", "text"), ("name", "text")],
                       source: "SELECT tenant, name FROM region", key: ["tenant", "name"]),
        StoreCopyTable(target: "cluster", columns: [("tenant", "text"), ("name", "text"), ("region", "text"), ("moved_after", "bigint")],
                       source: "SELECT tenant, name, region, moved_after FROM cluster", key: ["tenant", "name"]),
        StoreCopyTable(target: "practice", columns: [("tenant", "text"), ("cluster", "text"), ("name", "text"), ("kind", "text")],
                       source: "SELECT tenant, cluster, name, kind FROM practice", key: ["tenant", "cluster", "name"]),
        StoreCopyTable(target: "credential",
                       columns: [("id", "text"), ("tenant", "text"), ("cluster", "text"), ("practice", "text"), ("role", "text"), ("region", "text"),
                                 ("label", "text"), ("kind", "text"), ("serial", "text"), ("secret_hash", "bytea"), ("created_at", "bigint"),
                                 ("expires_at", "bigint"), ("last_used_at", "bigint"), ("revoked_at", "bigint")],
                       source: """
                           SELECT id, tenant, cluster, practice, role, region, label, kind, serial, \(hex("secret_hash")) AS secret_hash, created_at,
                                  expires_at, last_used_at, CASE WHEN revoked <> 0 THEN coalesce(revoked_at, created_at) ELSE revoked_at END AS revoked_at
                           FROM credential
                           """,
                       key: ["id"]),
        StoreCopyTable(target: "revoked_serial", columns: [("tenant", "text"), ("serial", "text"), ("revoked_at", "bigint")],
                       source: "SELECT tenant, serial, revoked_at FROM revoked_serial", key: ["tenant", "serial"]),
        StoreCopyTable(target: "audit",
                       columns: [("num", "bigint"), ("at", "bigint"), ("event", "text"), ("tenant", "text"), ("cluster", "text"), ("practice", "text"),
                                 ("credential", "text"), ("peer", "text"), ("code", "text"), ("message", "text")],
                       source: "SELECT num, at, event, tenant, cluster, practice, credential, peer, code, message FROM audit", key: ["num"]),
        // A log row's record, which the PostgreSQL store indexes its history by; '' for a row
        // whose text compaction dropped, or that this version cannot read.
        StoreCopyTable(target: "log",
                       columns: [("tenant", "text"), ("seq", "bigint"), ("cluster", "text"), ("practice", "text"), ("replica", "text"),
                                 ("counter", "bigint"), ("record", "text"), ("change_json", "text")],
                       source: """
                           SELECT tenant, seq, cluster, practice, replica, counter,
                                  CASE WHEN json_valid(change_json) THEN coalesce(json_extract(change_json, '$.record'), '') ELSE '' END AS record,
                                  change_json
                           FROM log
                           """,
                       key: ["tenant", "seq"]),
        StoreCopyTable(target: "replica_owner", columns: [("tenant", "text"), ("cluster", "text"), ("replica", "text"), ("practice", "text")],
                       source: "SELECT tenant, cluster, replica, practice FROM replica_owner", key: ["tenant", "cluster", "replica"]),
        StoreCopyTable(target: "ledger",
                       columns: [("tenant", "text"), ("seq", "bigint"), ("salt", "bytea"), ("content_hash", "bytea"), ("entry_hash", "bytea")],
                       source: "SELECT tenant, seq, \(hex("salt")) AS salt, hex(content_hash) AS content_hash, hex(entry_hash) AS entry_hash FROM ledger",
                       key: ["tenant", "seq"]),
        StoreCopyTable(target: "replica_key",
                       columns: [("tenant", "text"), ("cluster", "text"), ("replica", "text"), ("public_key", "bytea"), ("practice", "text"),
                                 ("person", "text"), ("author", "text"), ("registered_at", "bigint"), ("retired_at", "bigint")],
                       source: "SELECT tenant, cluster, replica, hex(public_key) AS public_key, practice, person, author, registered_at, retired_at FROM replica_key",
                       key: ["tenant", "cluster", "replica"]),
        StoreCopyTable(target: "compaction",
                       columns: [("tenant", "text"), ("through_seq", "bigint"), ("checkpoint", "bytea"), ("compacted_at", "bigint")],
                       source: "SELECT tenant, through_seq, hex(checkpoint) AS checkpoint, compacted_at FROM compaction", key: ["tenant"]),
        StoreCopyTable(target: "compaction_mark", columns: [("tenant", "text"), ("at", "bigint"), ("seq", "bigint")],
                       source: "SELECT tenant, at, seq FROM compaction_mark", key: ["tenant", "at"]),
        StoreCopyTable(target: "redaction",
                       columns: [("tenant", "text"), ("cluster", "text"), ("change", "text"), ("record", "text"), ("field", "text"), ("by", "text")],
                       source: "SELECT tenant, cluster, change, record, field, by FROM redaction", key: ["tenant", "cluster", "change"]),
        // The materialised state, as the PostgreSQL store keeps it (PostgresMaterialisedState):
        // records, replica numbers (the same numbers, which snapshot cursors name), the change
        // rows a snapshot keeps, and the supersessions of changes yet to arrive.
        StoreCopyTable(target: "record",
                       columns: [("tenant", "text"), ("cluster", "text"), ("id", "text"), ("type", "text"), ("practice", "text"), ("parent", "text")],
                       source: "SELECT num, tenant, cluster, id, type, practice, parent FROM record", key: ["num"]),
        StoreCopyTable(target: "replica_number",
                       columns: [("tenant", "text"), ("cluster", "text"), ("replica", "text"), ("num", "bigint")],
                       source: "SELECT tenant, cluster, id AS replica, num FROM replica", key: ["num"], overridesIdentity: true),
        StoreCopyTable(target: "field_write",
                       columns: [("tenant", "text"), ("cluster", "text"), ("record", "text"), ("field", "text"), ("replica", "bigint"),
                                 ("counter", "bigint"), ("replica_id", "text"), ("practice", "text"), ("hlc", "bigint"), ("value", "text"),
                                 ("sup", "text"), ("seen", "text"), ("author", "text"), ("sig", "text"), ("live", "boolean")],
                       source: """
                           SELECT rec.tenant AS tenant, rec.cluster AS cluster, rec.id AS record, c.field AS field, c.replica AS replica,
                                  c.counter AS counter, r.id AS replica_id, rec.practice AS practice, c.hlc AS hlc, c.value AS value, c.sup AS sup,
                                  c.seen AS seen, c.author AS author, c.sig AS sig, CASE WHEN c.live = 1 THEN 'true' ELSE 'false' END AS live
                           FROM change c JOIN record rec ON rec.num = c.record JOIN replica r ON r.num = c.replica
                           WHERE \(SnapshotReader.kept)
                           """,
                       key: ["replica", "counter"]),
        StoreCopyTable(target: "orphan_supersede",
                       columns: [("tenant", "text"), ("cluster", "text"), ("replica", "bigint"), ("counter", "bigint"), ("record", "text"), ("field", "text")],
                       source: """
                           SELECT rec.tenant AS tenant, rec.cluster AS cluster, o.replica AS replica, o.counter AS counter, rec.id AS record, o.field AS field
                           FROM orphan_supersede o JOIN record rec ON rec.num = o.record
                           """,
                       key: ["replica", "counter"]),
    ]
}
