import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB
import Testing

@testable import ClusterSyncServer

/// Change ids, replica ids and record ids are keyed within a tenant and cluster, and a replica id
/// belongs to the practice that first pushed as it (Protocol/PROTOCOL.md §6): nothing one tenant
/// or practice pushes can drop, refuse or reveal another's changes.
@Suite struct TenantScopedIdentityTests {
    let directory: URL
    let path: String
    let store: any ServerStore
    let replica = ReplicaID("5f0c9e1a2b3c4d5e")!
    let record = RecordID("RSK-7K3M9Q2X1A")!

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("server.sqlite").path
        store = try SQLiteServerStore(path: path)
    }

    /// The same tests against another backend (StoreBackend).
    init(store: any ServerStore) {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-identity-\(UUID().uuidString)")
        path = directory.appendingPathComponent("server.sqlite").path
        self.store = store
    }

    func identity(_ tenant: String, _ cluster: String, _ practice: String) async throws -> SessionIdentity {
        let token = try await store.issueToken(practice: practice, cluster: cluster, tenant: tenant, label: nil)
        return try #require(try await store.authenticate(token: token))
    }

    func change(_ counter: Int64, _ scope: RecordScope, value: String, field: String = "title", replica: ReplicaID? = nil,
                record: RecordID? = nil) -> Change {
        Change(id: ChangeID(replica: replica ?? self.replica, counter: counter), hlc: HLCTimestamp(millis: 1_795_424_400_000 + counter),
               record: record ?? self.record, scope: scope, field: field, value: .string(value))
    }

    func values(_ identity: SessionIdentity) async throws -> [String] {
        try await store.pull(for: identity, after: nil, limit: 100).changes.compactMap(\.value?.stringValue)
    }

    @Test func twoTenantsPushingCollidingChangeAndRecordIdsBothKeepTheirOwn() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        for tenant in ["bcuhb", "powys"] {
            try await store.addTenant(tenant)
            try await store.addCluster("north", tenant: tenant)
            try await store.addPractice("rhyl", cluster: "north", tenant: tenant)
        }
        let bcuhb = try await identity("bcuhb", "north", "rhyl")
        let powys = try await identity("powys", "north", "rhyl")
        let bcuhbShared = RecordScope(tenant: "bcuhb", cluster: "north")
        let powysPrivate = RecordScope(tenant: "powys", cluster: "north", practice: "rhyl")

        // The same replica id, change ids and record id in both tenants; the record is shared
        // in one and private in the other.
        #expect(try await store.push([change(1, bcuhbShared, value: "Estates lease"), change(2, bcuhbShared, value: "Estates lease renewal")],
                                     as: bcuhb, from: replica) == PushOutcome(accepted: 2, duplicates: 0))
        #expect(try await store.push([change(1, powysPrivate, value: "Phones"), change(2, powysPrivate, value: "Phone system")],
                                     as: powys, from: replica) == PushOutcome(accepted: 2, duplicates: 0))
        #expect(try await values(bcuhb) == ["Estates lease", "Estates lease renewal"])
        #expect(try await values(powys) == ["Phones", "Phone system"])

        // Each tenant's materialised record is its own, in its own scope.
        let scopes = try await DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT tenant, practice FROM record WHERE id = ? ORDER BY tenant", arguments: [record.rawValue])
                .map { "\($0["tenant"] as String)/\(($0["practice"] as String?) ?? "shared")" }
        }
        #expect(scopes == ["bcuhb/shared", "powys/rhyl"])

        // A later write to the record in one tenant is not refused because of the other's.
        #expect(try await store.push([change(3, bcuhbShared, value: "Lease signed")], as: bcuhb, from: replica).accepted == 1)
        #expect(try await store.push([change(3, powysPrivate, value: "Phones fixed")], as: powys, from: replica).accepted == 1)
    }

    @Test(arguments: StoreBackend.persistent) func clustersOfOneTenantKeepTheirOwnIdsToo(_ backend: StoreBackend) async throws {
        try await Self(store: try await backend.make()).clustersOfOneTenantKeepTheirOwnIdsToo()
    }

    func clustersOfOneTenantKeepTheirOwnIdsToo() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.addTenant("bcuhb")
        for cluster in ["north", "south"] {
            try await store.addCluster(cluster, tenant: "bcuhb")
            try await store.addPractice("p1", cluster: cluster, tenant: "bcuhb")
        }
        let north = try await identity("bcuhb", "north", "p1")
        let south = try await identity("bcuhb", "south", "p1")
        #expect(try await store.push([change(1, RecordScope(tenant: "bcuhb", cluster: "north"), value: "N")], as: north, from: replica).accepted == 1)
        // The same replica and change ids in the other cluster are its own; a record's id is
        // unique within the tenant (`ChangeAdmission.idTakenInAnotherCluster`), so its own record.
        #expect(try await store.push([change(1, RecordScope(tenant: "bcuhb", cluster: "south", practice: "p1"), value: "S",
                                             record: RecordID("RSK-0000000002")!)],
                                     as: south, from: replica).accepted == 1)
        #expect(try await values(north) == ["N"])
        #expect(try await values(south) == ["S"])
    }

    @Test(arguments: StoreBackend.persistent) func anotherPracticeCannotSuppressAReplicasGenuineLaterChanges(_ backend: StoreBackend) async throws {
        try await Self(store: try await backend.make()).anotherPracticeCannotSuppressAReplicasGenuineLaterChanges()
    }

    func anotherPracticeCannotSuppressAReplicasGenuineLaterChanges() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        let rhyl = try await identity("bcuhb", "north", "rhyl")
        let prestatyn = try await identity("bcuhb", "north", "prestatyn")
        let prestatynReplica = ReplicaID("00000000000000b1")!
        let shared = RecordScope(tenant: "bcuhb", cluster: "north")

        // Rhyl pushes as its replica: the replica id is now Rhyl's in this cluster.
        #expect(try await store.push([change(1, shared, value: "Locum cover")], as: rhyl, from: replica).accepted == 1)

        // Prestatyn pushes a change claiming Rhyl's replica and the id Rhyl will use next.
        let forged = change(2, shared, value: "Forged")
        let refused = await #expect(throws: PushRejection.self) { try await store.push([forged], as: prestatyn, from: prestatynReplica) }
        #expect(refused?.error.code == .forbiddenScope && refused?.change == forged.id)
        #expect(refused?.error.message.contains("another practice's replica") == true)
        // Nor as if it were its own session's replica.
        _ = await #expect(throws: PushRejection.self) { try await store.push([forged], as: prestatyn, from: replica) }

        // Rhyl's genuine change with that id is stored, not dropped as a duplicate.
        #expect(try await store.push([change(2, shared, value: "Locum cover, winter")], as: rhyl, from: replica)
            == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await values(rhyl) == ["Locum cover", "Locum cover, winter"])

        // Prestatyn's own replica is its own: Rhyl cannot claim it either.
        #expect(try await store.push([change(1, shared, value: "Prestatyn's", replica: prestatynReplica, record: RecordID("RSK-0000000001")!)],
                                     as: prestatyn, from: prestatynReplica).accepted == 1)
        _ = await #expect(throws: PushRejection.self) {
            try await store.push([change(2, shared, value: "x", replica: prestatynReplica)], as: rhyl, from: replica)
        }
    }

    @Test(arguments: StoreBackend.persistent) func aByteIdenticalRelayIsADuplicateAndAnAlteredOneIsRefused(_ backend: StoreBackend) async throws {
        try await Self(store: try await backend.make()).aByteIdenticalRelayIsADuplicateAndAnAlteredOneIsRefused()
    }

    func aByteIdenticalRelayIsADuplicateAndAnAlteredOneIsRefused() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        let rhyl = try await identity("bcuhb", "north", "rhyl")
        let prestatyn = try await identity("bcuhb", "north", "prestatyn")
        let prestatynReplica = ReplicaID("00000000000000b1")!
        let shared = RecordScope(tenant: "bcuhb", cluster: "north")

        let genuine = change(1, shared, value: "Locum cover")
        #expect(try await store.push([genuine], as: rhyl, from: replica).accepted == 1)
        // Prestatyn merged Rhyl's file offline and relays the change: the author it carries is
        // not part of the comparison (the server stamps it).
        var relayed = genuine
        relayed.author = "Manager, Rhyl"
        #expect(try await store.push([relayed], as: prestatyn, from: prestatynReplica) == PushOutcome(accepted: 0, duplicates: 1))
        var altered = genuine
        altered.value = .string("Locum cover cancelled")
        let refused = await #expect(throws: PushRejection.self) { try await store.push([altered], as: prestatyn, from: prestatynReplica) }
        #expect(refused?.error.code == .forbiddenScope)
        #expect(try await values(rhyl) == ["Locum cover"])
    }

    /// What replica binding leaves open (PROTOCOL.md §6): before a replica has pushed as itself,
    /// a relay of its ids is stored like any relay, stamped "via" the relaying practice.
    @Test(arguments: StoreBackend.persistent) func aRelayForAReplicaNoPracticeOwnsYetIsStoredAsARelay(_ backend: StoreBackend) async throws {
        try await Self(store: try await backend.make()).aRelayForAReplicaNoPracticeOwnsYetIsStoredAsARelay()
    }

    func aRelayForAReplicaNoPracticeOwnsYetIsStoredAsARelay() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        let prestatyn = try await identity("bcuhb", "north", "prestatyn")
        let shared = RecordScope(tenant: "bcuhb", cluster: "north")
        var relayed = change(1, shared, value: "Handed over")
        relayed.author = "Manager, Rhyl"
        #expect(try await store.push([relayed], as: prestatyn, from: ReplicaID("00000000000000b1")!).accepted == 1)
        let stored = try await store.pull(for: prestatyn, after: nil, limit: 10).changes
        #expect(stored.map(\.author) == ["Manager, Rhyl via prestatyn"])
    }

    /// A store written before identities were scoped (migration v1 only) is migrated: each
    /// tenant keeps its changes, and a replica id used in two tenants becomes two.
    @Test func aStoreFromBeforeIsMigrated() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let oldPath = directory.appendingPathComponent("old.sqlite").path
        let old = try DatabaseQueue(path: oldPath)
        try SQLiteServerSchema.migrator.migrate(old, upTo: "v1")
        let a = RecordScope(tenant: "bcuhb", cluster: "north"), b = RecordScope(tenant: "powys", cluster: "north")
        let first = change(1, a, value: "In bcuhb"), second = change(2, b, value: "In powys", record: RecordID("RSK-0000000002")!)
        try await old.write { db in
            for tenant in ["bcuhb", "powys"] {
                try db.execute(sql: "INSERT INTO tenant (name) VALUES (?)", arguments: [tenant])
                try db.execute(sql: "INSERT INTO tenant_sequence (tenant, last) VALUES (?, 1)", arguments: [tenant])
                try db.execute(sql: "INSERT INTO cluster (tenant, name) VALUES (?, 'north')", arguments: [tenant])
                try db.execute(sql: "INSERT INTO practice (tenant, cluster, name) VALUES (?, 'north', 'rhyl')", arguments: [tenant])
            }
            for change in [first, second] {
                try db.execute(sql: "INSERT INTO log (tenant, seq, cluster, practice, replica, counter, change_json) VALUES (?, 1, 'north', NULL, ?, ?, ?)",
                               arguments: [change.scope.tenant, change.id.replica.rawValue, change.id.counter, change.jsonText])
            }
            // The materialised state as v1 wrote it (no signature column yet).
            try MaterialisedStateSchema.addSignatures(db)
            var writer = try ChangeWriter(db)
            _ = try writer.apply([first, second])
            try db.execute(sql: "ALTER TABLE change DROP COLUMN sig")
        }
        try old.close()

        let migrated = try SQLiteServerStore(path: oldPath)
        func token(_ tenant: String) async throws -> SessionIdentity {
            try #require(try await migrated.authenticate(token: migrated.issueToken(practice: "rhyl", cluster: "north", tenant: tenant, label: nil)))
        }
        let bcuhb = try await token("bcuhb"), powys = try await token("powys")
        #expect(try await migrated.pull(for: bcuhb, after: nil, limit: 10).changes.map(\.id) == [first.id])
        #expect(try await migrated.pull(for: powys, after: nil, limit: 10).changes.map(\.id) == [second.id])
        // 2@replica exists in powys only: in bcuhb it is new.
        #expect(try await migrated.push([change(2, a, value: "Later in bcuhb")], as: bcuhb, from: replica) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await migrated.push([second], as: powys, from: replica) == PushOutcome(accepted: 0, duplicates: 1))
        let replicas = try await DatabaseQueue(path: oldPath).read { db in
            try String.fetchAll(db, sql: "SELECT tenant FROM replica WHERE id = ? ORDER BY tenant", arguments: [replica.rawValue])
        }
        #expect(replicas == ["bcuhb", "powys"])
        let live = try await DatabaseQueue(path: oldPath).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM change c JOIN replica r ON r.num = c.replica JOIN record rec ON rec.num = c.record WHERE r.tenant = rec.tenant")!
        }
        #expect(live == 3)
    }
}
