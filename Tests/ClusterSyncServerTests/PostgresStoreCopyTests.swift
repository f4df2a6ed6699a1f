import ClusterSyncClient
import ClusterSyncClientTesting
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import Testing

/// `clustersyncd copy-to-postgres`'s copy (`PostgresServerStore.copy(from:)`): a SQLite store
/// with compacted history, a redaction, credentials of every role, replica keys and a session
/// log, copied into a fresh PostgreSQL store, answers every question as the SQLite store does,
/// and both go on alike when the same pushes follow.
@Suite(.enabled(if: StoreBackend.available.contains(.postgres))) struct PostgresStoreCopyTests {
    typealias Fixture = CompactionConvergenceTests
    static let today = CalendarDate(year: 2026, month: 11, day: 23)

    @Test(arguments: [7, 2026] as [UInt64]) func aCopiedStoreAnswersAsTheSQLiteStoreDid(seed: UInt64) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sqlite = try await Fixture.makeStore(SQLiteServerStore(path: dir.appendingPathComponent("store.sqlite").path))
        let plain = try await Fixture.makeStore(SQLiteServerStore(path: dir.appendingPathComponent("plain.sqlite").path))
        try await Fixture.property(seed: seed, compacting: sqlite, plain: plain, in: dir)

        // What an operator adds besides changes: a region, a pharmacy, credentials of each role
        // and kind, revocations, a replica key, session log entries, and a redaction.
        try await sqlite.addRegion("conwy-denbighshire", tenant: Fixture.tenant)
        try await sqlite.addPractice("boots-rhyl", cluster: Fixture.cluster, tenant: Fixture.tenant, kind: .pharmacy)
        try await sqlite.setRegion("conwy-denbighshire", ofCluster: Fixture.cluster, tenant: Fixture.tenant)
        let prestatyn = PracticePath(tenant: Fixture.tenant, cluster: Fixture.cluster, practice: "prestatyn")
        let token = try await sqlite.issueToken(for: .practice(prestatyn), label: "Practice manager", expiresAt: nil)
        let pcpgToken = try await sqlite.issueToken(for: .pcpg(tenant: Fixture.tenant, region: "conwy-denbighshire"), label: nil, expiresAt: nil)
        let revoked = try await sqlite.issueToken(for: .practice(prestatyn, lead: true), label: "Lost laptop", expiresAt: nil)
        _ = try await sqlite.revokeCredential(id: try #require(try await sqlite.credential(token: revoked)).id)
        _ = try await sqlite.recordCertificate(serial: "0a1b2c", for: prestatyn, role: .practice, label: "Reception PC", expiresAt: nil)
        try await sqlite.revokeCertificate(serial: "ffee01", tenant: Fixture.tenant)
        try await sqlite.recordAudit(AuditEntry(at: 1_000, event: .connected, tenant: Fixture.tenant, cluster: Fixture.cluster,
                                                practice: "prestatyn", credential: "abc", peer: "127.0.0.1:50000"), keepAfter: 0)
        try await sqlite.recordAudit(AuditEntry(at: 2_000, event: .refused, peer: "127.0.0.1:50001", code: "unauthenticated",
                                                message: "unknown token"), keepAfter: 0)
        let redactor = try Replica(path: dir.appendingPathComponent("r0.sqlite").path)
        _ = try await sqlite.registerReplicaKey(try redactor.publicKey(), replica: try redactor.identity().replicaID,
                                                session: Fixture.identity("prestatyn"), person: "Practice manager")
        // A lost laptop's replica, retired: it stays retired on the copy.
        let lost = ReplicaID("00000000000000e1")!
        _ = try await sqlite.registerReplicaKey(ReplicaSigningKey().publicKey, replica: lost, session: Fixture.identity("prestatyn"), person: "Lost laptop")
        _ = try await sqlite.retireReplica(lost, tenant: Fixture.tenant, cluster: nil, at: 1_800_000_000_000)
        let sync = InProcessSync(replica: redactor, identity: Fixture.identity("prestatyn"), store: sqlite, mirror: nil)
        let own = try redactor.identity().replicaID
        let target = try #require(try redactor.allChanges().last { $0.id.replica == own && $0.field == "title" && $0.value != nil })
        _ = try redactor.redact(target.record, field: "title", change: target.id, reason: "a patient's name")
        try await sync.sync()

        let postgres = try await TestPostgres.freshStore()
        let report = try await postgres.copy(from: sqlite)
        #expect(report.rows(of: "log") > 0 && report.rows(of: "field_write") > 0 && report.rows(of: "ledger") == report.rows(of: "log"))
        #expect(report.rows(of: "credential") == 4 && report.rows(of: "audit") == 2 && report.rows(of: "replica_key") == 2)
        #expect(try await postgres.registeredReplicas(tenant: Fixture.tenant, cluster: nil) == sqlite.registeredReplicas(tenant: Fixture.tenant, cluster: nil))
        #expect(try await postgres.registeredReplicas(tenant: Fixture.tenant, cluster: nil).first { $0.registration.replica == lost }?.registration.retiredAt
                == 1_800_000_000_000)
        #expect(report.rows(of: "redaction") == 1 && report.rows(of: "compaction") == 1 && report.rows(of: "rollup_contribution") > 0)
        try await Self.expectSameAnswers(postgres, sqlite, "seed \(seed), copied")

        // Tokens work on the copy; what was revoked stays revoked.
        #expect(try await postgres.authenticate(token: token) == sqlite.authenticate(token: token))
        #expect(try await postgres.authenticate(token: token) != nil)
        #expect(try await postgres.authenticate(token: pcpgToken)?.role == .pcpg)
        #expect(try await postgres.authenticate(token: revoked) == nil)
        #expect(try await postgres.isRevoked(serial: "ffee01", tenant: Fixture.tenant))

        // Both go on alike: the same edits pushed to each, by the replicas that made the history
        // (their cursors belong to the copy too) and by a new one.
        var rng = SplitMix64(seed: seed &+ 1)
        for (i, practice) in ["prestatyn", "rhyl", "prestatyn", "rhyl"].enumerated() {
            let path = dir.appendingPathComponent(i < 3 ? "r\(i).sqlite" : "new.sqlite").path
            let replica = try Replica(path: path)
            if i == 3 { try replica.initialise(tenant: Fixture.tenant, cluster: Fixture.cluster, practice: practice, displayName: "New") }
            for _ in 0..<5 { try RandomEdits.perform(on: replica, using: &rng) }
            let pending = try replica.outbox(limit: 1_000)
            let identity = Fixture.identity(practice)
            let a = try await sqlite.push(pending, as: identity, from: try replica.identity().replicaID)
            let b = try await postgres.push(pending, as: identity, from: try replica.identity().replicaID)
            #expect(a.accepted == b.accepted && a.duplicates == b.duplicates && a.superseded == b.superseded, "seed \(seed), push \(i)")
        }
        try await Self.expectSameAnswers(postgres, sqlite, "seed \(seed), after more pushes", sameChain: false)

        // A second copy into the same database is refused, and leaves it as it was.
        await #expect(throws: ClusterSyncError.self) { try await postgres.copy(from: sqlite) }
        #expect(try await postgres.currentCursor(tenant: Fixture.tenant) == sqlite.currentCursor(tenant: Fixture.tenant))
    }

    /// What replicas, operators and oversight sessions are told, asked of both stores.
    static func expectSameAnswers(_ postgres: PostgresServerStore, _ sqlite: SQLiteServerStore, _ context: String,
                                  sameChain: Bool = true) async throws {
        let tenant = Fixture.tenant
        #expect(try await postgres.storeIdentity() == sqlite.storeIdentity(), "\(context)")
        #expect(try await postgres.tenants() == sqlite.tenants(), "\(context)")
        #expect(try await postgres.clusters(tenant: nil) == sqlite.clusters(tenant: nil), "\(context)")
        #expect(try await postgres.regions(tenant: nil) == sqlite.regions(tenant: nil), "\(context)")
        #expect(try await postgres.practices(tenant: nil) == sqlite.practices(tenant: nil), "\(context)")
        #expect(try await postgres.credentials(tenant: nil) == sqlite.credentials(tenant: nil), "\(context)")
        #expect(try await postgres.audit(tenant: nil, since: nil, limit: 100) == sqlite.audit(tenant: nil, since: nil, limit: 100), "\(context)")
        #expect(try await postgres.currentCursor(tenant: tenant) == sqlite.currentCursor(tenant: tenant), "\(context)")
        #expect(try await postgres.compaction(tenant: tenant) == sqlite.compaction(tenant: tenant), "\(context)")
        let chain = try await postgres.verifyChain(tenant: tenant, expectedHead: nil)
        #expect(chain.isIntact, "\(context): \(chain.problems)")
        // The same chain, entry for entry; pushed separately afterwards, each entry has its own
        // random salt, so only the length and the compaction still agree.
        let sqliteChain = try await sqlite.verifyChain(tenant: tenant, expectedHead: nil)
        #expect(sameChain ? chain == sqliteChain : (chain.entries, chain.compaction) == (sqliteChain.entries, sqliteChain.compaction), "\(context)")
        #expect(try await postgres.conflicts(tenant: tenant, cluster: nil) == sqlite.conflicts(tenant: tenant, cluster: nil), "\(context)")
        #expect(try await postgres.rollup(tenant: tenant, region: nil, today: today) == sqlite.rollup(tenant: tenant, region: nil, today: today),
                "\(context)")
        for practice in ["prestatyn", "rhyl"] {
            let identity = Fixture.identity(practice)
            #expect(try await Fixture.snapshotPages(postgres, identity, limit: 7) == Fixture.snapshotPages(sqlite, identity, limit: 7),
                    "\(context), \(practice)")
            // A pull from where the compaction left the stream, page by page.
            var cursor = try await sqlite.compaction(tenant: tenant).map { StreamCursor.cursor(at: $0.throughSeq) }
            while true {
                let a = try await postgres.pull(for: identity, after: cursor, limit: 11)
                let b = try await sqlite.pull(for: identity, after: cursor, limit: 11)
                #expect(a.changes.map(\.jsonText) == b.changes.map(\.jsonText) && a.cursor == b.cursor && a.more == b.more, "\(context), \(practice)")
                cursor = b.cursor
                if !b.more { break }
            }
        }
        let pcpg = SessionIdentity.oversight(tenant: tenant, role: .pcpg, region: "conwy-denbighshire", author: "pcpg")
        if try await sqlite.region(ofCluster: Fixture.cluster, tenant: tenant) != nil {
            let from = try await sqlite.compaction(tenant: tenant).map { StreamCursor.cursor(at: $0.throughSeq) }
            let a = try await postgres.pull(for: pcpg, after: from, limit: 1_000)
            let b = try await sqlite.pull(for: pcpg, after: from, limit: 1_000)
            #expect(a.changes.map(\.jsonText) == b.changes.map(\.jsonText) && a.oversight == b.oversight, "\(context), PCPG")
        }
    }
}
