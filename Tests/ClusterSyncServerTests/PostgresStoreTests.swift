import ClusterSyncCore
@testable import ClusterSyncServer
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// What only the PostgreSQL store promises: several nodes (here, several stores on one
/// database, each with its own pool) pushing at once get gap-free sequences in commit order, and
/// a push on one node wakes subscribers on another, also after the listener lost its connection.
@Suite struct PostgresStoreTests {
    static let enabled = StoreBackend.available.contains(.postgres)

    /// Two nodes with tenant bcuhb, cluster north and eight practices.
    static func twoNodes() async throws -> (PostgresServerStore, PostgresServerStore) {
        let first = try await TestPostgres.freshStore()
        let second = try PostgresServerStore(location: first.location, maximumConnections: 4, logger: Logger(label: "node-2"))
        second.runInBackground()
        try await second.migrate()
        try await first.addTenant("bcuhb")
        try await first.addCluster("north", tenant: "bcuhb")
        for n in 1...8 { try await first.addPractice("p\(n)", cluster: "north", tenant: "bcuhb") }
        return (first, second)
    }

    static func identity(_ n: Int) -> SessionIdentity {
        SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "p\(n)", author: "p\(n)")
    }

    static func change(_ replica: ReplicaID, _ counter: Int64, record: RecordID) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_795_424_400_000 + counter),
               record: record, scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "title", value: .string("Title \(counter)"))
    }

    @Test(.enabled(if: enabled || TestPostgres.isCI))
    func concurrentPushesThroughTwoNodesGetGapFreeSequencesInCommitOrder() async throws {
        let (first, second) = try await Self.twoNodes()
        let reader = Self.identity(1)
        let pushesPerClient = 15, perPush = 3
        // A reader following the stream while the pushes run: every page it gets must continue
        // exactly where the last one ended (n + 1 is never visible before n).
        let stop = Atomic<Bool>(false)
        async let followed: [Int64] = {
            var cursor: ClusterSyncCore.Cursor?
            var seen: [Int64] = []
            while true {
                let done = stop.load(ordering: .acquiring)
                let page = try await second.pull(for: reader, after: cursor, limit: 50)
                for _ in page.changes { seen.append(Int64(seen.count + 1)) }
                if !page.changes.isEmpty {
                    let position = try StreamCursor.position(of: page.cursor)
                    #expect(position == Int64(seen.count), "a page skipped or repeated a sequence number")
                }
                cursor = page.cursor
                if done && !page.more { return seen }
                if page.changes.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            }
        }()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 1...8 {
                let node = client % 2 == 0 ? first : second
                group.addTask {
                    let replica = ReplicaID.random()
                    let record = RecordID.random(for: .risk)
                    for push in 0..<pushesPerClient {
                        let batch = (1...perPush).map { Self.change(replica, Int64(push * perPush + $0), record: record) }
                        let outcome = try await node.push(batch, as: Self.identity(client), from: replica)
                        #expect(outcome == PushOutcome(accepted: perPush, duplicates: 0))
                    }
                }
            }
            try await group.waitForAll()
        }
        stop.store(true, ordering: .releasing)
        let total = 8 * pushesPerClient * perPush
        #expect(try await followed.count == total)
        // Both nodes read the same stream, numbered 1...total without a gap, and the chain holds.
        let all = try await first.pull(for: reader, after: nil, limit: 10_000)
        #expect(all.changes.count == total && !all.more)
        #expect(try StreamCursor.position(of: all.cursor) == Int64(total))
        #expect(try await second.pull(for: reader, after: nil, limit: 10_000).changes.map(\.id) == all.changes.map(\.id))
        #expect(try await second.currentCursor(tenant: "bcuhb") == StreamCursor.cursor(at: Int64(total)))
        let report = try await second.verifyChain(tenant: "bcuhb", expectedHead: nil)
        #expect(report.isIntact && report.entries == total, "\(report.problems)")
        // A resend through the other node is a duplicate, not a second copy.
        let again = all.changes.prefix(3).map { change -> Change in var c = change; c.author = nil; return c }
        let replica = again[0].id.replica
        let owner = try #require((1...8).first { n in all.changes.first { $0.id.replica == replica }?.author?.hasPrefix("p\(n)") == true })
        #expect(try await first.push(Array(again), as: Self.identity(owner), from: replica).duplicates == 3)
    }

    /// A push wakes, on the other nodes, only its cluster's sessions, and on its own node none
    /// through the listener (the node woke them when it stored the push); an administrator's
    /// change wakes the whole tenant. Before, every push woke every session of the tenant on
    /// every node, twice on its own.
    @Test(.enabled(if: enabled || TestPostgres.isCI))
    func aPushWakesItsClusterOnOtherNodesAndNoneThroughItsOwnListener() async throws {
        let (first, second) = try await Self.twoNodes()
        #expect(first.node != second.node)
        let notifier = ChangeNotifier()
        let woken = Mutex<[String: Int]>([:])
        for cluster in ["north", "south"] {
            _ = await notifier.subscribe(tenant: "bcuhb", cluster: cluster) { _ in woken.withLock { $0[cluster, default: 0] += 1 } }
        }
        let listening = Task {
            try await PostgresChangeListener(location: second.location, notifier: notifier, node: second.node, logger: Logger(label: "listener")).run()
        }
        defer { listening.cancel() }
        /// The wake-ups once `done` holds, or at the deadline (notifications come in commit order
        /// on one connection: once a later one is in, an earlier one would be too).
        func wakeups(once done: @escaping ([String: Int]) -> Bool) async -> [String: Int] {
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline, !done(woken.withLock { $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
            return woken.withLock { $0 }
        }
        #expect(await wakeups { $0["north"] == 1 && $0["south"] == 1 } == ["north": 1, "south": 1], "the listener's first wake-up")
        let replica = ReplicaID.random()
        _ = try await second.push([Self.change(replica, 1, record: RecordID.random(for: .risk))], as: Self.identity(1), from: replica)
        _ = try await first.push([Self.change(replica, 2, record: RecordID.random(for: .risk))], as: Self.identity(1), from: replica)
        #expect(await wakeups { $0["north", default: 0] >= 2 } == ["north": 2, "south": 1],
                "node 1's push wakes north only; node 2's own push is passed over")
        try await first.addRegion("conwy-denbighshire", tenant: "bcuhb")
        try await first.setRegion("conwy-denbighshire", ofCluster: "north", tenant: "bcuhb")
        #expect(await wakeups { $0["south", default: 0] >= 2 } == ["north": 3, "south": 2], "an administrator's change wakes the tenant")
        #expect(PushNotice(payload: "bcuhb") == PushNotice(tenant: "bcuhb"), "an earlier version's notice")
        #expect(PushNotice(payload: PushNotice(tenant: "bcuhb", node: "n1", cluster: "north").payload) == PushNotice(tenant: "bcuhb", node: "n1", cluster: "north"))
    }

    @Test(.enabled(if: enabled || TestPostgres.isCI))
    func aPushOnOneNodeWakesSubscribersOnAnotherAlsoAfterTheListenerReconnects() async throws {
        let (first, second) = try await Self.twoNodes()
        let notifier = ChangeNotifier()
        let listener = PostgresChangeListener(location: second.location, notifier: notifier, logger: Logger(label: "listener"))
        let listening = Task { try await listener.run() }
        defer { listening.cancel() }
        let wakeups = await notifier.subscribe(tenant: "bcuhb").stream

        /// Whether a wake-up arrives within `seconds` (a deadline, not a timing): the wait is
        /// a task of its own, so the deadline's end cancels it rather than waiting for ever.
        func wokenWithin(_ seconds: Int) async -> Bool {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { try? await Task.sleep(for: .seconds(seconds)); return false }
                group.addTask {
                    var next = wakeups.makeAsyncIterator()
                    return await next.next() != nil
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
        }

        // The listener's first connection wakes everyone once (the catch-up), then a push on the
        // first node wakes the subscriber on the second.
        #expect(await wokenWithin(10), "the listener's first wake-up")
        let replica = ReplicaID.random()
        _ = try await first.push([Self.change(replica, 1, record: RecordID.random(for: .risk))], as: Self.identity(1), from: replica)
        #expect(await wokenWithin(10), "a push on node 1 wakes a subscriber on node 2")
        // So does an administrator's move of a cluster to another region (a PCPG's watching
        // replica receives it), and a revocation (the credential's open session is refused).
        try await first.addRegion("conwy-denbighshire", tenant: "bcuhb")
        try await first.setRegion("conwy-denbighshire", ofCluster: "north", tenant: "bcuhb")
        #expect(await wokenWithin(10), "a region move on node 1 wakes a subscriber on node 2")
        let token = try await first.issueToken(practice: "p1", cluster: "north", tenant: "bcuhb", label: nil)
        _ = try await first.revokeCredential(id: try #require(try await first.credential(token: token)).id)
        #expect(await wokenWithin(10), "a revocation on node 1 wakes a subscriber on node 2")

        // The listening connection is cut (as a database restart would); a push made meanwhile
        // may go unheard, but the reconnected listener wakes every subscriber to catch up.
        try await first.client.query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()
            """)
        _ = try await first.push([Self.change(replica, 2, record: RecordID.random(for: .risk))], as: Self.identity(1), from: replica)
        #expect(await wokenWithin(15), "after reconnecting, the listener wakes its subscribers")
        let page = try await second.pull(for: Self.identity(1), after: nil, limit: 10)
        #expect(page.changes.map(\.id.counter) == [1, 2])
    }

    /// Nodes may log in as a role that may read and write the tables but not create any
    /// (Deploy's `clustersync_app`): once the owner has migrated, opening the store runs no DDL;
    /// with a migration pending, such a role is told to run `clustersyncd migrate` as the owner.
    @Test(.enabled(if: enabled || TestPostgres.isCI))
    func aRoleWithoutCreateUsesAMigratedStoreAndIsToldToMigrateAnEmptyOne() async throws {
        let owner = try await TestPostgres.freshStore()
        let role = "cs_app_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        for statement in [
            "CREATE ROLE \(role) LOGIN", "GRANT USAGE ON SCHEMA public TO \(role)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role)",
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role)",
        ] {
            try await owner.client.query(PostgresQuery(unsafeSQL: statement))
        }
        var location = owner.location
        location.username = role
        let app = try PostgresServerStore(location: location, maximumConnections: 2, logger: Logger(label: "app"))
        app.runInBackground()
        #expect(try await app.migrate() == [])
        try await app.addTenant("bcuhb")
        try await app.addCluster("north", tenant: "bcuhb")
        try await app.addPractice("p1", cluster: "north", tenant: "bcuhb")
        let replica = ReplicaID.random()
        #expect(try await app.push([Self.change(replica, 1, record: RecordID.random(for: .risk))], as: Self.identity(1), from: replica).accepted == 1)

        let empty = try await TestPostgres.freshDatabase()
        var appOnEmpty = empty
        appOnEmpty.username = role
        let refused = try PostgresServerStore(location: appOnEmpty, maximumConnections: 1, logger: Logger(label: "app"))
        refused.runInBackground()
        let error = await #expect(throws: ClusterSyncError.self) { try await refused.migrate() }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("clustersyncd migrate") == true, "\(error?.message ?? "")")
    }

    /// A URL without sslmode is checked TLS across a network, and libpq's `prefer` on loopback only.
    @Test func aURLWithoutSSLModeIsVerifiedOffLoopback() throws {
        #expect(try PostgresLocation(url: "postgres://app@db.bcuhb.nhs.wales/clustersync").sslMode == "verify-full")
        #expect(try PostgresLocation(url: "postgres://app@10.20.0.5:5432/clustersync").sslMode == "verify-full")
        #expect(try PostgresLocation(url: "postgres://app@127.0.0.1/clustersync").sslMode == "prefer")
        #expect(try PostgresLocation(url: "postgres://app@localhost/clustersync").sslMode == "prefer")
        #expect(try PostgresLocation(url: "postgres://app@127.db.example/clustersync").sslMode == "verify-full", "a name, not an address")
        #expect(try PostgresLocation(url: "postgres://app@db.bcuhb.nhs.wales/clustersync?sslmode=require").sslMode == "require")
    }

    /// A database that cannot be reached makes a call fail with `store-unavailable` at the
    /// store's deadline, naming where it looked and never the password; it does not hang.
    @Test func anUnreachableDatabaseIsStoreUnavailableAtTheDeadline() async throws {
        // Loopback port 9 (discard): nothing serves PostgreSQL there.
        let location = try PostgresLocation(url: "postgres://clustersync:s3cret@127.0.0.1:9/none?sslmode=disable")
        let store = try PostgresServerStore(location: location, maximumConnections: 1, logger: Logger(label: "unreachable"),
                                            callDeadline: .seconds(2))
        let running = store.runInBackground()
        defer { running.cancel() }
        let error = await #expect(throws: ClusterSyncError.self) { try await store.addTenant("bcuhb") }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("127.0.0.1:9/none") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("s3cret") == false)
        // A client is told the code and what to do, and nothing of where the database is.
        let told = SessionHandler.told(try #require(error), "push failed", "unused", logger: Logger(label: "unreachable"))
        #expect(told.code == .storeUnavailable && told.message == SessionHandler.storeUnavailableAdvice)
        #expect(!told.message.contains("127.0.0.1") && !told.message.contains("none"), "\(told.message)")
    }

    /// `migrate` (every command's and every node's first call) connects outside the pool and
    /// says why it cannot, after trying for the store's call deadline (a database rebooting as
    /// the node starts): the pool had retried for about a minute and then failed as
    /// "internal error: ConnectionPoolError…" (the forty-fourth session's operations audit).
    @Test func aDatabaseThatCannotBeReachedIsSaidSoAtTheFirstCall() async throws {
        let location = try PostgresLocation(url: "postgres://clustersync:s3cret@127.0.0.1:9/none?sslmode=disable")
        let store = try PostgresServerStore(location: location, maximumConnections: 1, logger: Logger(label: "unreachable"), callDeadline: .seconds(3))
        let running = store.runInBackground()
        defer { running.cancel() }
        let error = await #expect(throws: ClusterSyncError.self) { try await store.migrate() }
        #expect(error?.code == .storeUnavailable && error?.message.contains("127.0.0.1:9/none") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("s3cret") == false)
    }
}
