import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import GRDB
import GRDBSQLite
import Synchronization
import Testing

/// What a read-only session's pull costs does not grow with what did not change: each cluster's
/// roll-up is aggregated again only after a push to that cluster or on a new day, the escalated
/// records are found by index, not by reading every live write of the store, and a cluster's
/// escalated records are sent again only when something was stored in that cluster.
@Suite struct OversightReadTests {
    static let now: Int64 = 1_795_426_200_000
    static let today = CalendarDate(unixMillis: now)

    func change(_ n: Int64, _ record: String, _ field: String, _ value: JSONValue, cluster: String, sup: [Int64] = []) -> Change {
        // One replica per cluster, as a replica belongs to one: a read-only replica holds several
        // clusters' changes, keyed by id.
        let replica = ReplicaID(["conwy-west": "00000000000000a1", "conwy-east": "00000000000000b2"][cluster] ?? "00000000000000c3")!
        return Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: Self.now - 60_000 + n),
                      record: RecordID(record)!, scope: RecordScope(tenant: "bcuhb", cluster: cluster), field: field, value: value,
                      supersedes: sup.map { ChangeID(replica: replica, counter: $0) })
    }

    func identity(_ cluster: String) -> SessionIdentity {
        SessionIdentity(tenant: "bcuhb", cluster: cluster, practice: cluster + "-1", author: cluster, role: .clusterLead)
    }

    /// A SQLite store of a region of two clusters, and its file (which a test alters behind its back).
    func sqliteRegionOfTwo() async throws -> (SQLiteServerStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-oversight-\(UUID().uuidString).sqlite").path
        let store = try SQLiteServerStore(path: path, wallClock: { Self.now })
        try await regionOfTwo(store)
        return (store, path)
    }

    func regionOfTwo(_ store: any ServerStore) async throws {
        try await store.addTenant("bcuhb")
        try await store.addRegion("conwy", tenant: "bcuhb")
        for cluster in ["conwy-west", "conwy-east"] {
            try await store.addCluster(cluster, tenant: "bcuhb", region: "conwy")
            try await store.addPractice(cluster + "-1", cluster: cluster, tenant: "bcuhb")
        }
    }

    @Test(arguments: StoreBackend.persistent) func aRollupFollowsEachClustersPushesAndTheDay(_ kind: StoreBackend) async throws {
        let clock = ServerTestClock(Self.now)
        let store = try await kind.make(wallClock: { clock.millis.load(ordering: .relaxed) })
        try await regionOfTwo(store)
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "title", .string("Locum gap"), cluster: "conwy-west"),
                                  change(2, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "conwy-west")],
                                 as: identity("conwy-west"))
        let first = try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today)
        #expect(first.risks.total == 1 && first.clusters.map(\.risks.total) == [0, 1])

        // A push to the other cluster: its figures move, the first cluster's stay.
        _ = try await store.push([change(1, "ACT-4F8R2M6W0Z", "title", .string("Agree rota"), cluster: "conwy-east"),
                                  change(2, "ACT-4F8R2M6W0Z", "due_date", .string("2026-12-10"), cluster: "conwy-east")],
                                 as: identity("conwy-east"))
        let second = try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today)
        #expect(second.actions.total == 1 && second.actions.overdue == 0)
        #expect(second.clusters.first { $0.cluster == "conwy-west" } == first.clusters.first { $0.cluster == "conwy-west" })
        #expect(try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today) == second)

        // The day moves past the action's due date with nothing pushed: it is overdue.
        let later = CalendarDate(year: 2026, month: 12, day: 11)
        let next = try await store.rollup(tenant: "bcuhb", region: "conwy", today: later)
        #expect(next.today == later && next.actions.overdue == 1)

        // A push to the first cluster after both were read: its risk is closed.
        _ = try await store.push([change(3, "RSK-7K3M9Q2X1A", "status", .string("closed"), cluster: "conwy-west")], as: identity("conwy-west"))
        let third = try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today)
        #expect(third.risks.byStatus["closed"] == 1 && third.risks.byStatus["open"] == 0 && third.actions.total == 1)

        // The read-only session's page carries the same roll-up.
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        let page = try await store.pull(for: pcpg, after: nil, limit: 1000)
        #expect(page.oversight?.regionRollup == third)
        // And the next, with nothing new, on a later day: the roll-up of that day, not the
        // page's kept JSON of the day before (ClusterRollupCache.json).
        clock.millis.store(Self.now + 18 * 86_400_000, ordering: .relaxed)
        let nextDay = try await store.pull(for: pcpg, after: page.cursor, limit: 1000)
        #expect(nextDay.oversight?.regionRollup?.today == later && nextDay.oversight?.regionRollup?.actions.overdue == 1)
    }

    /// The kept roll-up is not read again while its cluster's version stands: a contribution
    /// altered behind the store's back (no push, so no new log row) is not seen until the
    /// cluster's next push. Shows the reads are saved; the test above shows they are not
    /// saved when they must not be.
    @Test func aClusterNothingWasPushedToIsNotReadAgain() async throws {
        let (store, path) = try await sqliteRegionOfTwo()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "title", .string("Locum gap"), cluster: "conwy-west")], as: identity("conwy-west"))
        let read = try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today)
        #expect(read.risks.byStatus["open"] == 1)
        let behind = try DatabaseQueue(path: path)
        try await behind.write { db in
            try db.execute(sql: "UPDATE rollup_contribution SET contribution = replace(contribution, '\"open\"', '\"closed\"')")
            #expect(db.changesCount == 1)
        }
        #expect(try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today) == read)
        _ = try await store.push([change(2, "RSK-7K3M9Q2X1A", "owner", .string("Practice manager"), cluster: "conwy-west")], as: identity("conwy-west"))
        #expect(try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today).risks.byStatus["closed"] == 1)
    }

    /// A cluster's listed records are not searched again while its version stands
    /// (`ListedRecordsCache`): an escalation altered behind the store's back (no push, so no
    /// new log row) is not seen until the cluster's next push, and then the risk is withdrawn.
    @Test func aClusterNothingWasPushedToIsNotSearchedAgain() async throws {
        let (store, path) = try await sqliteRegionOfTwo()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "conwy-west")], as: identity("conwy-west"))
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        let first = try await store.pull(for: pcpg, after: nil, limit: 1000)
        #expect(first.oversight?.escalated.map(\.record.rawValue) == ["RSK-7K3M9Q2X1A"])
        let behind = try DatabaseQueue(path: path)
        try await behind.write { db in
            try db.execute(sql: "UPDATE change SET value = '\"cluster\"' WHERE field = 'escalation'")
            #expect(db.changesCount == 1)
        }
        #expect(try await store.pull(for: pcpg, after: first.cursor, limit: 1000).oversight?.escalated.count == 1)
        _ = try await store.push([change(2, "RSK-7K3M9Q2X1A", "owner", .string("Practice manager"), cluster: "conwy-west")], as: identity("conwy-west"))
        #expect(try await store.pull(for: pcpg, after: first.cursor, limit: 1000).oversight?.escalated.isEmpty == true)
    }

    /// A cluster's escalated risks and their actions are found by value (`change_by_value`),
    /// then read by number: at first the search read every live write of the whole store, once
    /// per cluster of the region, at every pull; then every risk and action of the cluster. Its
    /// plans are found by type, their priorities lists by id and the lists' items by parent,
    /// never by reading the cluster's records. Checked on the plans SQLite makes for the
    /// statements `ServerOversight.visible` runs.
    @Test func listedRecordsAreFoundWithoutReadingEveryWrite() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-visible-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteServerStore(path: path, wallClock: { Self.now })
        try await regionOfTwo(store)
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "title", .string("Locum gap"), cluster: "conwy-west"),
                                  change(2, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "conwy-west"),
                                  change(3, "ACT-4F8R2M6W0Z", "source", .string("RSK-7K3M9Q2X1A"), cluster: "conwy-west"),
                                  change(4, "ACT-9H2J4K6M8N", "title", .string("Unlinked"), cluster: "conwy-west"),
                                  change(5, "PLN-3D5F7H9K1M", "status", .string("agreed"), cluster: "conwy-west"),
                                  change(6, "PLN-3D5F7H9K1M", "priorities", .string("LST-2C4E6G8J0M"), cluster: "conwy-west"),
                                  change(7, "LST-2C4E6G8J0M", "kind", .string("priorities"), cluster: "conwy-west"),
                                  change(8, "ITM-1B3D5F7H9K", "list", .string("LST-2C4E6G8J0M"), cluster: "conwy-west")],
                                 as: identity("conwy-west"))
        let database = try DatabaseQueue(path: path)
        let statements = try await database.read { db in
            var seen: [String] = []
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { seen.append(statement.expandedSQL) }
            }
            let visible = try ServerOversight.visible(db, tenant: "bcuhb", cluster: "conwy-west", role: .pcpg)
            #expect(visible.ids.map(\.rawValue) == ["ACT-4F8R2M6W0Z", "ITM-1B3D5F7H9K", "LST-2C4E6G8J0M", "PLN-3D5F7H9K1M", "RSK-7K3M9Q2X1A"])
            db.trace(options: .statement, nil)
            return seen
        }
        let plans = try await database.read { db in
            try statements.filter { $0.contains("FROM record rec") }.map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
        }
        #expect(plans.count == 5, "the risks, their actions, the plans, their lists, the lists' items: \(statements)")
        for plan in plans {
            // No table is scanned; the list of ids given (one argument, `json_each`) is read through.
            #expect(!plan.contains { $0.contains("SCAN") && !$0.contains("SCAN json_each") }, "\(plan)")
        }
        for plan in plans.prefix(2) {
            // The escalations and sources by value, then each record found, by its number.
            #expect(plan.contains { $0.contains("USING INDEX change_by_value (field=? AND value=?)") }, "\(plan)")
            #expect(plan.first { $0.contains(" rec ") }?.contains("rowid=?") == true, "\(plan)\n\(statements)")
        }
        guard plans.count == 5 else { return }
        let found = [("plans", "record_by_scope (tenant=? AND cluster=? AND type=?)"), ("lists", "record_by_id (tenant=? AND id=?)"),
                     ("items", "record_by_parent (parent=?)")]
        for ((what, index), plan) in zip(found, plans.suffix(3)) {
            #expect(plan.contains { $0.contains(index) }, "\(what): \(plan)")
        }
    }

    /// A risk linking more actions than SQLite takes variables in one statement (500 here, set
    /// low on the reading connection) is still read: the ids go as one argument. One `?` a member
    /// failed every read-only pull of the region once a practice had linked that many.
    @Test func aRiskLinkingMoreActionsThanSQLiteHasVariablesIsRead() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-linked-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteServerStore(path: path, wallClock: { Self.now })
        try await regionOfTwo(store)
        let risk = "RSK-7K3M9Q2X1A"
        var changes = [change(1, risk, "title", .string("Locum gap"), cluster: "conwy-west"),
                       change(2, risk, "escalation", .string("pcpg"), cluster: "conwy-west")]
        changes += (0..<900).map { n in
            change(Int64(3 + n), risk, "linked_actions", .string("ACT-" + String(format: "%010d", n).replacingOccurrences(of: "0", with: "A")),
                   cluster: "conwy-west")
        }
        for batch in stride(from: 0, to: changes.count, by: 1_000) {
            _ = try await store.push(Array(changes[batch..<min(changes.count, batch + 1_000)]), as: identity("conwy-west"))
        }
        let database = try DatabaseQueue(path: path)
        let visible = try await database.read { db in
            sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_VARIABLE_NUMBER, 500)
            return try ServerOversight.visible(db, tenant: "bcuhb", cluster: "conwy-west", role: .pcpg)
        }
        #expect(visible.ids.map(\.rawValue) == [risk])
        #expect(visible.views.first?.members("linked_actions").count == 900)
    }

    /// Two clusters with an escalated risk each; the PCPG's page after a push to one carries
    /// that cluster's changes stored since, of the records it lists, and none of the other's;
    /// both stay listed. A record that may be new to the PCPG comes whole: a risk escalated
    /// since, with its history and the action naming it as source, but not the history of the
    /// risk the PCPG already held.
    @Test(arguments: StoreBackend.available) func aPageCarriesTheClustersStoredToSinceItsCursor(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { Self.now })
        try await regionOfTwo(store)
        // Each cluster's own risk (a record's id is unique within its tenant).
        for (cluster, risk) in [("conwy-west", "RSK-7K3M9Q2X1A"), ("conwy-east", "RSK-7K3M9Q2X1B")] {
            _ = try await store.push([change(1, risk, "title", .string("Locum gap"), cluster: cluster),
                                      change(2, risk, "escalation", .string("pcpg"), cluster: cluster)],
                                     as: identity(cluster))
        }
        _ = try await store.push([change(3, "RSK-8M4N2P6Q0R", "title", .string("Pharmacy rota"), cluster: "conwy-east"),
                                  change(4, "RSK-8M4N2P6Q0R", "escalation", .string("cluster"), cluster: "conwy-east"),
                                  change(5, "ACT-4F8R2M6W0Z", "title", .string("Agree a rota"), cluster: "conwy-east"),
                                  change(6, "ACT-4F8R2M6W0Z", "source", .string("RSK-8M4N2P6Q0R"), cluster: "conwy-east")],
                                 as: identity("conwy-east"))
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        let first = try await store.pull(for: pcpg, after: nil, limit: 1000)
        #expect(first.changes.count == 4)
        _ = try await store.push([change(7, "RSK-7K3M9Q2X1B", "owner", .string("Practice manager"), cluster: "conwy-east")],
                                 as: identity("conwy-east"))
        let next = try await store.pull(for: pcpg, after: first.cursor, limit: 1000)
        #expect(next.changes.map { "\($0.scope.cluster) \($0.field)" } == ["conwy-east owner"], "\(next.changes)")
        #expect(next.oversight?.escalated.map(\.cluster) == ["conwy-east", "conwy-west"])
        let idle = try await store.pull(for: pcpg, after: next.cursor, limit: 1000)
        #expect(idle.changes.isEmpty && idle.oversight?.escalated.count == 2)

        _ = try await store.push([change(8, "RSK-8M4N2P6Q0R", "escalation", .string("pcpg"), cluster: "conwy-east", sup: [4]),
                                  change(9, "RSK-7K3M9Q2X1B", "owner", .string("Cluster lead"), cluster: "conwy-east", sup: [7])],
                                 as: identity("conwy-east"))
        let escalated = try await store.pull(for: pcpg, after: idle.cursor, limit: 1000)
        #expect(escalated.changes.map { "\($0.record) \($0.id.counter)" }
                    == ["ACT-4F8R2M6W0Z 5", "ACT-4F8R2M6W0Z 6", "RSK-7K3M9Q2X1B 9", "RSK-8M4N2P6Q0R 3", "RSK-8M4N2P6Q0R 4", "RSK-8M4N2P6Q0R 8"],
                "\(escalated.changes)")
        #expect(escalated.oversight?.escalated.map(\.record.rawValue) == ["ACT-4F8R2M6W0Z", "RSK-7K3M9Q2X1B", "RSK-8M4N2P6Q0R", "RSK-7K3M9Q2X1A"])
        // Paged one change at a time, the same changes in the same order.
        var paged: [String] = []
        var cursor = idle.cursor
        while true {
            let page = try await store.pull(for: pcpg, after: cursor, limit: 1)
            paged += page.changes.map { "\($0.record) \($0.id.counter)" }
            cursor = page.cursor
            if !page.more { break }
        }
        #expect(paged == escalated.changes.map { "\($0.record) \($0.id.counter)" })
    }

    /// A link a practice adds to an escalated risk sends the PCPG the action it links, whole,
    /// and the link: not the risk's history again. Before, every link sent the risk whole, so a
    /// description rewritten hundreds of times went again at each link a practice added (the
    /// fortieth session's security review: 985 KB a sync after 3,000 rewrites).
    @Test(arguments: StoreBackend.available) func aLinkToAnEscalatedRiskDoesNotSendItsHistoryAgain(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { Self.now })
        try await regionOfTwo(store)
        let risk = "RSK-7K3M9Q2X1A", cluster = "conwy-west"
        var changes = [change(1, risk, "title", .string("Locum gap"), cluster: cluster), change(2, risk, "escalation", .string("pcpg"), cluster: cluster)]
        changes += (3...302).map { n in change(n, risk, "description", .string("Draft \(n)"), cluster: cluster, sup: n > 3 ? [n - 1] : []) }
        _ = try await store.push(changes, as: identity(cluster))
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        var first = try await store.pull(for: pcpg, after: nil, limit: 10_000)
        while first.more { first = try await store.pull(for: pcpg, after: first.cursor, limit: 10_000) }
        _ = try await store.push([change(400, "ACT-4F8R2M6W0Z", "title", .string("Advertise"), cluster: cluster),
                                  change(401, risk, "linked_actions", .string("ACT-4F8R2M6W0Z"), cluster: cluster)], as: identity(cluster))
        let next = try await store.pull(for: pcpg, after: first.cursor, limit: 10_000)
        #expect(next.changes.map { "\($0.record) \($0.id.counter)" } == ["ACT-4F8R2M6W0Z 400", "\(risk) 401"], "\(next.changes.count) changes")
    }

    /// A PCPG far behind: past `OversightPaging.maxLoggedChanges` changes stored in a cluster
    /// since its cursor, a page does not read them all but sends the listed records whole.
    @Test(arguments: StoreBackend.available) func aPCPGFarBehindIsSentItsRecordsWhole(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { Self.now })
        try await regionOfTwo(store)
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "title", .string("Locum gap"), cluster: "conwy-west"),
                                  change(2, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "conwy-west")],
                                 as: identity("conwy-west"))
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        let first = try await store.pull(for: pcpg, after: nil, limit: 1000)
        var counter: Int64 = 2
        func edits(_ count: Int) async throws {
            for start in stride(from: 0, to: count, by: 1000) {
                let batch = (start..<min(count, start + 1000)).map { n -> Change in
                    counter += 1
                    return change(counter, "ACT-4F8R2M6W0Z", "title", .string("Title \(n)"), cluster: "conwy-west", sup: counter > 3 ? [counter - 1] : [])
                }
                _ = try await store.push(batch, as: identity("conwy-west"))
            }
        }
        try await edits(OversightPaging.maxLoggedChanges - 1)
        _ = try await store.push([change(counter + 1, "RSK-7K3M9Q2X1A", "owner", .string("Practice manager"), cluster: "conwy-west")],
                                 as: identity("conwy-west"))
        counter += 1
        let near = try await store.pull(for: pcpg, after: first.cursor, limit: 1000)
        #expect(near.changes.map(\.field) == ["owner"], "at the bound: what was logged")
        try await edits(1)
        let far = try await store.pull(for: pcpg, after: first.cursor, limit: 1000)
        #expect(far.changes.map(\.field) == ["title", "escalation", "owner"], "past it: the risk whole")
    }

    /// A cluster moved into the PCPG's region stores nothing by moving; the move is noted, so
    /// the PCPG's next pull brings the cluster's escalated risk whole, and the pull after it
    /// (the tenant's stream having moved on) does not send it again. Through the replica's own
    /// apply (`applyPulled`), as a sync does.
    @Test(arguments: StoreBackend.available) func aClusterMovedIntoTheRegionReachesItsPCPGAtTheNextPull(_ kind: StoreBackend) async throws {
        let store = try await kind.make(wallClock: { Self.now })
        try await regionOfTwo(store)
        try await store.addCluster("arfon", tenant: "bcuhb", region: nil)
        try await store.addPractice("arfon-1", cluster: "arfon", tenant: "bcuhb")
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "conwy-west")], as: identity("conwy-west"))
        let arfon = SessionIdentity(tenant: "bcuhb", cluster: "arfon", practice: "arfon-1", author: "arfon", role: .clusterLead)
        let moved = Change(id: ChangeID(replica: ReplicaID("00000000000000c3")!, counter: 1), hlc: HLCTimestamp(millis: Self.now - 1_000),
                           record: RecordID("RSK-3C5E7G9K1M")!, scope: RecordScope(tenant: "bcuhb", cluster: "arfon"),
                           field: "escalation", value: .string("pcpg"))
        _ = try await store.push([moved], as: arfon)

        let (replica, path) = try Self.pcpgReplica()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        func sync() async throws -> ChangesPage {
            let page = try await store.pull(for: pcpg, after: try replica.syncState().cursor, limit: 1000)
            try replica.applyPulled(page)
            return page
        }
        _ = try await sync()
        #expect(try replica.record(RecordID("RSK-7K3M9Q2X1A")!) != nil)
        #expect(try replica.record(RecordID("RSK-3C5E7G9K1M")!) == nil)
        #expect(try await sync().changes.isEmpty)

        try await store.setRegion("conwy", ofCluster: "arfon", tenant: "bcuhb")
        let after = try await sync()
        #expect(after.changes.map(\.id) == [moved.id], "only the moved cluster's")
        #expect(try replica.record(RecordID("RSK-3C5E7G9K1M")!)?.string("escalation") == "pcpg")
        #expect(try replica.syncState().cursor == after.cursor)
        // Until the tenant's stream moves on, each pull sends it again (applying it twice is harmless).
        #expect(try await sync().changes.map(\.id) == [moved.id])
        _ = try await store.push([change(2, "RSK-7K3M9Q2X1A", "owner", .string("Practice manager"), cluster: "conwy-west")],
                                 as: identity("conwy-west"))
        // Moving it to where it is notes nothing.
        try await store.setRegion("conwy", ofCluster: "arfon", tenant: "bcuhb")
        #expect(Set(try await sync().changes.map(\.scope.cluster)) == ["conwy-west", "arfon"])
        #expect(try await sync().changes.isEmpty, "the stream moved on: arfon is not sent again")
    }

    /// The replica's own check, for a server that does not note moves: a page's last page that
    /// lists a record the replica does not hold leaves the cursor at the start, so the next pull
    /// brings it whole; a page with more to come keeps its cursor (the record may be on its way).
    @Test func aReplicaToldToHoldWhatItLacksPullsFromTheStart() throws {
        let (replica, path) = try Self.pcpgReplica()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let rollup = RegionRollup(tenant: "bcuhb", region: "conwy", clusters: [])
        let listed = OversightPage(rollup: rollup.jsonValue, escalated: [EscalatedRecord(cluster: "arfon", record: RecordID("RSK-3C5E7G9K1M")!)])
        let going = OversightCursor(end: 3, after: 0, cluster: "arfon", record: RecordID("RSK-3C5E7G9K1M")!,
                                    replica: ReplicaID("00000000000000c3")!, counter: 1).cursor
        try replica.applyPulled(ChangesPage(changes: [], cursor: going, more: true, oversight: listed))
        #expect(try replica.syncState().cursor == going)
        try replica.applyPulled(ChangesPage(changes: [], cursor: Cursor("s1:3"), more: false, oversight: listed))
        #expect(try replica.syncState().cursor == nil, "left at the start")
        let held = OversightPage(rollup: rollup.jsonValue, escalated: [])
        try replica.applyPulled(ChangesPage(changes: [], cursor: Cursor("s1:3"), more: false, oversight: held))
        #expect(try replica.syncState().cursor == Cursor("s1:3"))
    }

    static func pcpgReplica() throws -> (Replica, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pcpg-\(UUID().uuidString).sqlite").path
        let replica = try Replica.createReadOnly(path: path, tenant: "bcuhb", role: .pcpg, region: "conwy", displayName: "PCPG analyst").0
        try replica.setRemote(RemoteSettings(host: "127.0.0.1", port: 7443, caFile: "ca.pem", tokenFile: "pcpg.token"))
        return (replica, path)
    }
}

/// A wall clock a test moves (the stores read it for roll-ups' days).
final class ServerTestClock: Sendable {
    let millis: Atomic<Int64>
    init(_ millis: Int64) { self.millis = Atomic(millis) }
}
