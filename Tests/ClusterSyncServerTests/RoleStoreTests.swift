import ClusterSyncCore
import ClusterSyncServerTesting
import Foundation
import GRDB
import Testing

@testable import ClusterSyncServer

/// Regions and credential roles in both stores (the SQLite one through its migration), so the
/// in-memory store that session tests use answers as the SQLite one does.
@Suite struct RoleStoreTests {
    typealias Kind = StoreBackend

    /// bcuhb: regions conwy-denbighshire (north-denbighshire, conwy-west) and wrexham-flint (wrexham);
    /// cvuhb: region cardiff (city). A practice in each of two clusters.
    func makeStore(_ kind: Kind) async throws -> any ServerStore {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addTenant("cvuhb")
        try await store.addRegion("conwy-denbighshire", tenant: "bcuhb")
        try await store.addRegion("wrexham-flint", tenant: "bcuhb")
        try await store.addRegion("cardiff", tenant: "cvuhb")
        try await store.addCluster("north-denbighshire", tenant: "bcuhb", region: "conwy-denbighshire")
        try await store.addCluster("conwy-west", tenant: "bcuhb")
        try await store.setRegion("conwy-denbighshire", ofCluster: "conwy-west", tenant: "bcuhb")
        try await store.addCluster("wrexham", tenant: "bcuhb", region: "wrexham-flint")
        try await store.addCluster("city", tenant: "cvuhb", region: "cardiff")
        try await store.addPractice("rhyl", cluster: "north-denbighshire", tenant: "bcuhb")
        try await store.addPractice("llanishen", cluster: "city", tenant: "cvuhb")
        return store
    }

    @Test(arguments: StoreBackend.available) func regionsGroupATenantsClusters(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        #expect(try await store.clusters(ofRegion: "conwy-denbighshire", tenant: "bcuhb") == ["conwy-west", "north-denbighshire"])
        #expect(try await store.region(ofCluster: "wrexham", tenant: "bcuhb") == "wrexham-flint")
        #expect(try await store.regions(tenant: "bcuhb").map(\.name) == ["conwy-denbighshire", "wrexham-flint"])
        #expect(try await store.regions(tenant: nil).count == 3)
        #expect(try await store.clusters(tenant: "bcuhb").map(\.region) == ["conwy-denbighshire", "conwy-denbighshire", "wrexham-flint"])

        // Moving a cluster, and taking it out of every region.
        try await store.setRegion("wrexham-flint", ofCluster: "conwy-west", tenant: "bcuhb")
        #expect(try await store.clusters(ofRegion: "wrexham-flint", tenant: "bcuhb") == ["conwy-west", "wrexham"])
        try await store.setRegion(nil, ofCluster: "conwy-west", tenant: "bcuhb")
        #expect(try await store.region(ofCluster: "conwy-west", tenant: "bcuhb") == nil)

        // Names are per tenant: another tenant's region is unknown here, and nothing crosses.
        await #expect(throws: ClusterSyncError.self) { try await store.clusters(ofRegion: "cardiff", tenant: "bcuhb") }
        await #expect(throws: ClusterSyncError.self) { try await store.setRegion("cardiff", ofCluster: "wrexham", tenant: "bcuhb") }
        await #expect(throws: ClusterSyncError.self) { try await store.addCluster("x", tenant: "bcuhb", region: "cardiff") }
        await #expect(throws: ClusterSyncError.self) { try await store.addRegion("wrexham-flint", tenant: "bcuhb") }
        await #expect(throws: ClusterSyncError.self) { try await store.region(ofCluster: "city", tenant: "bcuhb") }
    }

    @Test(arguments: StoreBackend.available) func credentialsCarryTheirRoleAndRegion(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        let rhyl = PracticePath(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl")
        let lead = try await store.issueToken(for: .practice(rhyl, lead: true), label: "Dr Evans", expiresAt: nil)
        let pcpg = try await store.issueToken(for: .pcpg(tenant: "bcuhb", region: "conwy-denbighshire"), label: "PCPG analyst", expiresAt: nil)
        let board = try await store.issueToken(for: .healthBoard(tenant: "bcuhb"), label: nil, expiresAt: nil)
        let plain = try await store.issueToken(practice: "rhyl", cluster: "north-denbighshire", tenant: "bcuhb", label: nil)

        let leadIdentity = try #require(try await store.authenticate(token: lead))
        #expect(leadIdentity == SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl",
                                                author: "rhyl (Dr Evans)", role: .clusterLead))
        let pcpgIdentity = try #require(try await store.authenticate(token: pcpg))
        #expect(pcpgIdentity.role == .pcpg && pcpgIdentity.region == "conwy-denbighshire" && pcpgIdentity.tenant == "bcuhb")
        #expect(pcpgIdentity.cluster.isEmpty && pcpgIdentity.practice.isEmpty)
        #expect(pcpgIdentity.scopes == ["escalated:bcuhb/conwy-denbighshire", "rollup:bcuhb/conwy-denbighshire"])
        let boardIdentity = try #require(try await store.authenticate(token: board))
        #expect(boardIdentity.role == .healthBoard && boardIdentity.region == nil)
        #expect(try await store.authenticate(token: plain)?.role == .practice)

        let listed = try await store.credentials(tenant: "bcuhb")
        #expect(Set(listed.map(\.holder.description)) == ["bcuhb/north-denbighshire/rhyl", "bcuhb region conwy-denbighshire", "bcuhb"])
        #expect(Set(listed.map(\.role)) == [.clusterLead, .pcpg, .healthBoard, .practice])

        // A region of another tenant, or none at all, is refused; a certificate is a practice's.
        await #expect(throws: ClusterSyncError.self) { try await store.issueToken(for: .pcpg(tenant: "bcuhb", region: "cardiff"), label: nil, expiresAt: nil) }
        await #expect(throws: ClusterSyncError.self) { try await store.issueToken(for: .healthBoard(tenant: "nosuch"), label: nil, expiresAt: nil) }
        await #expect(throws: ClusterSyncError.self) {
            try await store.recordCertificate(serial: "abc", for: rhyl, role: .pcpg, label: nil, expiresAt: nil)
        }
        let certificate = try await store.recordCertificate(serial: "abd", for: rhyl, role: .clusterLead, label: nil, expiresAt: nil)
        #expect(try await store.credential(id: certificate)?.role == .clusterLead)
    }

    /// What a read-only identity gets from the store whatever it asks: no change of any practice
    /// or cluster of its tenant, nothing stored, and never another tenant's.
    @Test(arguments: StoreBackend.available) func readOnlyIdentitiesReadNothingAndWriteNothing(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", author: "rhyl")
        let shared = Change(id: ChangeID(replica: ReplicaID("00000000000000a1")!, counter: 1), hlc: HLCTimestamp(millis: 1_790_000_000_000),
                            record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"),
                            field: "title", value: .string("Winter locum gap"))
        _ = try await store.push([shared], as: rhyl)
        for identity in [SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy-denbighshire", author: "pcpg"),
                         SessionIdentity.oversight(tenant: "bcuhb", role: .healthBoard, region: nil, author: "health-board")] {
            #expect(try await store.pull(for: identity, after: nil, limit: 100).changes.isEmpty)
            #expect(!identity.mayAccess(shared.scope))
            var mine = shared
            mine.id = ChangeID(replica: ReplicaID("00000000000000b2")!, counter: 1)
            await #expect(throws: PushRejection.self) { try await store.push([mine], as: identity) }
        }
        #expect(try await store.pull(for: rhyl, after: nil, limit: 100).changes.count == 1)
    }

    /// A store from before roles (migration v4) keeps its credentials, each now a practice's,
    /// revoked and expiring as they were; its clusters are in no region.
    @Test func aStoreFromBeforeRolesIsMigrated() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-roles-old-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = try DatabaseQueue(path: path)
        try SQLiteServerSchema.migrator.migrate(old, upTo: "v4: credential lifecycle and session log")
        try await old.write { db in
            try db.execute(sql: """
                INSERT INTO tenant (name) VALUES ('bcuhb');
                INSERT INTO tenant_sequence (tenant, last) VALUES ('bcuhb', 0);
                INSERT INTO cluster (tenant, name) VALUES ('bcuhb', 'north');
                INSERT INTO practice (tenant, cluster, name) VALUES ('bcuhb', 'north', 'rhyl');
                INSERT INTO credential (id, tenant, cluster, practice, label, secret_hash, created_at, revoked, kind, serial, expires_at, revoked_at)
                    VALUES ('crt_ab', 'bcuhb', 'north', 'rhyl', 'Dr Jones', x'', 1000, 1, 'certificate', 'ab', 9000, 2000);
                """)
        }
        try old.close()
        let migrated = try SQLiteServerStore(path: path)
        let record = try #require(try await migrated.credential(serial: "ab", tenant: "bcuhb"))
        #expect(record == CredentialRecord(id: "crt_ab", practice: PracticePath(tenant: "bcuhb", cluster: "north", practice: "rhyl"),
                                           label: "Dr Jones", kind: .certificate, serial: "ab", createdAt: 1000, expiresAt: 9000,
                                           revokedAt: 2000, role: .practice))
        #expect(try await migrated.clusters(tenant: "bcuhb") == [ClusterPath(tenant: "bcuhb", cluster: "north")])
        try await migrated.addRegion("conwy", tenant: "bcuhb")
        try await migrated.setRegion("conwy", ofCluster: "north", tenant: "bcuhb")
        #expect(try await migrated.clusters(ofRegion: "conwy", tenant: "bcuhb") == ["north"])
    }
}
