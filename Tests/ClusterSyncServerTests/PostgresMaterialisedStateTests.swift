import ClusterSyncClient
import ClusterSyncClientTesting
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import PostgresNIO
import Testing

/// The PostgreSQL store's materialised state (migration v3): a store from before it is migrated
/// by replaying its log, to the rows a store that kept them from the start holds.
@Suite struct PostgresMaterialisedStateTests {
    static let tenant = CompactionConvergenceTests.tenant, cluster = CompactionConvergenceTests.cluster

    @Test(.enabled(if: StoreBackend.available.contains(.postgres)))
    func migratingAStoreFromBeforeBuildsTheSameStateFromItsLog() async throws {
        var rng = SplitMix64(seed: 7)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pgstate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try await CompactionConvergenceTests.makeStore(TestPostgres.freshStore())
        let sqlite = try await CompactionConvergenceTests.makeStore(SQLiteServerStore(path: dir.appendingPathComponent("s.sqlite").path))
        var sessions: [InProcessSync] = []
        for (i, practice) in ["prestatyn", "rhyl"].enumerated() {
            let replica = try Replica(path: dir.appendingPathComponent("r\(i).sqlite").path)
            try replica.initialise(tenant: Self.tenant, cluster: Self.cluster, practice: practice, displayName: "Manager, \(practice)")
            sessions.append(InProcessSync(replica: replica, identity: CompactionConvergenceTests.identity(practice), store: store, mirror: sqlite))
        }
        for step in 0..<120 {
            let i = step % 2
            try RandomEdits.perform(on: sessions[i].replica, using: &rng)
            if Int.random(in: 0..<3, using: &rng) == 0 { try await sessions[i].sync() }
        }
        for session in sessions { try await session.sync() }
        let identities = ["prestatyn", "rhyl"].map(CompactionConvergenceTests.identity)
        var before: [[[Change]]] = []
        for identity in identities {
            let pages = try await CompactionConvergenceTests.snapshotPages(store, identity, limit: 4)
            #expect(pages == (try await CompactionConvergenceTests.snapshotPages(sqlite, identity, limit: 4)), "as SQLite gives them")
            #expect(pages.joined().count > 20, "the workload is about something")
            before.append(pages)
        }

        // Back to the schema of v2 (what a store from before v3 has), then migrate again.
        for statement in [
            "DROP TABLE field_write", "DROP TABLE replica_number", "DROP TABLE orphan_supersede", "DROP TABLE compaction",
            "DROP TABLE compaction_mark", "ALTER TABLE record DROP COLUMN parent", "DELETE FROM schema_migrations WHERE version LIKE 'v3%'",
        ] {
            try await store.client.query(PostgresQuery(unsafeSQL: statement))
        }
        #expect(try await store.migrate() == [PostgresServerStore.migrationVersions[2]])
        for (identity, pages) in zip(identities, before) {
            #expect(try await CompactionConvergenceTests.snapshotPages(store, identity, limit: 4) == pages, "\(identity.practice)")
        }
        // And the migrated store goes on as the other: more edits, the same state.
        for step in 0..<40 {
            let i = step % 2
            try RandomEdits.perform(on: sessions[i].replica, using: &rng)
            try await sessions[i].sync()
        }
        for session in sessions { try await session.sync() }
        for identity in identities {
            #expect(try await CompactionConvergenceTests.snapshotPages(store, identity, limit: 4)
                    == CompactionConvergenceTests.snapshotPages(sqlite, identity, limit: 4))
        }
        #expect(try await store.conflicts(tenant: Self.tenant, cluster: nil) == sqlite.conflicts(tenant: Self.tenant, cluster: nil))
    }
}
