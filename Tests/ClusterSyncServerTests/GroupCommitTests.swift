import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Foundation
import GRDB
import Testing

@testable import ClusterSyncServer

/// Group commit in the SQLite server store (`GroupCommit`): writes that wait while the writer is
/// busy are committed together in one transaction, each in its own savepoint, so a refused push
/// fails alone, sequences stay gap-free and the chain unbroken. Real SQLite files throughout.
@Suite struct GroupCommitTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-group-\(UUID().uuidString)")
    let scope = RecordScope(tenant: "bcuhb", cluster: "north")

    func identity(_ practice: String) -> SessionIdentity {
        SessionIdentity(tenant: "bcuhb", cluster: "north", practice: practice, author: practice)
    }

    func change(_ replica: String, _ n: Int64, record: RecordID, scope: RecordScope? = nil) -> Change {
        Change(id: ChangeID(replica: ReplicaID(replica)!, counter: n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n),
               record: record, scope: scope ?? self.scope, field: "title", value: .string("Title \(n)"))
    }

    func makeStore() async throws -> SQLiteServerStore {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        for practice in ["rhyl", "prestatyn", "denbigh"] { try await store.addPractice(practice, cluster: "north", tenant: "bcuhb") }
        return store
    }

    /// Keeps the store's writer busy in a transaction of its own until `release` is signalled,
    /// so that the writes made meanwhile queue behind it; returns once the writer is held.
    func holdWriter(_ store: SQLiteServerStore) async throws -> (release: DispatchSemaphore, holder: Task<Void, any Error>) {
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holder = Task { try await store.write { _ in entered.signal(); release.wait() } }
        while entered.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(5)) }
        return (release, holder)
    }

    /// Waits (with a deadline, not a timed assertion) until `condition` holds.
    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("gave up waiting"); return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A group holds at most `GroupCommit.defaultMaxGroup` writes: the pushes waiting behind a
    /// busy writer are answered a group at a time, so a crowd of practices pushing at once is
    /// not acknowledged (and does not pull) all in the same instant.
    @Test func writesWaitingForTheWriterCommitInGroupsOfAtMostTheCap() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore()
        let (release, holder) = try await holdWriter(store)
        let groupsBefore = store.commits.groupsCommitted
        let cap = GroupCommit.defaultMaxGroup
        let pushes = (0..<cap + 8).map { n in
            Task {
                let replica = String(format: "00000000000a%04x", n)
                return try await store.push([change(replica, 1, record: RecordID.random(for: .risk))], as: identity("rhyl"))
            }
        }
        try await waitUntil { store.commits.waiting == cap + 8 }
        release.signal()
        try await holder.value
        for push in pushes { #expect(try await push.value == PushOutcome(accepted: 1, duplicates: 0)) }
        // The holder's transaction, then the waiting pushes: a full group and the rest.
        #expect(store.commits.groupsCommitted == groupsBefore + 3)
        let end = try StreamCursor.position(of: await store.currentCursor(tenant: "bcuhb"))
        #expect(end == Int64(cap + 8))
    }

    @Test func pushesWaitingForTheWriterCommitTogetherAndARefusedOneFailsAlone() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore()
        let record = RecordID("RSK-7K3M9Q2X1A")!
        let other = RecordID("RSK-7K3M9Q2X1B")!

        // Keep the writer busy until three pushes wait behind it.
        let (release, holder) = try await holdWriter(store)
        let groupsBefore = store.commits.groupsCommitted

        // Queued in this order: rhyl creates the record cluster-shared; prestatyn then claims it
        // is private to prestatyn (refused: a record keeps its scope, which it can only know
        // from rhyl's uncommitted write in the same transaction); denbigh writes another record.
        let first = Task { try await store.push([change("00000000000000a1", 1, record: record), change("00000000000000a1", 2, record: record)],
                                                as: identity("rhyl")) }
        try await waitUntil { store.commits.waiting == 1 }
        let refused = Task {
            try await store.push([change("00000000000000b1", 1, record: other),
                                  change("00000000000000b1", 2, record: record, scope: RecordScope(tenant: "bcuhb", cluster: "north", practice: "prestatyn"))],
                                 as: identity("prestatyn"))
        }
        try await waitUntil { store.commits.waiting == 2 }
        let third = Task { try await store.push([change("00000000000000c1", 1, record: other)], as: identity("denbigh")) }
        try await waitUntil { store.commits.waiting == 3 }
        release.signal()
        try await holder.value

        #expect(try await first.value == PushOutcome(accepted: 2, duplicates: 0))
        let rejection = await #expect(throws: PushRejection.self) { try await refused.value }
        #expect(rejection?.change == ChangeID("2@00000000000000b1"))
        #expect(rejection?.error.code == .forbiddenScope)
        #expect(try await third.value == PushOutcome(accepted: 1, duplicates: 0))
        // The holder's transaction (still open when counted), then one for all three pushes.
        #expect(store.commits.groupsCommitted == groupsBefore + 2)

        // Nothing of the refused push is stored (not even its first, valid change); the others'
        // changes hold positions 1 to 3 with no gap, chained.
        let page = try await store.pull(for: identity("rhyl"), after: nil, limit: 100)
        #expect(page.changes.map(\.id.description) == ["1@00000000000000a1", "2@00000000000000a1", "1@00000000000000c1"])
        #expect(page.cursor == StreamCursor.cursor(at: 3))
        let report = try await store.verifyChain(tenant: "bcuhb", expectedHead: nil)
        #expect(report.isIntact && report.entries == 3, "\(report.problems)")
        // The refused push, sent again without its bad change, is accepted: nothing half-stored.
        #expect(try await store.push([change("00000000000000b1", 1, record: other)], as: identity("prestatyn")).accepted == 1)
        // And the accepted ones, sent again, are duplicates.
        #expect(try await store.push([change("00000000000000c1", 1, record: other)], as: identity("denbigh")) == PushOutcome(accepted: 0, duplicates: 1))
    }

    @Test func sessionStartWritesAndPushesShareACommit() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore()
        let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)
        let credential = try #require(try await store.credential(token: token))

        let (release, holder) = try await holdWriter(store)
        let groupsBefore = store.commits.groupsCommitted
        let used = Task { try await store.markUsed(credential: credential.id, at: 1_800_000_000_000) }
        try await waitUntil { store.commits.waiting == 1 }
        let logged = Task { try await store.recordAudit(AuditEntry(at: 1_800_000_000_000, event: .connected, tenant: "bcuhb"), keepAfter: 0) }
        try await waitUntil { store.commits.waiting == 2 }
        // A write that fails (a tenant that exists) in the middle of the group.
        let clash = Task { try await store.addTenant("bcuhb") }
        try await waitUntil { store.commits.waiting == 3 }
        let pushed = Task { try await store.push([change("00000000000000a1", 1, record: RecordID("RSK-7K3M9Q2X1A")!)], as: identity("rhyl")) }
        try await waitUntil { store.commits.waiting == 4 }
        release.signal()
        try await holder.value

        try await used.value
        try await logged.value
        await #expect(throws: ClusterSyncError.self) { try await clash.value }
        #expect(try await pushed.value.accepted == 1)
        #expect(store.commits.groupsCommitted == groupsBefore + 2)
        #expect(try await store.credential(id: credential.id)?.lastUsedAt == 1_800_000_000_000)
        #expect(try await store.audit(tenant: "bcuhb", since: nil, limit: 10).map(\.event) == [.connected])
    }
}

/// The same semantics through the production path: a real `SyncServer` over a real SQLite file,
/// TLS on loopback, replicas syncing through `SyncClient` all at once, and beside them a
/// session whose batch the store refuses. No timing is asserted: whether writes shared a commit
/// depends on the machine; what must hold either way is what each session is told and stores.
@Suite struct GroupCommitServerTests {
    @Test func concurrentSessionsAreEachAnsweredForTheirOwnBatch() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-group-server-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let store = try SQLiteServerStore(path: data.database)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        let practices = ["rhyl", "prestatyn", "denbigh", "ruthin"]
        var replicas: [Replica] = []
        for practice in practices {
            try await store.addPractice(practice, cluster: "north", tenant: "bcuhb")
            let tokenFile = directory.appendingPathComponent("\(practice).token").path
            try await store.issueToken(practice: practice, cluster: "north", tenant: "bcuhb", label: nil)
                .write(toFile: tokenFile, atomically: true, encoding: .utf8)
            replicas.append(try Replica(path: directory.appendingPathComponent("\(practice).sqlite").path))
            _ = try replicas.last!.initialise(tenant: "bcuhb", cluster: "north", practice: practice, displayName: practice)
        }
        let hostileToken = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)

        let server = try await ServerOnAnyPort.start(settings: ServerSettings(data: data), store: store, label: "group-commit")
        defer { server.running.cancel() }
        let port = server.port
        for (practice, replica) in zip(practices, replicas) {
            try replica.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: data.caCertificate,
                                                 tokenFile: directory.appendingPathComponent("\(practice).token").path))
        }

        // Four practices each make five risks and sync three times, all at once, while a fifth
        // session's second batch is refused by the store (a record keeps its scope).
        let refusal = try await withThrowingTaskGroup(of: WireError?.self) { group in
            for replica in replicas {
                group.addTask {
                    for round in 0..<3 {
                        for n in 0..<5 where round == 0 {
                            _ = try replica.create(.risk, edits: [.set("title", .string("Risk \(n)"))])
                        }
                        _ = try await SyncClient(replica: replica, remote: try replica.remote()!).sync()
                    }
                    return nil
                }
            }
            group.addTask { try await HostileSession.pushRefusedBatch(port: port, caFile: data.caCertificate, token: hostileToken) }
            var refusal: WireError?
            for try await result in group { if let result { refusal = result } }
            return refusal
        }
        #expect(refusal?.code == ClusterSyncError.Code.forbiddenScope.rawValue)
        #expect(refusal?.change == ChangeID("3@00000000000000e1"))

        // Everyone in step: each replica holds the 20 risks and the hostile session's accepted
        // record, never the refused batch's; the log is gap-free and chained.
        for replica in replicas { _ = try await SyncClient(replica: replica, remote: try replica.remote()!).sync() }
        for replica in replicas {
            let titles = try replica.records(.risk).compactMap { $0.string("title") }
            #expect(titles.count == 21)
            #expect(!titles.contains("Refused with its batch"))
        }
        let report = try await store.verifyChain(tenant: "bcuhb", expectedHead: nil)
        #expect(report.isIntact, "\(report.problems)")
        let end = try StreamCursor.position(of: try await store.currentCursor(tenant: "bcuhb"))
        #expect(report.entries == Int(end))
        let page = try await store.pull(for: SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl"),
                                        after: nil, limit: 10_000)
        #expect(page.changes.count == Int(end))
    }
}

/// A session speaking the wire itself: one accepted batch (a cluster-shared risk), then a batch
/// the store refuses as a whole (a new risk, and a change claiming the first risk is private).
enum HostileSession {
    static func pushRefusedBatch(port: Int, caFile: String, token: String) async throws -> WireError? {
        let context = try NIOSSLContext(configuration: try TLSSetup.clientConfiguration(trustedCAFile: caFile))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 64 * 1024 * 1024)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func send(_ message: WireMessage) async throws { try await outbound.write(ByteBuffer(string: WireCodec.encode(message))) }
            func next() async throws -> WireMessage {
                guard let line = try await lines.next() else { throw ClusterSyncError(.internal, "closed") }
                return try WireCodec.decode(line)
            }
            let replica = ReplicaID("00000000000000e1")!
            let key = ReplicaSigningKey()
            try await send(.hello(Hello(replica: replica, token: token, client: "group-commit-test", key: key.publicKey)))
            _ = try await next()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            func change(_ n: Int64, _ record: RecordID, private isPrivate: Bool = false, _ title: String) -> Change {
                ChangeSignature.signed(Change(
                    id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: now, logical: UInt16(n)), record: record,
                    scope: RecordScope(tenant: "bcuhb", cluster: "north", practice: isPrivate ? "rhyl" : nil), field: "title",
                    value: .string(title)), with: key)
            }
            let shared = RecordID.random(for: .risk)
            try await send(.push(Push(batch: "b1", changes: [change(1, shared, "Accepted before")])))
            guard case .ack = try await next() else { throw ClusterSyncError(.internal, "the first batch was not acknowledged") }
            try await send(.push(Push(batch: "b2", changes: [change(2, RecordID.random(for: .risk), "Refused with its batch"),
                                                            change(3, shared, private: true, "Refused with its batch")])))
            guard case .error(let error) = try await next() else { return nil }
            return error
        }
    }
}
