import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import GRDB
import Testing

/// New files get the page size measured best for each (`Replica.pageSize`,
/// `SQLiteServerStore.pageSize`); a file made before keeps its own and goes on working, since
/// SQLite changes a page size only by rewriting the whole file.
@Suite struct FilePageSizeTests {
    static func temporaryPath(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-page-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    /// The page size written in the file itself, read by a connection of its own.
    static func pageSize(of path: String) throws -> Int? {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") }
    }

    /// A file made the way an older ClusterSync made one: SQLite's default page size, in WAL mode.
    static func makeOldFile(_ path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL") }
        try DatabaseQueue(path: path, configuration: configuration).write { db in
            try db.execute(sql: "CREATE TABLE made_before (n INTEGER)")
        }
    }

    @Test func aNewReplicaAndANewStoreGetTheirPageSizes() async throws {
        #expect(Replica.pageSize == 32_768)
        #expect(SQLiteServerStore.pageSize == 16_384)
        let replicaPath = try Self.temporaryPath("replica.sqlite")
        let replica = try Replica(path: replicaPath)
        try replica.initialise(tenant: "t", cluster: "c", practice: "p", displayName: "New laptop")
        #expect(try Self.pageSize(of: replicaPath) == Replica.pageSize)
        let storePath = try Self.temporaryPath("store.sqlite")
        let store = try SQLiteServerStore(path: storePath)
        try await store.addTenant("t")
        #expect(try Self.pageSize(of: storePath) == SQLiteServerStore.pageSize)
    }

    @Test func aReplicaMadeWithSmallerPagesKeepsThemAndWorks() throws {
        let path = try Self.temporaryPath("old-replica.sqlite")
        try Self.makeOldFile(path)
        let replica = try Replica(path: path)
        try replica.initialise(tenant: "t", cluster: "c", practice: "p", displayName: "Old laptop")
        let id = try replica.create(.risk, edits: [.set("title", .string("Flu clinic capacity"))])
        try replica.edit(id, .set("owner", .string("Practice manager")))
        #expect(try Self.pageSize(of: path) == 4_096)
        #expect(try replica.record(id)?.string("owner") == "Practice manager")
    }

    @Test func aStoreMadeWithSmallerPagesKeepsThemAndWorks() async throws {
        let path = try Self.temporaryPath("old-store.sqlite")
        try Self.makeOldFile(path)
        let store = try SQLiteServerStore(path: path)
        try await store.addTenant("t")
        try await store.addCluster("c", tenant: "t")
        try await store.addPractice("p", cluster: "c", tenant: "t")
        #expect(try Self.pageSize(of: path) == 4_096)
        #expect(try await store.practices(tenant: "t").count == 1)
    }
}
