import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB
import Logging
import PostgresNIO

/// The PostgreSQL store's materialised state (migration v3): the `field_write` rows that
/// `SnapshotReader.kept` keeps of every change applied, numbered replicas, orphan supersessions
/// and item parents, as the SQLite store's shared tables hold them.
///
/// The CRDT rules run once, in the shared `ChangeWriter`: a push loads what is kept of the
/// records it touches into a scratch in-memory database, applies its changes there, and writes
/// back the rows that changed, in its transaction. It never reads the records' history, so it
/// costs what the records' live state holds, not what their log holds.
enum PostgresMaterialisedState {
    /// One stored row, keyed by (record, field, replica, counter).
    struct Row: Equatable {
        var record: String
        var practice: String?
        var field: String
        var replica: Int64
        var replicaID: String
        var counter: Int64
        var hlc: Int64
        var value: String?
        var sup: String?
        var seen: String?
        var author: String?
        var sig: String?
        var live: Bool

        struct Key: Hashable {
            var record: String, field: String, replica: Int64, counter: Int64
        }

        var key: Key { Key(record: record, field: field, replica: replica, counter: counter) }
    }

    struct Orphan: Hashable {
        var replica: Int64, replicaID: String, counter: Int64, record: String, field: String
    }

    static let rowColumns = "record, practice, field, replica, replica_id, counter, hlc, value, sup, seen, author, sig, live"

    static func row(_ row: PostgresRow) throws -> Row {
        let (record, practice, field, replica, replicaID, counter, hlc, value, sup, seen, author, sig, live) = try row.decode(
            (String, String?, String, Int64, String, Int64, Int64, String?, String?, String?, String?, String?, Bool).self)
        return Row(record: record, practice: practice, field: field, replica: replica, replicaID: replicaID, counter: counter, hlc: hlc,
                   value: value, sup: sup, seen: seen, author: author, sig: sig, live: live)
    }

    /// The change a stored row holds.
    static func change(_ row: Row, tenant: String, cluster: String) throws -> Change {
        try ChangeReader.change(replica: row.replicaID, counter: row.counter, hlc: row.hlc, record: row.record,
                                scope: RecordScope(tenant: tenant, cluster: cluster, practice: row.practice), field: row.field,
                                value: row.value, sup: row.sup, seen: row.seen, author: row.author, sig: row.sig)
    }

    // MARK: Push

    /// A row of `record`, as the materialised state loads it.
    struct RecordRow {
        var id: String, type: String, practice: String?, parent: String?
    }

    /// Applies a push's accepted changes (already logged, their new records already in `record`)
    /// to the materialised state, inside the push's transaction; `records` are the rows of
    /// `record` they touch, read in the same transaction. Returns the scratch database, which
    /// holds the touched records as they now are, for conflicts and roll-ups.
    static func apply(_ accepted: [Change], records recordRows: [RecordRow], tenant: String, cluster: String, _ c: PostgresConnection,
                      logger: Logger) async throws -> PostgresServerStore.ScratchRecords {
        // Replica numbers, given in the order ChangeWriter meets the ids (the SQLite store's order).
        var order: [String] = []
        var noted = Set<String>()
        func note(_ id: ReplicaID) { if noted.insert(id.rawValue).inserted { order.append(id.rawValue) } }
        for change in accepted { note(change.id.replica) }
        for change in accepted {
            for id in change.supersedes { note(id.replica) }
            if let request = Redaction.request(of: change) { note(request.change.replica) }
        }
        var numbers = try await replicaNumbers(order, tenant: tenant, cluster: cluster, c, logger: logger)

        let records = Array(Set(accepted.map(\.record.rawValue)))
        let loaded = try await c.rows("""
            SELECT \(unescaped: rowColumns) FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster) AND record = ANY(\(records))
            """, logger).map(row)
        for row in loaded { numbers[row.replicaID] = row.replica }
        let ids = accepted.map(\.id)
        var loadedOrphans = Set<Orphan>()
        for row in try await c.rows("""
            SELECT o.replica, o.counter, o.record, o.field FROM orphan_supersede o
            JOIN unnest(\(ids.map { numbers[$0.replica.rawValue] ?? 0 })::bigint[], \(ids.map(\.counter))::bigint[]) AS batch(replica, counter)
                ON o.tenant = \(tenant) AND o.cluster = \(cluster) AND o.replica = batch.replica AND o.counter = batch.counter
            """, logger) {
            let (replica, counter, record, field) = try row.decode((Int64, Int64, String, String).self)
            let replicaID = numbers.first { $0.value == replica }?.key ?? ""
            loadedOrphans.insert(Orphan(replica: replica, replicaID: replicaID, counter: counter, record: record, field: field))
        }

        let scratch = try PostgresServerStore.ScratchRecords()
        let (rows, orphans, parents) = try Self.load(into: scratch, numbers: numbers, records: recordRows, rows: loaded, orphans: loadedOrphans,
                                                     tenant: tenant, cluster: cluster, applying: accepted)

        // Back to PostgreSQL: what is kept and changed, and what is kept no more.
        let before = Dictionary(loaded.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var upserts: [Row] = [], gone: [Row] = []
        for (row, kept) in rows {
            if kept {
                if before[row.key] != row { upserts.append(row) }
            } else if before[row.key] != nil {
                gone.append(row)
            }
        }
        try await write(upserts, deleting: gone, tenant: tenant, cluster: cluster, c, logger: logger)
        // A supersession of a change this server holds already (dead, so not kept here) is no
        // orphan: only those of changes yet to arrive are kept.
        let newOrphans = orphans.subtracting(loadedOrphans)
        if !newOrphans.isEmpty {
            let candidates = Array(newOrphans)
            let held = Set(try await c.rows("""
                SELECT l.replica, l.counter FROM log l
                JOIN unnest(\(candidates.map(\.replicaID))::text[], \(candidates.map(\.counter))::bigint[]) AS o(replica, counter)
                    ON l.tenant = \(tenant) AND l.cluster = \(cluster) AND l.replica = o.replica AND l.counter = o.counter
                """, logger).map { row in
                    let (replica, counter) = try row.decode((String, Int64).self)
                    return "\(replica):\(counter)"
                })
            try await writeOrphans(candidates.filter { !held.contains("\($0.replicaID):\($0.counter)") }, tenant: tenant, cluster: cluster, c, logger: logger)
        }
        let parentBefore = Dictionary(recordRows.map { ($0.id, $0.parent) }, uniquingKeysWith: { a, _ in a })
        try await writeParents(parents.filter { parentBefore[$0.key] ?? nil != $0.value }, tenant: tenant, cluster: cluster, c, logger: logger)
        return scratch
    }

    /// Loads what PostgreSQL keeps of the touched records into the scratch database, applies the
    /// changes there with `ChangeWriter`, and returns every change row, orphan and parent after.
    static func load(
        into scratch: PostgresServerStore.ScratchRecords, numbers: [String: Int64],
        records recordRows: [RecordRow], rows loaded: [Row], orphans loadedOrphans: Set<Orphan>,
        tenant: String, cluster: String, applying accepted: [Change]
    ) throws -> ([(Row, Bool)], Set<Orphan>, [String: String]) {
        try scratch.queue.write { db in
            for (id, num) in numbers {
                try db.execute(sql: "INSERT INTO replica (num, id) VALUES (?, ?)", arguments: [num, id])
            }
            var recordNumbers: [String: Int64] = [:]
            for record in recordRows {
                try db.execute(sql: "INSERT INTO record (id, type, tenant, cluster, practice, parent) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [record.id, record.type, tenant, cluster, record.practice, record.parent])
                recordNumbers[record.id] = db.lastInsertedRowID
            }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO change (record, field, replica, counter, hlc, value, sup, seen, author, sig, live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for row in loaded {
                guard let record = recordNumbers[row.record] else { continue }
                try insert.execute(arguments: [record, row.field, row.replica, row.counter, row.hlc, row.value, row.sup, row.seen,
                                               row.author, row.sig, row.live])
            }
            for orphan in loadedOrphans {
                guard let record = recordNumbers[orphan.record] else { continue }
                try db.execute(sql: "INSERT INTO orphan_supersede (replica, counter, record, field) VALUES (?, ?, ?, ?)",
                               arguments: [orphan.replica, orphan.counter, record, orphan.field])
            }
            var writer = try ChangeWriter(db)
            _ = try writer.apply(accepted)
            return (try scratchRows(db, keptOnly: false), try scratchOrphans(db), try scratchParents(db))
        }
    }

    /// The numbers of these replica ids in the cluster, numbering the new ones in the order given.
    static func replicaNumbers(_ ids: [String], tenant: String, cluster: String, _ c: PostgresConnection, logger: Logger) async throws
        -> [String: Int64] {
        guard !ids.isEmpty else { return [:] }
        // The new numbers (RETURNING) and the stored ones (the statement's snapshot) in one
        // round trip.
        var numbers: [String: Int64] = [:]
        func take(_ rows: [PostgresRow]) throws {
            for row in rows {
                let (id, num) = try row.decode((String, Int64).self)
                numbers[id] = num
            }
        }
        try take(try await c.rows("""
            WITH inserted AS (
                INSERT INTO replica_number (tenant, cluster, replica)
                SELECT \(tenant), \(cluster), id FROM unnest(\(ids)::text[]) WITH ORDINALITY AS u(id, n)
                WHERE NOT EXISTS (SELECT 1 FROM replica_number r WHERE r.tenant = \(tenant) AND r.cluster = \(cluster) AND r.replica = u.id)
                ORDER BY n
                ON CONFLICT DO NOTHING
                RETURNING replica, num)
            SELECT replica, num FROM inserted
            UNION ALL SELECT replica, num FROM replica_number WHERE tenant = \(tenant) AND cluster = \(cluster) AND replica = ANY(\(ids))
            """, logger))
        // One numbered by a transaction that committed after this statement began is in
        // neither (pushes to a tenant wait for each other, so only a writer outside them).
        if numbers.count < Set(ids).count {
            try take(try await c.rows("""
                SELECT replica, num FROM replica_number WHERE tenant = \(tenant) AND cluster = \(cluster) AND replica = ANY(\(ids))
                """, logger))
        }
        return numbers
    }

    /// Every change row of the scratch database, with whether `SnapshotReader.kept` keeps it.
    static func scratchRows(_ db: Database, keptOnly: Bool) throws -> [(Row, Bool)] {
        let rows = try GRDB.Row.fetchCursor(db, sql: """
            SELECT rec.id, rec.practice, c.field, c.replica, r.id, c.counter, c.hlc, c.value, c.sup, c.seen, c.author, c.sig, c.live,
                   \(SnapshotReader.kept)
            FROM change c JOIN record rec ON rec.num = c.record JOIN replica r ON r.num = c.replica
            \(keptOnly ? "WHERE \(SnapshotReader.kept)" : "")
            """)
        var found: [(Row, Bool)] = []
        while let row = try rows.next() {
            found.append((Row(record: row[0], practice: row[1], field: row[2], replica: row[3], replicaID: row[4], counter: row[5],
                              hlc: row[6], value: row[7], sup: row[8], seen: row[9], author: row[10], sig: row[11], live: row[12]),
                          row[13]))
        }
        return found
    }

    static func scratchOrphans(_ db: Database) throws -> Set<Orphan> {
        Set(try GRDB.Row.fetchAll(db, sql: """
            SELECT o.replica, r.id, o.counter, rec.id, o.field
            FROM orphan_supersede o JOIN record rec ON rec.num = o.record JOIN replica r ON r.num = o.replica
            """).map { Orphan(replica: $0[0], replicaID: $0[1], counter: $0[2], record: $0[3], field: $0[4]) })
    }

    static func scratchParents(_ db: Database) throws -> [String: String] {
        Dictionary(try GRDB.Row.fetchAll(db, sql: "SELECT id, parent FROM record WHERE parent IS NOT NULL").map { ($0[0] as String, $0[1] as String) },
                   uniquingKeysWith: { a, _ in a })
    }

    // MARK: Writing

    /// Inserts or updates rows, a few thousand per statement, and deletes `gone` (rows not kept
    /// any more, never among `rows`) with the first of them. Arrays carry no NULLs here: ''
    /// stands for none (no stored text of these columns is ever empty).
    static func write(_ rows: [Row], deleting gone: [Row] = [], tenant: String, cluster: String, _ c: PostgresConnection,
                      logger: Logger) async throws {
        var start = 0
        var gone = gone
        while start < rows.count || !gone.isEmpty {
            let chunk = rows[start..<min(start + 5_000, rows.count)]
            start += chunk.count
            // The deletion rides on the upsert's statement (a round trip fewer a push): a
            // data-modifying WITH runs whether or not the statement reads it.
            try await c.rows("""
                WITH gone AS (
                    DELETE FROM field_write w USING unnest(\(gone.map(\.record))::text[], \(gone.map(\.field))::text[],
                        \(gone.map(\.replica))::bigint[], \(gone.map(\.counter))::bigint[]) AS g(record, field, replica, counter)
                    WHERE w.tenant = \(tenant) AND w.cluster = \(cluster) AND w.record = g.record AND w.field = g.field
                        AND w.replica = g.replica AND w.counter = g.counter)
                INSERT INTO field_write (tenant, cluster, \(unescaped: rowColumns))
                SELECT \(tenant), \(cluster), record, NULLIF(practice, ''), field, replica, replica_id, counter, hlc, NULLIF(value, ''),
                       NULLIF(sup, ''), NULLIF(seen, ''), NULLIF(author, ''), NULLIF(sig, ''), live
                FROM unnest(\(chunk.map(\.record))::text[], \(chunk.map { $0.practice ?? "" })::text[], \(chunk.map(\.field))::text[],
                            \(chunk.map(\.replica))::bigint[], \(chunk.map(\.replicaID))::text[], \(chunk.map(\.counter))::bigint[],
                            \(chunk.map(\.hlc))::bigint[], \(chunk.map { $0.value ?? "" })::text[], \(chunk.map { $0.sup ?? "" })::text[],
                            \(chunk.map { $0.seen ?? "" })::text[], \(chunk.map { $0.author ?? "" })::text[], \(chunk.map { $0.sig ?? "" })::text[],
                            \(chunk.map(\.live))::boolean[])
                    AS u(record, practice, field, replica, replica_id, counter, hlc, value, sup, seen, author, sig, live)
                ON CONFLICT (tenant, cluster, record, field, replica, counter) DO UPDATE SET value = excluded.value, live = excluded.live
                """, logger)
            gone = []
        }
    }

    static func writeOrphans(_ orphans: [Orphan], tenant: String, cluster: String, _ c: PostgresConnection, logger: Logger) async throws {
        guard !orphans.isEmpty else { return }
        try await c.rows("""
            INSERT INTO orphan_supersede (tenant, cluster, replica, counter, record, field)
            SELECT \(tenant), \(cluster), replica, counter, record, field
            FROM unnest(\(orphans.map(\.replica))::bigint[], \(orphans.map(\.counter))::bigint[], \(orphans.map(\.record))::text[],
                        \(orphans.map(\.field))::text[]) AS u(replica, counter, record, field)
            ON CONFLICT DO NOTHING
            """, logger)
    }

    static func writeParents(_ parents: [String: String], tenant: String, cluster: String, _ c: PostgresConnection, logger: Logger) async throws {
        guard !parents.isEmpty else { return }
        try await c.rows("""
            UPDATE record SET parent = u.parent FROM unnest(\(Array(parents.keys))::text[], \(Array(parents.values))::text[]) AS u(id, parent)
            WHERE record.tenant = \(tenant) AND record.cluster = \(cluster) AND record.id = u.id AND record.parent IS NULL
            """, logger)
    }

    // MARK: Migration

    /// Builds the materialised rows of a store from before migration v3, cluster by cluster, by
    /// replaying each cluster's log through `ChangeWriter` in a scratch database on disk.
    static func backfill(_ c: PostgresConnection, logger: Logger) async throws {
        let clusters = try await c.rows("SELECT tenant, name FROM cluster ORDER BY tenant, name", logger).map { try $0.decode((String, String).self) }
        for (tenant, cluster) in clusters {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-backfill-\(UUID().uuidString).sqlite").path
            defer {
                for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
            let scratch = try PostgresServerStore.ScratchRecords(path: file)
            var after: Int64 = 0
            var replayed = 0
            while true {
                let page = try await c.rows("""
                    SELECT seq, change_json FROM log WHERE tenant = \(tenant) AND cluster = \(cluster) AND seq > \(after) ORDER BY seq LIMIT 10000
                    """, logger).map { try $0.decode((Int64, String).self) }
                guard let last = page.last else { break }
                after = last.0
                let changes = page.compactMap { try? Change(jsonText: $0.1) }
                try scratch.apply(changes)
                replayed += changes.count
            }
            guard replayed > 0 else { continue }
            logger.notice("building the materialised state of a cluster from its log", metadata: [
                "tenant": "\(tenant)", "cluster": "\(cluster)", "changes": "\(replayed)"])
            let (ids, rows, orphans, parents) = try scratch.read { db in
                (try String.fetchAll(db, sql: "SELECT id FROM replica ORDER BY num"), try scratchRows(db, keptOnly: true).map(\.0),
                 try scratchOrphans(db), try scratchParents(db))
            }
            let numbers = try await replicaNumbers(ids, tenant: tenant, cluster: cluster, c, logger: logger)
            func renumbered(_ id: String) -> Int64 { numbers[id] ?? 0 }
            try await write(rows.map { var row = $0; row.replica = renumbered(row.replicaID); return row }, tenant: tenant, cluster: cluster, c, logger: logger)
            try await writeOrphans(orphans.map { var orphan = $0; orphan.replica = renumbered(orphan.replicaID); return orphan },
                                   tenant: tenant, cluster: cluster, c, logger: logger)
            try await writeParents(parents, tenant: tenant, cluster: cluster, c, logger: logger)
        }
    }
}
