import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// `ServerStore.conflicts`: a tenant's open conflicts from the materialised state, and nobody else's.
@Suite struct ServerConflictsTests {
    let directory: URL
    let store: any ServerStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-conflicts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
    }

    /// The same tests against another backend (StoreBackend).
    init(store: any ServerStore) {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-conflicts-\(UUID().uuidString)")
        self.store = store
    }

    /// One replica's changes: increasing counters and clock.
    final class Maker {
        let replica = ReplicaID.random()
        var counter: Int64 = 0

        func change(_ record: RecordID, _ scope: RecordScope, _ field: String, _ value: JSONValue, supersedes: [Change] = []) -> Change {
            counter += 1
            return Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_763_900_000_000 + counter),
                          record: record, scope: scope, field: field, value: value, supersedes: supersedes.map(\.id))
        }
    }

    static func identity(_ tenant: String, _ cluster: String, _ practice: String) -> SessionIdentity {
        SessionIdentity(tenant: tenant, cluster: cluster, practice: practice, author: practice)
    }

    /// A record that `first` creates and `first` and `second` then retitle concurrently.
    func conflict(of type: RecordType = .risk, _ scope: RecordScope, first: SessionIdentity, second: SessionIdentity,
                  extra: [(String, JSONValue)] = []) async throws -> RecordID {
        let id = RecordID.random(for: type)
        let a = Maker(), b = Maker()
        let field = type == .item ? "text" : "title"
        let created = a.change(id, scope, field, .string("First"))
        _ = try await store.push([created] + extra.map { a.change(id, scope, $0.0, $0.1) }, as: first)
        _ = try await store.push([a.change(id, scope, field, .string("From A"), supersedes: [created])], as: first)
        _ = try await store.push([b.change(id, scope, field, .string("From B"), supersedes: [created])], as: second)
        return id
    }

    @Test(arguments: StoreBackend.persistent) func aTenantsOpenConflictsSharedRecordsOnlyAndNoOtherTenants(_ backend: StoreBackend) async throws {
        try await Self(store: try await backend.make()).aTenantsOpenConflictsSharedRecordsOnlyAndNoOtherTenants()
    }

    func aTenantsOpenConflictsSharedRecordsOnlyAndNoOtherTenants() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.addTenant("bcuhb")
        try await store.addTenant("cvuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addCluster("south", tenant: "bcuhb")
        try await store.addCluster("city", tenant: "cvuhb")
        let rhyl = Self.identity("bcuhb", "north", "rhyl"), prestatyn = Self.identity("bcuhb", "north", "prestatyn")
        let llandudno = Self.identity("bcuhb", "south", "llandudno"), cardiff = Self.identity("cvuhb", "city", "llanishen")
        let north = RecordScope(tenant: "bcuhb", cluster: "north")

        let agenda = RecordID.random(for: .list)
        _ = try await store.push([Maker().change(agenda, north, "title", .string("Cluster board"))], as: rhyl)
        let risk = try await conflict(north, first: rhyl, second: prestatyn)
        let item = try await conflict(of: .item, north, first: rhyl, second: prestatyn, extra: [("list", .string(agenda.rawValue))])
        _ = try await conflict(RecordScope(tenant: "bcuhb", cluster: "north", practice: "rhyl"), first: rhyl, second: rhyl)
        let south = try await conflict(RecordScope(tenant: "bcuhb", cluster: "south"), first: llandudno, second: llandudno)
        let city = RecordScope(tenant: "cvuhb", cluster: "city")
        let cardiffRisk = try await conflict(city, first: cardiff, second: cardiff)
        // An item of another tenant naming bcuhb's list: its list's title must not cross over.
        let intruder = try await conflict(of: .item, city, first: cardiff, second: cardiff, extra: [("list", .string(agenda.rawValue))])
        // Settled: written again by a replica that saw both values.
        let settled = try await conflict(north, first: rhyl, second: prestatyn)
        let m = Maker()
        let both = try await store.conflicts(tenant: "bcuhb", cluster: "north").first { $0.record.id == settled }
        let seen = try #require(both).record.liveIDs("title")
        var write = m.change(settled, north, "title", .string("Settled"))
        write.supersedes = seen
        // Settling prestatyn's value against rhyl's is the cluster lead's (LeadPowers).
        var lead = rhyl
        lead.role = .clusterLead
        _ = try await store.push([write], as: lead)

        let bcuhb = try await store.conflicts(tenant: "bcuhb", cluster: nil)
        #expect(bcuhb.map(\.record.id) == [risk, item, south].sorted(), "open, shared, this tenant's, sorted by id")
        let itemSummary = try #require(bcuhb.first { $0.record.id == item })
        #expect(itemSummary.list?.id == agenda)
        #expect(itemSummary.title == "From A", "an item is named by its text, the default winner (the later clock)")
        #expect(itemSummary.conflicts.map(\.field) == ["text"])
        #expect(Set(itemSummary.conflicts.first?.values.compactMap(\.author) ?? []) == ["rhyl", "prestatyn"])
        #expect(bcuhb.first { $0.record.id == risk }?.list == nil)

        #expect(try await store.conflicts(tenant: "bcuhb", cluster: "north").map(\.record.id) == [risk, item].sorted())
        #expect(try await store.conflicts(tenant: "bcuhb", cluster: "south").map(\.record.id) == [south])
        let cvuhb = try await store.conflicts(tenant: "cvuhb", cluster: nil)
        #expect(cvuhb.map(\.record.id) == [cardiffRisk, intruder].sorted())
        #expect(cvuhb.first { $0.record.id == intruder }?.list == nil)
        #expect(cvuhb.allSatisfy { $0.record.scope.tenant == "cvuhb" })

        await #expect(throws: ClusterSyncError.self) { try await store.conflicts(tenant: "powys", cluster: nil) }
        await #expect(throws: ClusterSyncError.self) { try await store.conflicts(tenant: "bcuhb", cluster: "city") }
    }
}
