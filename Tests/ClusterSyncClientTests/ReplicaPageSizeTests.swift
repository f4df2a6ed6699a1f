import ClusterSyncClient
import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// A new replica file gets 32 KiB pages (`Replica.pageSize`); a file made before, with SQLite's
/// default 4 KiB, keeps them and goes on working, since SQLite changes a page size only by
/// rewriting the whole file.
@Suite struct ReplicaPageSizeTests {
    static func temporaryPath(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-page-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    /// The page size written in the file itself, read by a connection of its own.
    static func pageSize(of path: String) throws -> Int? {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") }
    }

    @Test func aNewReplicaGetsLargerPages() throws {
        #expect(Replica.pageSize == 32_768)
        let path = try Self.temporaryPath("replica.sqlite")
        let replica = try Replica(path: path)
        try replica.initialise(tenant: "t", cluster: "c", practice: "p", displayName: "New laptop")
        #expect(try Self.pageSize(of: path) == Replica.pageSize)
    }

    @Test func aReplicaMadeWithSmallerPagesKeepsThemAndWorks() throws {
        let path = try Self.temporaryPath("old-replica.sqlite")
        // As an older ClusterSync made one: SQLite's default page size, in WAL mode.
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL") }
        try DatabaseQueue(path: path, configuration: configuration).write { db in
            try db.execute(sql: "CREATE TABLE made_before (n INTEGER)")
        }
        let replica = try Replica(path: path)
        try replica.initialise(tenant: "t", cluster: "c", practice: "p", displayName: "Old laptop")
        let id = try replica.create(.risk, edits: [.set("title", .string("Flu clinic capacity"))])
        try replica.edit(id, .set("owner", .string("Practice manager")))
        #expect(try Self.pageSize(of: path) == 4_096)
        #expect(try replica.record(id)?.string("owner") == "Practice manager")
    }
}
