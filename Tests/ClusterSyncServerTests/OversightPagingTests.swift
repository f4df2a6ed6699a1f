import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// A read-only session's pull is paged like a practice's (PROTOCOL.md §7.1, `OversightPaging`):
/// at most `limit` changes and `PageBudget.maxBytes` of text a page, whatever a practice
/// escalated, the last page listing every record the session may hold (with the roll-up), and
/// its cursor naming the stream position the first page read. On every store.
@Suite struct OversightPagingTests {
    let fixture = OversightReadTests()
    let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")

    /// Each cluster of the region: a risk escalated to the PCPG with five changes and an action
    /// it is the source of with two: 14 changes in all.
    func escalateInBoth(_ store: any ServerStore) async throws {
        try await fixture.regionOfTwo(store)
        for (cluster, risk, action) in [("conwy-west", "RSK-7K3M9Q2X1A", "ACT-4F8R2M6W0Z"), ("conwy-east", "RSK-3C5E7G9K1M", "ACT-2B4D6F8H0J")] {
            let c = { (n: Int64, record: String, field: String, value: JSONValue, sup: [Int64]) in
                fixture.change(n, record, field, value, cluster: cluster, sup: sup)
            }
            _ = try await store.push([
                c(1, risk, "title", .string("Locum gap"), []),
                c(2, risk, "escalation", .string("pcpg"), []),
                c(3, risk, "owner", .string("Practice manager"), []),
                c(4, risk, "owner", .string("Cluster lead"), [3]),
                c(5, risk, "owner", .string("Cluster lead, \(cluster)"), [4]),
                c(6, action, "title", .string("Recruit a locum"), []),
                c(7, action, "source", .string(risk), []),
            ], as: fixture.identity(cluster))
        }
    }

    /// Follows a pull's cursors to its last page: the pages, each checked against `limit` and
    /// the escalated list `listed`.
    func pages(_ store: any ServerStore, from cursor: Cursor?, limit: Int, listed: [EscalatedRecord],
               between: (ChangesPage) async throws -> Void = { _ in }) async throws -> [ChangesPage] {
        var pages: [ChangesPage] = []
        var cursor = cursor
        repeat {
            let page = try await store.pull(for: pcpg, after: cursor, limit: limit)
            #expect(page.changes.count <= limit && (page.more ? !page.changes.isEmpty : true), "page \(pages.count): \(page.changes.count)")
            if page.more {
                #expect(page.oversight == nil, "a page with more to come carries changes only")
            } else {
                #expect(page.oversight?.escalated == listed, "the last page lists all the session may hold")
            }
            pages.append(page)
            cursor = page.cursor
            try await between(page)
        } while pages.last!.more && pages.count < 100
        return pages
    }

    @Test(arguments: StoreBackend.available) func aReadOnlyPullIsPagedAtItsLimitAndEndsWhereItsFirstPageRead(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { OversightReadTests.now })
        try await escalateInBoth(store)
        let whole = try await store.pull(for: pcpg, after: nil, limit: 1_000)
        #expect(whole.changes.count == 14 && !whole.more)
        let listed = try #require(whole.oversight?.escalated)
        #expect(listed.count == 4)

        // A change stored in the first cluster once the pages have gone past it.
        let late = fixture.change(8, "RSK-3C5E7G9K1M", "owner", .string("Practice nurse"), cluster: "conwy-east", sup: [5])
        var pushed = false
        let paged = try await pages(store, from: nil, limit: 3, listed: listed) { page in
            guard !pushed, page.changes.last?.scope.cluster == "conwy-west" else { return }
            _ = try await store.push([late], as: fixture.identity("conwy-east"))
            pushed = true
        }
        #expect(pushed)
        #expect(paged.count == 5, "14 changes, 3 a page")
        let pulled = paged.flatMap(\.changes)
        #expect(Set(pulled.map(\.id)).count == pulled.count, "no change sent twice")
        #expect(Set(pulled.map(\.id)) == Set(whole.changes.map(\.id)))
        #expect(pulled.map(\.scope.cluster) == Array(repeating: "conwy-east", count: 7) + Array(repeating: "conwy-west", count: 7))
        #expect(paged.dropLast().allSatisfy { OversightCursor.isOversightCursor($0.cursor) })
        #expect(paged.last!.cursor == whole.cursor, "the last page names the position the first read, not what came meanwhile")

        // So the next pull brings what was stored meanwhile.
        let next = try await store.pull(for: pcpg, after: paged.last!.cursor, limit: 1_000)
        #expect(next.changes.contains { $0.id == late.id })
        #expect(next.changes.allSatisfy { $0.scope.cluster == "conwy-east" })
    }

    /// A read-only session's snapshot (after `cursor-expired`) is its pull from the start: its
    /// first page says where the pull goes on, and the pages after it are pulls.
    /// A page sends a cluster's logged changes instead of its listed records whole only where
    /// the client held what was listed at its cursor and the log still holds every change after
    /// it; a page going on, whose position a compaction passed between pages, sends them whole.
    @Test func aPageSendsLoggedChangesOnlyWhereTheLogHoldsAllTheClientLacks() throws {
        let from = { (position: Int64?) in
            try OversightPaging(cursor: position.map { StreamCursor.cursor(at: $0) }, limit: 10, currentEnd: 20)
        }
        #expect(try !from(nil).sendsLogged(movedAfter: nil, compactedThrough: nil))
        #expect(try !OversightPaging(cursor: nil, snapshot: true, limit: 10, currentEnd: 20).sendsLogged(movedAfter: nil, compactedThrough: nil))
        #expect(try from(10).sendsLogged(movedAfter: nil, compactedThrough: nil))
        #expect(try from(10).sendsLogged(movedAfter: 9, compactedThrough: 10))
        #expect(try !from(10).sendsLogged(movedAfter: 10, compactedThrough: nil))
        let goingOn = OversightCursor(end: 20, after: 10, cluster: "conwy-east", record: RecordID("RSK-7K3M9Q2X1A")!,
                                      replica: ReplicaID("00000000000000b2")!, counter: 3)
        let next = try OversightPaging(cursor: goingOn.cursor, limit: 10, currentEnd: 25)
        #expect(next.sendsLogged(movedAfter: nil, compactedThrough: 10))
        #expect(!next.sendsLogged(movedAfter: nil, compactedThrough: 12))
    }

    @Test(arguments: StoreBackend.available) func aReadOnlySnapshotGoesOnAsAPull(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { OversightReadTests.now })
        try await escalateInBoth(store)
        let whole = try await store.pull(for: pcpg, after: nil, limit: 1_000)
        let first = try await store.snapshot(for: pcpg, after: nil, limit: 5)
        #expect(first.more && first.changes.count == 5 && OversightCursor.isOversightCursor(first.cursor))
        let rest = try await pages(store, from: first.cursor, limit: 5, listed: whole.oversight?.escalated ?? [])
        #expect(rest.count == 2 && rest.last?.cursor == whole.cursor)
        #expect((first.changes + rest.flatMap(\.changes)).map(\.id) == whole.changes.map(\.id))
    }

    /// A cursor is the client's to send: one it made up, naming a cluster outside its region (or
    /// another tenant's) and a position before everything, reads only what the session may see.
    @Test(arguments: StoreBackend.available) func aMadeUpOversightCursorReadsOnlyTheSessionsOwn(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { OversightReadTests.now })
        try await escalateInBoth(store)
        try await store.addCluster("arfon", tenant: "bcuhb", region: nil)
        try await store.addPractice("arfon-1", cluster: "arfon", tenant: "bcuhb")
        let arfon = SessionIdentity(tenant: "bcuhb", cluster: "arfon", practice: "arfon-1", author: "arfon", role: .clusterLead)
        _ = try await store.push([Change(id: ChangeID(replica: ReplicaID("00000000000000c3")!, counter: 1),
                                         hlc: HLCTimestamp(millis: OversightReadTests.now - 1_000), record: RecordID("RSK-9D5E7G9K1M")!,
                                         scope: RecordScope(tenant: "bcuhb", cluster: "arfon"), field: "escalation", value: .string("pcpg"))],
                                 as: arfon)
        let whole = try await store.pull(for: pcpg, after: nil, limit: 1_000)
        let empty = OversightCursor(end: 15, after: 0, cluster: "", record: RecordID("RSK-0000000000")!,
                                    replica: ReplicaID("0000000000000000")!, counter: 0).cursor
        await #expect(throws: ClusterSyncError.self, "no server writes an empty cluster") {
            try await store.pull(for: pcpg, after: empty, limit: 1_000)
        }
        for cluster in ["arfon", "cardiff-north"] {
            let madeUp = OversightCursor(end: 15, after: 0, cluster: cluster, record: RecordID("RSK-0000000000")!,
                                         replica: ReplicaID("0000000000000000")!, counter: 0).cursor
            let pages = try await pages(store, from: madeUp, limit: 1_000, listed: whole.oversight?.escalated ?? [])
            #expect(pages.flatMap(\.changes).allSatisfy { $0.scope.cluster.hasPrefix("conwy-") }, "\(cluster)")
            #expect(pages.last?.oversight?.escalated.allSatisfy { $0.cluster.hasPrefix("conwy-") } == true)
        }
    }

    /// Long changes cut a page by bytes, far below the limit of rows.
    @Test(arguments: StoreBackend.available) func aReadOnlyPageOfLongChangesIsCutByBytes(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { OversightReadTests.now })
        try await fixture.regionOfTwo(store)
        let long = String(repeating: "𝄞", count: 10_000)   // 40,000 bytes of text
        var changes = [fixture.change(1, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "conwy-west")]
        for n in Int64(2)...40 {
            changes.append(fixture.change(n, "RSK-7K3M9Q2X1A", "description", .string("\(n) \(long)"), cluster: "conwy-west",
                                          sup: n > 2 ? [n - 1] : []))
        }
        _ = try await store.push(changes, as: fixture.identity("conwy-west"))
        let listed = [EscalatedRecord(cluster: "conwy-west", record: RecordID("RSK-7K3M9Q2X1A")!)]
        let paged = try await pages(store, from: nil, limit: 1_000, listed: listed)
        #expect(paged.count >= 2)
        for page in paged {
            let bytes = page.changes.reduce(0) { $0 + $1.jsonText.utf8.count + 1 }
            #expect(bytes <= PageBudget.maxBytes, "\(page.changes.count) changes, \(bytes) bytes")
        }
        #expect(Set(paged.flatMap(\.changes).map(\.id)) == Set(changes.map(\.id)))
    }

    /// A replica applying a paged pull keeps each page's cursor (a sync cut off between pages
    /// goes on from there), keeps its cursor on the last page (it holds every record listed), and
    /// ends as one that read the same in one page.
    @Test(arguments: StoreBackend.available) func aReadOnlyReplicaReadsAPagedPullAsOne(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { OversightReadTests.now })
        try await escalateInBoth(store)
        func replica(_ name: String) throws -> (Replica, String) {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-\(name)-\(UUID().uuidString).sqlite").path
            let replica = try Replica.createReadOnly(path: path, tenant: "bcuhb", role: .pcpg, region: "conwy", displayName: "PCPG analyst").0
            try replica.setRemote(RemoteSettings(host: "127.0.0.1", port: 7443, caFile: "ca.pem", tokenFile: "pcpg.token"))
            return (replica, path)
        }
        let (paged, pagedPath) = try replica("paged")
        let (whole, wholePath) = try replica("whole")
        defer { for path in [pagedPath, wholePath] { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } } }

        try whole.applyPulled(try await store.pull(for: pcpg, after: nil, limit: 1_000))
        var pages = 0
        repeat {
            let page = try await store.pull(for: pcpg, after: try paged.syncState().cursor, limit: 4)
            try paged.applyPulled(page)
            pages += 1
            #expect(try paged.syncState().cursor == page.cursor, "page \(pages): its cursor is kept")
        } while try OversightCursor.isOversightCursor(#require(paged.syncState().cursor)) && pages < 100
        #expect(pages == 4)
        #expect(try paged.syncState().cursor == whole.syncState().cursor)
        let today = OversightReadTests.today
        #expect(try paged.exportJSON(today: today) == whole.exportJSON(today: today))
        let exported = try paged.exportJSON(today: today).canonicalText
        #expect(exported.contains("Cluster lead, conwy-east") && exported.contains("Cluster lead, conwy-west"))
    }
}
