import ClusterSyncCore
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import ClusterSyncServer

/// Through the production `SessionHandler`, on the SQLite file and on PostgreSQL: a subscription
/// whose page read failed reads it again when its retry is due, without a push to wake it. The
/// store fails for real: its log table is renamed away, then back.
@Suite struct SubscriptionRetryServerTests {
    @Test(arguments: StoreBackend.persistent)
    func aSubscriptionWhoseReadFailedReadsAgainWithoutAnotherPush(_ backend: StoreBackend) async throws {
        let store = try await SubscribedCredentialsTests.store(backend)
        let notifier = ChangeNotifier()
        let log = RecordedLog()
        let feed = SubscriptionFeed(store: store, notifier: notifier, logger: log.logger("feed"))
        let watch = try await Self.caughtUpWatch(store, notifier, logger: log.logger("session")) { $0.feed = feed }
        try await Self.failTheNextRead(store, notifier, log)

        // The store mends. Nothing is read until the retry is due (the session's clock is the
        // test loop's, moved by hand), then the page goes out.
        try await Self.execute("ALTER TABLE log_away RENAME TO log", on: store)
        #expect(try await watch.nextLine(within: 0.3) == nil, "read again before the retry was due")
        await watch.channel.testingEventLoop.advanceTime(by: SessionLimits.default.subscriptionRetry)
        let page = try #require(try await watch.nextLine(within: 30), "no page once the retry was due")
        #expect(page.contains("\"type\":\"changes\"") && page.contains("Risk 1"), "\(page)")
    }

    /// A retried read goes out only to a credential still valid: one revoked while the store
    /// failed (its wake-up's re-check could not read it either) is refused at the retry.
    @Test(arguments: StoreBackend.persistent)
    func aRetriedReadChecksTheCredentialFirst(_ backend: StoreBackend) async throws {
        let store = try await SubscribedCredentialsTests.store(backend)
        let notifier = ChangeNotifier()
        let log = RecordedLog()
        let watch = try await Self.caughtUpWatch(store, notifier, logger: log.logger("session"))
        try await Self.failTheNextRead(store, notifier, log)
        let rhyl = try #require(try await store.credentials(tenant: "bcuhb").first { $0.practice.practice == "rhyl" })
        _ = try await store.revokeCredential(id: rhyl.id)
        try await Self.execute("ALTER TABLE log_away RENAME TO log", on: store)

        await watch.channel.testingEventLoop.advanceTime(by: SessionLimits.default.subscriptionRetry)
        let refusal = try #require(try await watch.nextLine(within: 30))
        #expect(refusal.contains("\"code\":\"unauthenticated\"") && !refusal.contains("Risk 1"), "\(refusal)")
        #expect(try await watch.closes())
    }

    /// A subscription whose position the store compacted away (the changes after it were stored
    /// and compacted before it read them) is told `cursor-expired` and ended, not retried
    /// forever: the session may then pull a snapshot, and subscribe again.
    @Test(arguments: StoreBackend.persistent)
    func aSubscriptionWhosePositionWasCompactedIsEndedAndMayPullASnapshot(_ backend: StoreBackend) async throws {
        let store = try await SubscribedCredentialsTests.store(backend)
        let notifier = ChangeNotifier()
        let watch = try await Self.caughtUpWatch(store, notifier)

        // Three writes of one title, stored without a wake-up, then compacted: two are gone.
        var changes = (1...3).map { SubscribedCredentialsTests.newRisk($0) }
        for n in 1..<changes.count {
            (changes[n].record, changes[n].supersedes) = (changes[0].record, [changes[n - 1].id])
        }
        _ = try await store.push(changes, as: SubscribedCredentialsTests.pusher, from: SubscribedCredentialsTests.pusherReplica)
        let now = Int64(Date().timeIntervalSince1970 * 1000) + 1_000
        #expect(try await store.compact(tenant: "bcuhb", olderThan: now, now: now).compacted == 2)
        await notifier.notify(tenant: "bcuhb", clusters: ["north"])

        let refusal = try #require(try await watch.nextLine(within: 30), "the subscription went quiet")
        #expect(refusal.contains("\"code\":\"cursor-expired\"") && refusal.contains("\"fatal\":false"), "\(refusal)")
        try await watch.send(.pull(Pull(cursor: nil, snapshot: true)))
        let snapshot = try #require(try await watch.nextLine())
        #expect(snapshot.contains("\"type\":\"snapshot\"") && snapshot.contains("Risk 3") && !snapshot.contains("Risk 2"), "\(snapshot)")
        try await watch.send(.subscribe(Subscribe(cursor: nil)))
        #expect(try #require(try await watch.nextLine()).contains("\"type\":\"subscribed\""))
    }

    /// Rhyl's session, subscribed, its first catch-up read over: lines are handled in turn, so
    /// the pong comes after it.
    static func caughtUpWatch(_ store: any ServerStore, _ notifier: ChangeNotifier, logger: Logger = Logger(label: "test"),
                              configure: (inout SessionHandler) -> Void = { _ in }) async throws -> WireSession {
        let token = try await store.issueToken(for: .practice(SubscribedCredentialsTests.rhyl), label: nil, expiresAt: nil)
        let watch = try await WireSession.subscribed(token: token, replica: ReplicaID("00000000000000a1")!, store: store,
                                                     notifier: notifier, logger: logger, configure: configure)
        try await watch.send(.ping(Ping()))
        let pong = try #require(try await watch.nextLine())
        #expect(pong.contains("\"type\":\"pong\""), "\(pong)")
        return watch
    }

    /// Stores a risk without a wake-up, makes the log unreadable, wakes the watch and waits
    /// until its read has failed (`log` has the session's messages).
    static func failTheNextRead(_ store: any ServerStore, _ notifier: ChangeNotifier, _ log: RecordedLog) async throws {
        _ = try await store.push([SubscribedCredentialsTests.newRisk(1)], as: SubscribedCredentialsTests.pusher,
                                 from: SubscribedCredentialsTests.pusherReplica)
        try await execute("ALTER TABLE log RENAME TO log_away", on: store)
        await notifier.notify(tenant: "bcuhb", clusters: ["north"])
        let deadline = ContinuousClock.now + .seconds(30)
        while !log.messages.contains("subscription pull failed"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(log.messages.contains("subscription pull failed"), "\(log.messages)")
    }

    /// Runs `sql` on the store's own database, outside its API.
    static func execute(_ sql: String, on store: any ServerStore) async throws {
        switch store {
        case let sqlite as SQLiteServerStore: try await sqlite.database.write { try $0.execute(sql: sql) }
        case let postgres as PostgresServerStore: try await postgres.client.query(PostgresQuery(unsafeSQL: sql))
        default: Issue.record("no SQL for \(type(of: store))")
        }
    }
}

/// The messages logged through its loggers, for a test to wait for one.
final class RecordedLog: Sendable {
    private let recorded = Mutex<[String]>([])

    var messages: [String] { recorded.withLock { $0 } }

    func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            log.recorded.withLock { $0.append(message.description) }
        }
    }
}
