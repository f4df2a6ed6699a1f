import ClusterSyncCore
import ClusterSyncServerTesting
import Foundation
import Logging
import Testing

@testable import ClusterSyncServer

/// Through the production `SessionHandler`: a push wakes the subscribed sessions of its own
/// cluster, not those of the tenant's other clusters (`ChangeNotifier`), and their credentials
/// are re-read without the other clusters' (`SubscribedCredentials`), on every store backend.
@Suite struct ClusterWakeUpTests {
    static let south = PracticePath(tenant: "bcuhb", cluster: "south", practice: "ruthin")
    static let southPusher = SessionIdentity(tenant: "bcuhb", cluster: "south", practice: "ruthin", author: "ruthin")

    @Test(arguments: StoreBackend.available)
    func aPushWakesItsOwnClustersWatchesOnly(_ backend: StoreBackend) async throws {
        let store = try await SubscribedCredentialsTests.store(backend)
        try await store.addCluster("south", tenant: "bcuhb")
        try await store.addPractice("ruthin", cluster: "south", tenant: "bcuhb")
        let notifier = ChangeNotifier()
        let feed = SubscriptionFeed(store: store, notifier: notifier, logger: Logger(label: "feed"))
        let credentials = SubscribedCredentials(store: store, notifier: notifier, logger: Logger(label: "credentials"))
        func session(_ token: String, _ replica: String, key: ReplicaPublicKey? = nil, subscribe: Bool) async throws -> WireSession {
            let replica = ReplicaID(replica)!
            let configure: (inout SessionHandler) -> Void = {
                $0.feed = feed
                $0.credentials = credentials
            }
            return subscribe
                ? try await WireSession.subscribed(token: token, replica: replica, store: store, notifier: notifier, configure: configure)
                : try await WireSession.welcomed(token: token, replica: replica, key: key, store: store, notifier: notifier, configure: configure)
        }
        let northWatch = try await session(try await store.issueToken(for: .practice(SubscribedCredentialsTests.rhyl), label: nil, expiresAt: nil),
                                           "00000000000000a1", subscribe: true)
        let southWatch = try await session(try await store.issueToken(for: .practice(Self.south), label: nil, expiresAt: nil),
                                           "00000000000000a2", subscribe: true)

        // Each session's credential is watched just after it says `subscribed`.
        let deadline = ContinuousClock.now + .seconds(30)
        while await credentials.watched(tenant: "bcuhb") < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }

        // A change of the south cluster stored without a wake-up: a south watch woken by
        // anything would now send it.
        let southReplica = ReplicaID("00000000000000c3")!
        let southRisk = Change(id: ChangeID(replica: southReplica, counter: 1), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)),
                               record: RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "south"),
                               field: "title", value: .string("South risk"))
        _ = try await store.push([southRisk], as: Self.southPusher, from: southReplica)

        // Prestatyn (north) pushes through the handler.
        let key = ReplicaSigningKey()
        let pusher = try await session(try await store.issueToken(for: .practice(SubscribedCredentialsTests.prestatyn), label: nil, expiresAt: nil),
                                       SubscribedCredentialsTests.pusherReplica.description, key: key.publicKey, subscribe: false)
        let northRisk = ChangeSignature.signed(SubscribedCredentialsTests.newRisk(1), with: key)
        try await pusher.send(.push(Push(batch: "b1", changes: [northRisk])))
        let ack = try #require(try await pusher.nextLine())
        #expect(ack.contains("\"type\":\"ack\""), "\(ack)")

        let page = try #require(try await northWatch.nextLine())
        #expect(page.contains("Risk 1") && !page.contains("South risk"), "\(page)")
        #expect(try await southWatch.nextLine(within: 1) == nil, "a north push woke the south watch")
        let (reads, asked) = (await credentials.reads, await credentials.asked)
        #expect(reads == 1 && asked == 1, "the north watch's credential alone: \(reads) reads asked for \(asked)")

        // A push to south (here as another node's would be told: its clusters) wakes it.
        await notifier.notify(tenant: "bcuhb", clusters: ["south"])
        let southPage = try #require(try await southWatch.nextLine())
        #expect(southPage.contains("South risk") && !southPage.contains("Risk 1"), "\(southPage)")
        let (readsThen, askedThen) = (await credentials.reads, await credentials.asked)
        #expect(readsThen == 2 && askedThen == 2, "\(readsThen) reads asked for \(askedThen)")
    }
}
