import ClusterSyncStorage
import Foundation
import GRDB
import Testing

/// `BoundStatement` binds through SQLite's own calls on the hottest statements (a change's row,
/// a log row): what it binds, text bound where it lies in a `RunText` included, must read back
/// as GRDB would have bound it, and an empty text must stay text (SQLite binds a text without
/// an address as NULL).
@Suite struct BoundStatementTests {
    static func database() throws -> DatabaseQueue {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-bound-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("bound.sqlite").path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY, a, b, c, d)") }
        return queue
    }

    @Test func valuesBoundByPositionReadBackAsBound() throws {
        let queue = try Self.database()
        let rows: [(key: Int64, a: String?, b: [UInt8]?)] = [
            (1, "Siân's \"risk\" — 😀", Array("{\"value\":\"with é and \\u0000 escaped\"}".utf8)),
            (2, "", []),
            (3, nil, nil),
        ]
        try queue.write { db in
            let insert = try BoundStatement(db, sql: "INSERT INTO t (k, a, b, c) VALUES (?1, ?2, ?3, ?4)")
            var text = RunText()
            for row in rows {
                // Text the run reads where it lies, after text SQLite copies.
                text.removeAll()
                _ = text.append("before")
                let a = row.a.map { text.append($0) }
                let b = row.b.map { bytes in text.append { $0.append(contentsOf: bytes) } }
                let changed = try insert.run(text: text) { values in
                    values.bind(1, row.key)
                    values.bind(2, in: a)
                    values.bind(3, in: b)
                    values.bind(4, Int64.max)
                }
                #expect(changed == 1)
            }
        }
        try queue.read { db in
            for row in rows {
                let stored = try Row.fetchOne(db, sql: "SELECT a, b, c, typeof(a) AS ta, typeof(b) AS tb FROM t WHERE k = ?", arguments: [row.key])!
                #expect(stored["a"] as String? == row.a)
                #expect(stored["b"] as String? == row.b.map { String(decoding: $0, as: UTF8.self) })
                #expect(stored["c"] as Int64 == Int64.max)
                #expect(stored["ta"] as String == (row.a == nil ? "null" : "text"), "row \(row.key)")
                #expect(stored["tb"] as String == (row.b == nil ? "null" : "text"), "row \(row.key)")
            }
        }
    }

    /// What `ChangeWriter` and the server's log tell a new row from a duplicate by.
    @Test func aRunSaysHowManyRowsItChanged() throws {
        let queue = try Self.database()
        try queue.write { db in
            let insert = try BoundStatement(db, sql: "INSERT INTO t (k, a) VALUES (?, ?) ON CONFLICT DO NOTHING")
            #expect(try insert.run(.int(1), .text("first")) == 1)
            #expect(try insert.run(.int(1), .text("again")) == 0)
            let update = try BoundStatement(db, sql: "UPDATE t SET d = ?1 WHERE k <= ?2")
            #expect(try update.run { $0.bind(1, 7); $0.bind(2, 0) } == 0)
            try insert.run(.int(2), .null)
            #expect(try update.run { $0.bind(1, 7); $0.bind(2, 2) } == 2)
        }
    }
}
