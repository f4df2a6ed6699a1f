import ClusterSyncClient
import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// What a replica file is opened as: a file a newer ClusterSync wrote is refused before anything
/// is written to it, and `init` makes replicas only where no other file is.
@Suite struct ReplicaFileTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    @Test func aFileANewerVersionMigratedIsRefusedAndLeftAsItIs() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try replica.database.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: what a later version keeps')")
        }
        try replica.database.close()
        func contents() throws -> [String] {
            try DatabaseQueue(path: dir.path("laptop.sqlite")).read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
                    + [String(try Int.fetchOne(db, sql: "SELECT count(*) FROM change")!)]
            }
        }
        let before = try contents()
        let error = #expect(throws: ClusterSyncError.self) { try Replica.openExisting(path: dir.path("laptop.sqlite")) }
        #expect(error?.code == .versionUnsupported && error?.message.contains("newer version of ClusterSync") == true, "\(String(describing: error))")
        #expect(try contents() == before)
    }

    @Test func initRefusesAFileThatIsNotAReplica() throws {
        let notes = dir.path("notes.sqlite")
        try "Minutes of the board\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let store = try DatabaseQueue(path: dir.path("store.sqlite"))
        try store.write { db in try db.execute(sql: "CREATE TABLE log (seq INTEGER PRIMARY KEY, change_json TEXT)") }
        try store.close()
        for path in [notes, dir.path("store.sqlite")] {
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            let error = #expect(throws: ClusterSyncError.self) {
                try Replica.create(path: path, tenant: "bcuhb", cluster: "north-denbighshire", practice: "prestatyn", displayName: "Manager")
            }
            #expect(error?.message.contains("is a file that is not a replica") == true, "\(path): \(String(describing: error))")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "\(path) left as it was")
        }
    }
}
