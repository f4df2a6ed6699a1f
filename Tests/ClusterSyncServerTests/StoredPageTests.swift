import ClusterSyncCore
@testable import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import Logging
import Synchronization
import Testing

/// `ServerStore.pullStored`: the page a session sends, with each change as the text stored, and
/// a subscription's own changes left out by the store. Run against every store backend.
@Suite struct StoredPageTests {
    static let backends = ["sqlite", "memory"] + (StoreBackend.available.contains(.postgres) ? ["postgres"] : [])

    static func makeStore(_ backend: String) async throws -> any ServerStore {
        switch backend {
        case "postgres":
            return try await TestPostgres.freshStore()
        case "sqlite":
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-stored-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
        default:
            return InMemoryServerStore()
        }
    }

    /// A store of `backend` with tenant bcuhb, cluster north, practices rhyl and prestatyn.
    static func northWales(_ backend: String) async throws -> any ServerStore {
        let store = try await makeStore(backend)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        return store
    }

    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let prestatyn = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn")
    static let rhylReplica = ReplicaID("00000000000000a1")!
    static let prestatynReplica = ReplicaID("00000000000000b2")!

    static func changes(_ replica: ReplicaID, _ count: Int, practice: String? = nil) -> [Change] {
        let record = RecordID.random(for: .risk)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return (1...count).map { n in
            Change(id: ChangeID(replica: replica, counter: Int64(n)), hlc: HLCTimestamp(millis: now + Int64(n)), record: record,
                   scope: RecordScope(tenant: "bcuhb", cluster: "north", practice: practice), field: "title",
                   value: .string("Value \(n) \"quoted\" Siân"), supersedes: n > 1 ? [ChangeID(replica: replica, counter: Int64(n - 1))] : [])
        }
    }

    /// Rhyl's `n`th change: a new shared risk, for the tests that race pushes against a subscription.
    static func newRisk(_ n: Int, at now: Int64) -> Change {
        Change(id: ChangeID(replica: rhylReplica, counter: Int64(n)), hlc: HLCTimestamp(millis: now + Int64(n)),
               record: RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "north", practice: nil),
               field: "title", value: .string("Risk \(n)"), supersedes: [])
    }

    /// Every change of a page, decoded, in the order sent.
    static func decoded(_ page: ChangesPage) throws -> [Change] {
        try page.changes + page.storedTexts.map { text throws(ClusterSyncError) in try Change(jsonText: text) }
    }

    @Test(arguments: backends) func storedPagesCarryWhatPullReturnsAndLeaveOutTheSubscribersOwn(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        _ = try await store.push(Self.changes(Self.rhylReplica, 5), as: Self.rhyl, from: Self.rhylReplica)
        _ = try await store.push(Self.changes(Self.prestatynReplica, 3), as: Self.prestatyn, from: Self.prestatynReplica)
        var mine = Self.changes(Self.rhylReplica, 7, practice: "rhyl")
        mine.removeFirst(5)
        _ = try await store.push(mine.map { var c = $0; c.record = RecordID.random(for: .risk); c.supersedes = []; return c },
                                 as: Self.rhyl, from: Self.rhylReplica)

        // Page by page, the stored page holds what pull returns (authors stamped), at the same cursors.
        for identity in [Self.rhyl, Self.prestatyn] {
            var cursor: Cursor?
            var pages = 0
            while true {
                let plain = try await store.pull(for: identity, after: cursor, limit: 3)
                let stored = try await store.pullStored(for: identity, after: cursor, limit: 3, excluding: nil)
                #expect(try Self.decoded(stored) == plain.changes)
                #expect(stored.cursor == plain.cursor && stored.more == plain.more)
                #expect(stored.count == plain.changes.count)
                #expect(try Self.decoded(stored).allSatisfy { $0.author != nil }, "the server's authors are in the text")
                cursor = plain.cursor
                pages += 1
                if !plain.more { break }
            }
            #expect(pages == (identity.practice == "rhyl" ? 4 : 3), "rhyl sees its private changes, prestatyn does not")
        }

        // A subscription's own changes stay in the store; the cursor still reaches the end.
        let end = try await store.currentCursor(tenant: "bcuhb")
        let others = try await store.pullStored(for: Self.rhyl, after: nil, limit: 100, excluding: Self.rhylReplica)
        #expect(try Self.decoded(others).map(\.id.replica) == Array(repeating: Self.prestatynReplica, count: 3))
        #expect(others.cursor == end && !others.more)
        let after = try await store.pullStored(for: Self.rhyl, after: others.cursor, limit: 100, excluding: Self.rhylReplica)
        #expect(after.count == 0 && after.cursor == end)
        // Only its own changes after the cursor: nothing sent, and the cursor moves past them.
        let fromThird = try await store.pullStored(for: Self.prestatyn, after: nil, limit: 100, excluding: Self.prestatynReplica)
        #expect(try Self.decoded(fromThird).map(\.id.counter) == [1, 2, 3, 4, 5])
    }

    /// A page is read on the session's thread when the stream has grown by at most
    /// `SQLiteServerStore.pointPageRows` since the cursor, else by the pool's readers: from the
    /// start and from 30 (100 and 70 rows ahead) the one, from 60 and 90 the other; the same pages.
    @Test(arguments: backends) func pagesReadEitherWayAreThePagesPullReturns(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        _ = try await store.push(Self.changes(Self.rhylReplica, 100), as: Self.rhyl, from: Self.rhylReplica)
        var cursor: Cursor?
        var pages = 0
        while true {
            let plain = try await store.pull(for: Self.prestatyn, after: cursor, limit: 30)
            let stored = try await store.pullStored(for: Self.prestatyn, after: cursor, limit: 30, excluding: nil)
            #expect(try Self.decoded(stored) == plain.changes)
            #expect(stored.cursor == plain.cursor && stored.more == plain.more)
            cursor = plain.cursor
            pages += 1
            if !plain.more { break }
        }
        #expect(pages == 4)
    }

    /// A row altered in the database so that it is no longer one line of JSON goes out as a JSON
    /// string (which replicas set aside), from the store's page and from the shared tail alike;
    /// the rows around it go out as they were stored.
    @Test(arguments: backends.filter { $0 != "memory" }) func aDamagedRowGoesOutAsAJSONString(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        _ = try await store.push(Self.changes(Self.rhylReplica, 3), as: Self.rhyl, from: Self.rhylReplica)
        let intact = try await store.pullStored(for: Self.prestatyn, after: nil, limit: 10, excluding: nil).storedTexts
        let damaged = "{\"id\":\"broken\n"
        // Valid JSON, but a line break would split the page's line.
        let twoLines = "{\"id\":\"broken\",\r\"x\":1}"
        switch store {
        case let sqlite as SQLiteServerStore:
            try await sqlite.database.write { db in
                try db.execute(sql: "UPDATE log SET change_json = ? WHERE tenant = 'bcuhb' AND seq = 2", arguments: [damaged])
                try db.execute(sql: "UPDATE log SET change_json = ? WHERE tenant = 'bcuhb' AND seq = 3", arguments: [twoLines])
            }
        case let postgres as PostgresServerStore:
            _ = try await postgres.read { c in
                try await c.query("UPDATE log SET change_json = \(damaged) WHERE tenant = 'bcuhb' AND seq = 2", logger: Logger(label: "test"))
                try await c.query("UPDATE log SET change_json = \(twoLines) WHERE tenant = 'bcuhb' AND seq = 3", logger: Logger(label: "test"))
            }
        default:
            Issue.record("no way to damage a row of \(backend)")
        }
        let expected = [intact[0], JSONValue.string(damaged).canonicalText, JSONValue.string(twoLines).canonicalText]
        let page = try await store.pullStored(for: Self.prestatyn, after: nil, limit: 10, excluding: Self.prestatynReplica)
        #expect(page.storedTexts == expected)
        let tail = try #require(try await store.logTail(tenant: "bcuhb", after: 0, newest: 10, maxBytes: .max))
        #expect(tail.rows.map(\.text) == expected)
        let shared = SharedLogTail(tenant: "bcuhb", tail)
        #expect(shared.page(for: Self.prestatyn, after: nil, limit: 10, excluding: Self.prestatynReplica)?.storedTexts == expected)
    }

    /// A subscription's page ends the stream at the end the same read saw: a push committed
    /// between reading the page and reading the stream's end must not be stepped over (on
    /// PostgreSQL, two statements see two snapshots). One practice pushes change after change
    /// while another's subscription pulls; the subscriber must receive every one.
    @Test(arguments: backends) func aSubscriptionStepsOverNoPushCommittedWhileItReads(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        let pushes = 300
        let pushed = Pushed()
        let pusher = Task {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for n in 1...pushes {
                _ = try await store.push([Self.newRisk(n, at: now)], as: Self.rhyl, from: Self.rhylReplica)
                pushed.count.withLock { $0 = n }
            }
        }
        var received = Set<Int64>()
        var cursor: Cursor?
        func pullAll() async throws {
            while true {
                let page = try await store.pullStored(for: Self.prestatyn, after: cursor, limit: 50, excluding: Self.prestatynReplica)
                received.formUnion(try Self.decoded(page).map(\.id.counter))
                cursor = page.cursor
                if !page.more { return }
            }
        }
        // Pull as a subscription does, while the pushes commit. A pull may never suspend (the
        // memory store, SQLite's point reads): yield between pulls, or with tests running in
        // parallel this loop and another's hold every thread of the cooperative pool and the
        // pushers they wait for never run.
        while pushed.count.withLock({ $0 }) < pushes {
            try await pullAll()
            await Task.yield()
        }
        try await pusher.value
        try await pullAll()
        let missed = Set(1...Int64(pushes)).subtracting(received)
        #expect(missed.count == 0, "pushes stepped over, the first \(missed.sorted().prefix(5))")
    }

    /// The shared tail (`SubscriptionFeed`) gives every subscription exactly the page the store's
    /// own read gives it: every identity of two clusters and three practices, every cursor,
    /// with and without its replica left out, full and cut pages, from a tail holding all of the
    /// log and from one holding its newest rows only (older cursors are left to the store).
    /// Pages are cut by bytes as well as rows (`PageBudget`): a practice that pushes long
    /// changes makes more pages, not longer lines. Before, 40 changes of 2 MB made one line of
    /// 85 MB that no replica of the cluster could read. Pulls, the shared tail, snapshots and
    /// history all stay within the budget and lose nothing.
    @Test(arguments: backends) func pagesOfLongChangesAreCutByBytes(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let long = String(repeating: "𝄞", count: 10_000)   // 40,000 bytes of text
        let story = RecordID.random(for: .risk)
        let scope = RecordScope(tenant: "bcuhb", cluster: "north", practice: nil)
        var changes: [Change] = []
        for n in 1...60 {
            // 30 records with one long write each, then one record written over 30 times.
            let record: RecordID = n <= 30 ? RecordID.random(for: .risk) : story
            let supersedes: [ChangeID] = n > 31 ? [ChangeID(replica: Self.rhylReplica, counter: Int64(n - 1))] : []
            changes.append(Change(id: ChangeID(replica: Self.rhylReplica, counter: Int64(n)), hlc: HLCTimestamp(millis: now - 1_000 + Int64(n)),
                                  record: record, scope: scope, field: "description", value: .string("\(n) \(long)"), supersedes: supersedes))
        }
        _ = try await store.push(changes, as: Self.rhyl, from: Self.rhylReplica)
        func bytes(_ texts: [String]) -> Int { texts.reduce(0) { $0 + $1.utf8.count + 1 } }
        func check(_ texts: [String], _ what: String) {
            #expect(!texts.isEmpty && (texts.count == 1 || bytes(texts) <= PageBudget.maxBytes), "\(what): \(texts.count) changes, \(bytes(texts)) bytes")
        }

        var pulled: [Change] = [], pages = 0
        var cursor: Cursor?
        repeat {
            let page = try await store.pullStored(for: Self.prestatyn, after: cursor, limit: 1_000, excluding: nil)
            let texts = page.storedTexts + page.changes.map { (change: Change) in change.jsonText }
            check(texts, "pull page \(pages)")
            // The shared tail cuts the same page.
            if let tail = try await store.logTail(tenant: "bcuhb", after: 0, newest: 1_000, maxBytes: .max) {
                #expect(SharedLogTail(tenant: "bcuhb", tail).page(for: Self.prestatyn, after: cursor, limit: 1_000, excluding: nil) == page)
            }
            pulled += try Self.decoded(page)
            pages += 1
            cursor = page.more ? page.cursor : nil
        } while cursor != nil
        #expect(pulled.map(\.id) == changes.map(\.id) && pages >= 3, "\(pages) pages")
        let decodedPage = try await store.pull(for: Self.prestatyn, after: nil, limit: 1_000)
        check(decodedPage.changes.map { (change: Change) in change.jsonText }, "decoded pull")
        #expect(decodedPage.more && decodedPage.changes.map(\.id) == Array(changes.map(\.id).prefix(decodedPage.changes.count)))

        var live: [ChangeID] = []
        var after: SnapshotCursor?
        repeat {
            let page = try await store.snapshotStored(for: Self.prestatyn, after: after, limit: 1_000)
            let texts = page.storedTexts + page.changes.map { (change: Change) in change.jsonText }
            check(texts, "snapshot page")
            live += try page.changes.map(\.id) + page.storedTexts.map { try Change(jsonText: $0).id }
            after = page.more ? try SnapshotCursor(page.cursor) : nil
        } while after != nil
        #expect(Set(live) == Set(changes.prefix(30).map(\.id) + [changes.last!.id]) && live.count == 31, "\(live.count)")

        var history: [ChangeID] = []
        cursor = nil
        repeat {
            let page = try await store.history(of: story, for: Self.prestatyn, after: cursor, limit: 1_000)
            check(page.changes.map { (change: Change) in change.jsonText }, "history page")
            history += page.changes.map(\.id)
            cursor = page.more ? page.cursor : nil
        } while cursor != nil
        #expect(Set(history) == Set(changes.suffix(30).map(\.id)) && history.count == 30)
    }

    @Test(arguments: backends) func aPageCutFromTheSharedTailIsThePageTheStoreReads(_ backend: String) async throws {
        let store = try await Self.makeStore(backend)
        try await store.addTenant("bcuhb")
        for cluster in ["north", "east"] { try await store.addCluster(cluster, tenant: "bcuhb") }
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("wrexham", cluster: "east", tenant: "bcuhb")
        let wrexham = SessionIdentity(tenant: "bcuhb", cluster: "east", practice: "wrexham", author: "wrexham")
        let wrexhamReplica = ReplicaID("00000000000000c3")!
        func pushed(_ replica: ReplicaID, _ identity: SessionIdentity, from first: Int, _ count: Int, practice: String?) -> [Change] {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            return (first..<first + count).map { n in
                Change(id: ChangeID(replica: replica, counter: Int64(n)), hlc: HLCTimestamp(millis: now + Int64(n)), record: RecordID.random(for: .risk),
                       scope: RecordScope(tenant: "bcuhb", cluster: identity.cluster, practice: practice), field: "title",
                       value: .string("Value \(n) Siân"), supersedes: [])
            }
        }
        // Interleaved: shared and private rows of both clusters, from three replicas.
        for round in 0..<3 {
            _ = try await store.push(pushed(Self.rhylReplica, Self.rhyl, from: round * 4 + 1, 2, practice: nil), as: Self.rhyl, from: Self.rhylReplica)
            _ = try await store.push(pushed(wrexhamReplica, wrexham, from: round * 4 + 1, 2, practice: round == 1 ? "wrexham" : nil), as: wrexham, from: wrexhamReplica)
            _ = try await store.push(pushed(Self.rhylReplica, Self.rhyl, from: round * 4 + 3, 2, practice: "rhyl"), as: Self.rhyl, from: Self.rhylReplica)
            _ = try await store.push(pushed(Self.prestatynReplica, Self.prestatyn, from: round * 3 + 1, 3, practice: round == 2 ? "prestatyn" : nil),
                                     as: Self.prestatyn, from: Self.prestatynReplica)
        }
        let end = try StreamCursor.position(of: await store.currentCursor(tenant: "bcuhb"))
        #expect(end == 27)
        guard let whole = try await store.logTail(tenant: "bcuhb", after: 0, newest: 1_000, maxBytes: .max) else {
            #expect(backend == "memory", "every store we ship reads a shared tail")
            return
        }
        let newest = try #require(try await store.logTail(tenant: "bcuhb", after: 0, newest: 10, maxBytes: .max))
        #expect(whole.rows.count == 27 && whole.start == 0 && whole.end == end)
        #expect(newest.rows.map(\.seq) == Array(18...27) && newest.start == 17 && newest.end == end)
        // Cut by bytes: the newest five rows' texts, and one byte short of them.
        let fiveBytes = whole.rows.suffix(5).reduce(0) { $0 + $1.text.utf8.count }
        let newestFive = try #require(try await store.logTail(tenant: "bcuhb", after: 0, newest: 1_000, maxBytes: fiveBytes))
        #expect(newestFive.rows.map(\.seq) == Array(23...27) && newestFive.start == 22 && newestFive.end == end)
        let newestFour = try #require(try await store.logTail(tenant: "bcuhb", after: 0, newest: 1_000, maxBytes: fiveBytes - 1))
        #expect(newestFour.rows.map(\.seq) == Array(24...27) && newestFour.start == 23)
        var compared = 0
        for tail in [SharedLogTail(tenant: "bcuhb", whole), SharedLogTail(tenant: "bcuhb", newest), SharedLogTail(tenant: "bcuhb", newestFive)] {
            for (identity, replica) in [(Self.rhyl, Self.rhylReplica), (Self.prestatyn, Self.prestatynReplica), (wrexham, wrexhamReplica)] {
                for position in Int64(0)...end {
                    let cursor = position == 0 ? nil : StreamCursor.cursor(at: position)
                    for limit in [1, 3, 100] {
                        for excluding in [nil, replica, Self.rhylReplica] {
                            guard let shared = tail.page(for: identity, after: cursor, limit: limit, excluding: excluding) else {
                                #expect(position < tail.start, "only a cursor before the tail is left to the store")
                                continue
                            }
                            let own = try await store.pullStored(for: identity, after: cursor, limit: limit, excluding: excluding)
                            #expect(shared == own, "\(identity.practice) after \(position), limit \(limit), excluding \(excluding?.rawValue ?? "none")")
                            compared += 1
                        }
                    }
                }
            }
        }
        #expect(compared > 800)
    }

    /// Through the shared tail as a session uses it: one practice pushes change after change,
    /// counting a wake-up after each commit, while another's subscription takes pages from the
    /// feed at the generation of its last wake-up (from the store when the feed cannot say). The
    /// subscriber must receive every push, none stepped over.
    @Test(arguments: backends) func aSubscriptionFedFromTheSharedTailStepsOverNoPush(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        let notifier = ChangeNotifier()
        // A small tail, so that it is replaced and trimmed while the pushes go on.
        let feed = SubscriptionFeed(store: store, notifier: notifier, logger: Logger(label: "feed"), maxRows: 8)
        let pushes = 200
        let pushed = Pushed()
        let pusher = Task {
            // A failed push ends the wait too (its error is rethrown below).
            defer { pushed.count.withLock { $0 = pushes } }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for n in 1...pushes {
                _ = try await store.push([Self.newRisk(n, at: now)], as: Self.rhyl, from: Self.rhylReplica)
                await notifier.notify(tenant: "bcuhb")
                pushed.count.withLock { $0 = n }
            }
        }
        var received: [Int64] = []
        var cursor: Cursor?
        var shared = 0
        var seen = notifier.generation(of: "bcuhb")
        func catchUp() async throws {
            while true {
                var page: ChangesPage
                if let fromFeed = await feed.page(for: Self.prestatyn, after: cursor, limit: 5, excluding: Self.prestatynReplica, seen: seen) {
                    page = fromFeed
                    shared += 1
                } else {
                    page = try await store.pullStored(for: Self.prestatyn, after: cursor, limit: 5, excluding: Self.prestatynReplica)
                }
                received += try Self.decoded(page).map(\.id.counter)
                cursor = page.cursor
                if !page.more { return }
            }
        }
        // Woken as a session is: at each new generation, while the pushes go on, and once after.
        try await catchUp()
        while pushed.count.withLock({ $0 }) < pushes {
            let generation = notifier.generation(of: "bcuhb")
            guard generation > seen else {
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            seen = generation
            try await catchUp()
        }
        try await pusher.value
        seen = notifier.generation(of: "bcuhb")
        try await catchUp()
        #expect(received == Array(1...Int64(pushes)), "every push once, in order")
        if backend != "memory" { #expect(shared > 0, "pages came from the shared tail") }
    }

    /// A pull cut from the shared tail (`SubscriptionFeed.pullPage`, what a session's `pull`
    /// tries first): none while the tenant has no tail (no subscriber); once it has one, the page
    /// `pullStored` reads, holding every push committed before the pull even when no wake-up
    /// was counted for it (another node's push), for pulls one at a time and many at once.
    @Test(arguments: backends) func aPullCutFromTheSharedTailHoldsEveryPushCommittedBeforeIt(_ backend: String) async throws {
        let store = try await Self.northWales(backend)
        let notifier = ChangeNotifier()
        // A small tail, so that it is replaced and trimmed as the pushes go on.
        let feed = SubscriptionFeed(store: store, notifier: notifier, logger: Logger(label: "feed"), maxRows: 8)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try await store.push([Self.newRisk(1, at: now)], as: Self.rhyl, from: Self.rhylReplica)
        #expect(await feed.pullPage(for: Self.prestatyn, after: nil, limit: 100) == nil, "no subscriber, so no tail is kept")
        // A subscription's page makes the tenant's tail.
        _ = await feed.page(for: Self.prestatyn, after: nil, limit: 5, excluding: Self.prestatynReplica, seen: 0)
        var cursor: Cursor?
        var fromTail = 0
        for n in 2...40 {
            // Pushed without a wake-up: the pull must not depend on one.
            _ = try await store.push([Self.newRisk(n, at: now)], as: Self.rhyl, from: Self.rhylReplica)
            let pulls = n % 5 == 0 ? 12 : 1
            let pages = await withTaskGroup(of: ChangesPage?.self) { group in
                for _ in 0..<pulls { group.addTask { [cursor] in await feed.pullPage(for: Self.prestatyn, after: cursor, limit: 100) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let stored = try await store.pullStored(for: Self.prestatyn, after: cursor, limit: 100, excluding: nil)
            #expect(try Self.decoded(stored).map(\.id.counter).last == Int64(n))
            for page in pages {
                guard let page else {
                    #expect(backend == "memory", "every store we ship reads a shared tail")
                    continue
                }
                #expect(page == stored, "push \(n): the page the store reads")
                fromTail += 1
            }
            cursor = stored.cursor
        }
        if backend != "memory" { #expect(fromTail == 39 + 8 * 11) }
        // The last subscriber gone, the tail goes, and pulls read the store again.
        await feed.forget(tenant: "bcuhb")
        #expect(await feed.pullPage(for: Self.prestatyn, after: cursor, limit: 100) == nil)
    }
}

/// How many of the racing pushes have committed.
private final class Pushed: Sendable {
    let count = Mutex(0)
}
