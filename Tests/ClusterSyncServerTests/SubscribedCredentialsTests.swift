import ClusterSyncCore
import ClusterSyncServerTesting
import ClusterSyncTLS
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import ClusterSyncServer

/// The credential re-check of subscribed sessions woken by a push: one store read per tenant per
/// wake-up (`SubscribedCredentials`, `ServerStore.credentialStates`), and still a credential
/// revoked or expired between two wake-ups is refused at the next one. Run on every store backend
/// through the production `SessionHandler`.
@Suite struct SubscribedCredentialsTests {
    static let rhyl = PracticePath(tenant: "bcuhb", cluster: "north", practice: "rhyl")
    static let prestatyn = PracticePath(tenant: "bcuhb", cluster: "north", practice: "prestatyn")
    static let pusher = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn")
    static let pusherReplica = ReplicaID("00000000000000b2")!

    /// A store of `backend` with tenants bcuhb (cluster north: rhyl, prestatyn) and cvuhb (city: llanishen).
    static func store(_ backend: StoreBackend) async throws -> any ServerStore {
        let store = try await backend.make()
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addTenant("cvuhb")
        try await store.addCluster("city", tenant: "cvuhb")
        try await store.addPractice("llanishen", cluster: "city", tenant: "cvuhb")
        return store
    }

    static func newRisk(_ n: Int) -> Change {
        Change(id: ChangeID(replica: pusherReplica, counter: Int64(n)), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)),
               record: RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "title", value: .string("Risk \(n)"))
    }

    @Test(arguments: StoreBackend.available)
    func manyCredentialsOfATenantAreReadAsTheirOwnReadsFindThem(_ backend: StoreBackend) async throws {
        let store = try await Self.store(backend)
        let live = try await store.issueToken(for: .practice(Self.rhyl), label: "Siân", expiresAt: nil)
        let revoked = try await store.issueToken(for: .practice(Self.prestatyn), label: nil, expiresAt: 1_000)
        let elsewhere = try await store.issueToken(for: .practice(PracticePath(tenant: "cvuhb", cluster: "city", practice: "llanishen")),
                                                   label: nil, expiresAt: nil)
        let certificate = try await store.recordCertificate(serial: "7a3f", for: Self.rhyl, label: nil, expiresAt: nil)
        var ids: Set<String> = [certificate, "nosuch"]
        for token in [live, revoked, elsewhere] { ids.insert(try #require(try await store.credential(token: token)).id) }
        _ = try await store.revokeCredential(id: try #require(try await store.credential(token: revoked)).id)
        try await store.revokeCertificate(serial: "bad5eed", tenant: "bcuhb")
        try await store.revokeCertificate(serial: "c0ffee", tenant: "cvuhb")
        let serials: Set<String> = ["bad5eed", "c0ffee", "7a3f"]

        let states = try await store.credentialStates(ids: ids, serials: serials, tenant: "bcuhb")
        // Each as the one-at-a-time reads find it, within the tenant.
        var expected: [String: CredentialRecord] = [:]
        for id in ids {
            if let record = try await store.credential(id: id), record.practice.tenant == "bcuhb" { expected[id] = record }
        }
        #expect(expected.count == 3, "the live, revoked and certificate credentials of bcuhb")
        #expect(states.records == expected)
        #expect(states.revokedSerials == ["bad5eed"], "a recorded certificate is revoked in its row; another tenant's list is not read")
        #expect(states.ids == ids && states.serials == serials)
        let none = try await store.credentialStates(ids: [], serials: [], tenant: "bcuhb")
        #expect(none.records.isEmpty && none.revokedSerials.isEmpty)
    }

    /// Three subscribed sessions of one tenant, each with its own token; a fourth practice pushes.
    /// Between the first and the second wake-up one token is revoked and another expires: at the
    /// second wake-up those two sessions are refused and closed and the third gets its page, and
    /// each wake-up cost one read of the three credentials.
    @Test(arguments: StoreBackend.available)
    func aCredentialRevokedOrExpiredBetweenWakeUpsIsRefusedAtTheNextThroughOneSharedRead(_ backend: StoreBackend) async throws {
        let store = try await Self.store(backend)
        let clock = Mutex<Int64>(1_795_426_200_000)
        let notifier = ChangeNotifier()
        let credentials = SubscribedCredentials(store: store, notifier: notifier, logger: Logger(label: "credentials"))
        let feed = SubscriptionFeed(store: store, notifier: notifier, logger: Logger(label: "feed"))
        let staying = try await store.issueToken(for: .practice(Self.rhyl), label: nil, expiresAt: nil)
        let revoked = try await store.issueToken(for: .practice(Self.rhyl), label: nil, expiresAt: nil)
        let expiring = try await store.issueToken(for: .practice(Self.prestatyn), label: nil, expiresAt: 1_795_426_260_000)
        var sessions: [WireSession] = []
        for (n, token) in [staying, revoked, expiring].enumerated() {
            sessions.append(try await WireSession.subscribed(token: token, replica: ReplicaID(String(format: "%016x", 0xa0 + n))!,
                                                             store: store, notifier: notifier) {
                $0.feed = feed
                $0.credentials = credentials
                $0.nowMillis = { clock.withLock { $0 } }
            })
        }
        // Each session listens (and its credential is watched) just after it says `subscribed`.
        let deadline = ContinuousClock.now + .seconds(30)
        while await credentials.watched(tenant: "bcuhb") < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(await credentials.watched(tenant: "bcuhb") == 3)

        _ = try await store.push([Self.newRisk(1)], as: Self.pusher, from: Self.pusherReplica)
        await notifier.notify(tenant: "bcuhb")
        for session in sessions {
            let page = try #require(try await session.nextLine())
            #expect(page.contains("\"type\":\"changes\"") && page.contains("Risk 1"))
        }
        #expect(await credentials.reads == 1, "one read for the three woken sessions")

        _ = try await store.revokeCredential(id: try #require(try await store.credential(token: revoked)).id)
        clock.withLock { $0 = 1_795_426_260_000 }
        _ = try await store.push([Self.newRisk(2)], as: Self.pusher, from: Self.pusherReplica)
        await notifier.notify(tenant: "bcuhb")
        let page = try #require(try await sessions[0].nextLine())
        #expect(page.contains("\"type\":\"changes\"") && page.contains("Risk 2"))
        for (session, why) in [(sessions[1], "has been revoked"), (sessions[2], "expired at")] {
            let refusal = try #require(try await session.nextLine())
            #expect(refusal.contains("\"code\":\"unauthenticated\"") && refusal.contains(why), "\(refusal)")
            #expect(!refusal.contains("Risk 2"))
            #expect(try await session.closes())
        }
        #expect(await credentials.reads == 2, "one read for the second wake-up")
    }

    /// Two nodes sharing PostgreSQL: sessions subscribed on the first (woken through its
    /// `PostgresChangeListener`), a token revoked and a push made through the second. The
    /// revocation is in the first node's shared read at the wake-up that push causes.
    @Test(.enabled(if: StoreBackend.available.contains(.postgres) || TestPostgres.isCI))
    func aRevocationThroughAnotherNodeIsRefusedAtTheNextWakeUp() async throws {
        let first = try await TestPostgres.freshStore()
        let second = try PostgresServerStore(location: first.location, maximumConnections: 2, logger: Logger(label: "node-2"))
        second.runInBackground()
        try await first.addTenant("bcuhb")
        try await first.addCluster("north", tenant: "bcuhb")
        try await first.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await first.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        let notifier = ChangeNotifier()
        let listener = Task { try await PostgresChangeListener(location: first.location, notifier: notifier, logger: Logger(label: "listener")).run() }
        defer { listener.cancel() }
        // The listener's first connection wakes everyone once: wait for it before subscribing.
        var listening = await notifier.subscribe(tenant: "bcuhb").stream.makeAsyncIterator()
        _ = await listening.next()

        let credentials = SubscribedCredentials(store: first, notifier: notifier, logger: Logger(label: "credentials"))
        let staying = try await first.issueToken(for: .practice(Self.rhyl), label: nil, expiresAt: nil)
        let revoked = try await first.issueToken(for: .practice(Self.rhyl), label: nil, expiresAt: nil)
        var sessions: [WireSession] = []
        for (n, token) in [staying, revoked].enumerated() {
            sessions.append(try await WireSession.subscribed(token: token, replica: ReplicaID(String(format: "%016x", 0xa0 + n))!,
                                                             store: first, notifier: notifier) { $0.credentials = credentials })
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while await credentials.watched(tenant: "bcuhb") < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }

        _ = try await second.push([Self.newRisk(1)], as: Self.pusher, from: Self.pusherReplica)
        for session in sessions {
            let page = try #require(try await session.nextLine())
            #expect(page.contains("\"type\":\"changes\"") && page.contains("Risk 1"))
        }
        let readsBefore = await credentials.reads
        _ = try await second.revokeCredential(id: try #require(try await second.credential(token: revoked)).id)
        _ = try await second.push([Self.newRisk(2)], as: Self.pusher, from: Self.pusherReplica)
        let page = try #require(try await sessions[0].nextLine())
        #expect(page.contains("\"type\":\"changes\"") && page.contains("Risk 2"))
        let refusal = try #require(try await sessions[1].nextLine())
        #expect(refusal.contains("\"code\":\"unauthenticated\"") && refusal.contains("has been revoked"), "\(refusal)")
        #expect(try await sessions[1].closes())
        #expect(await credentials.reads > readsBefore, "judged in the shared read")
    }
}

/// One session of the production `SessionHandler` on an `NIOAsyncTestingChannel`, welcomed and
/// subscribed from the start of the stream.
struct WireSession {
    let channel: NIOAsyncTestingChannel
    let session: Task<Void, Never>

    static func subscribed(token: String, replica: ReplicaID, store: any ServerStore, notifier: ChangeNotifier,
                           logger: Logger = Logger(label: "test"), configure: (inout SessionHandler) -> Void) async throws -> WireSession {
        let session = try await welcomed(token: token, replica: replica, store: store, notifier: notifier, logger: logger, configure: configure)
        try await session.send(WireMessage.subscribe(Subscribe(cursor: nil)))
        let subscribed = try #require(try await session.nextLine())
        #expect(subscribed.contains("\"type\":\"subscribed\""), "\(subscribed)")
        return session
    }

    /// A session through the production handler, welcomed (its replica's `key` given, if any).
    static func welcomed(token: String, replica: ReplicaID, key: ReplicaPublicKey? = nil, store: any ServerStore, notifier: ChangeNotifier,
                         logger: Logger = Logger(label: "test"), configure: (inout SessionHandler) -> Void) async throws -> WireSession {
        let channel = NIOAsyncTestingChannel()
        var handler = SessionHandler(store: store, notifier: notifier, limits: .default, logger: logger)
        configure(&handler)
        let (limits, sessionLimits, ready) = (handler.limits, handler.sessionLimits, handler)
        let wrapped = try await channel.testingEventLoop.executeInContext {
            try SessionHandler.wrap(channel, limits: limits, sessionLimits: sessionLimits)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7443))
        let identity = channel.eventLoop.makeSucceededFuture(CertificateIdentity?.none)
        let session = WireSession(channel: channel, session: Task { await ready.run(wrapped, certificateIdentity: identity) })
        try await session.send(WireMessage.hello(Hello(replica: replica, token: token, client: "test", key: key)))
        let welcome = try #require(try await session.nextLine())
        #expect(welcome.contains("\"type\":\"welcome\""), "\(welcome)")
        return session
    }

    func send(_ message: WireMessage) async throws {
        try await channel.writeInbound(ByteBuffer(string: WireCodec.encode(message)))
    }

    func nextLine(within seconds: Double = 30) async throws -> String? { try await channel.nextLine(within: seconds) }

    func closes(within seconds: Double = 30) async throws -> Bool { try await channel.closes(session, within: seconds) }
}
