@testable import ClusterSyncServer
import ClusterSyncStorage
import Foundation
import GRDB
import Testing

/// The server store's commits reach the disk before they are acknowledged (`synchronous =
/// FULL` on the connection that commits), while a replica's commit costs no fsync (`NORMAL`).
/// GRDB's pool sets its writer to NORMAL when it turns WAL on, after the connection's own set-up,
/// which once left the server acknowledging pushes that a power cut could still take away.
@Suite struct StoreDurabilityTests {
    static func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-durability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("store.sqlite").path
    }

    static func writerSynchronous(_ pool: DatabasePool) throws -> Int? {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }

    @Test func theServerStoreCommitsWithAnFsync() async throws {
        let store = try SQLiteServerStore(path: try Self.temporaryPath())
        #expect(try Self.writerSynchronous(store.database) == 2, "FULL: an ack means on disk")
        // Inside a write transaction too (the group commit's).
        let inTransaction = try await store.database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(inTransaction == 2)
    }

    @Test func eachDurabilityIsTheOneAskedFor() throws {
        for (durability, expected) in [(DatabaseSetup.Durability.full, 2), (.normal, 1)] {
            let pool = try DatabaseSetup.openPool(path: try Self.temporaryPath(), migrator: DatabaseMigrator(), what: "test file",
                                                  durability: durability, pageSize: nil)
            #expect(try Self.writerSynchronous(pool) == expected, "\(durability)")
        }
    }
}
