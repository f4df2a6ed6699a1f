import ClusterSyncCore
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import ClusterSyncServer

/// How a session takes its events (`SessionEvents`, `SessionInbound`), through the production
/// `SessionHandler` on an `NIOAsyncTestingChannel`.
@Suite struct SessionEventsTests {
    /// Counts the reads that reach the front of the pipeline (the socket, in a server).
    final class ReadCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = NIOAny
        let reads = Atomic(0)

        func read(context: ChannelHandlerContext) {
            reads.add(1, ordering: .relaxed)
            context.read()
        }
    }

    static func line(_ message: WireMessage) -> ByteBuffer {
        ByteBuffer(string: WireCodec.encode(message))
    }

    /// The session pipeline behind a read counter, connected, with its session not started.
    static func connected(_ channel: NIOAsyncTestingChannel, counter: ReadCounter) async throws -> SessionEvents {
        let events = try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(counter)
            return try SessionHandler.wrap(channel, limits: .default)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7443))
        return events
    }

    /// While two lines wait to be handled, a read from the socket waits too, and goes on once the
    /// session has taken them: a client that sends faster than the server answers is held to a
    /// few lines in the server's memory.
    @Test func readsWaitWhileLinesWait() async throws {
        let store = try await TestSession.transcriptStore()
        let handler = SessionHandler(store: store, notifier: ChangeNotifier(), limits: .default, logger: Logger(label: "test"))
        let channel = NIOAsyncTestingChannel()
        let counter = ReadCounter()
        let events = try await Self.connected(channel, counter: counter)
        let hello = WireMessage.hello(Hello(replica: ReplicaID(bits: 0xa1), token: TestSession.token, client: "test"))
        try await channel.writeInbound(Self.line(hello))
        try await channel.writeInbound(Self.line(.ping(Ping(nonce: "1"))))
        let before = counter.reads.load(ordering: .relaxed)
        channel.read()
        try await Task.sleep(for: .milliseconds(50))
        #expect(counter.reads.load(ordering: .relaxed) == before, "held while two lines wait")

        handler.start(events, certificateIdentity: channel.eventLoop.makeSucceededFuture(nil))
        let welcome = try #require(try await channel.nextLine())
        #expect(welcome.contains("\"type\":\"welcome\""), "\(welcome)")
        let pong = try #require(try await channel.nextLine())
        #expect(pong.contains("\"type\":\"pong\""), "\(pong)")
        #expect(counter.reads.load(ordering: .relaxed) == before + 1, "the read held went on once the lines were taken")
        try await channel.close()
    }

    /// A welcomed session with nothing to do holds no task: its events are taken by a task that
    /// ends when none wait (a task keeps the memory of its deepest call until it ends).
    @Test func aQuietSessionHoldsNoTask() async throws {
        let store = try await TestSession.transcriptStore()
        let handler = SessionHandler(store: store, notifier: ChangeNotifier(), limits: .default, logger: Logger(label: "test"))
        let channel = NIOAsyncTestingChannel()
        let events = try await Self.connected(channel, counter: ReadCounter())
        handler.start(events, certificateIdentity: channel.eventLoop.makeSucceededFuture(nil))
        let hello = WireMessage.hello(Hello(replica: ReplicaID(bits: 0xa1), token: TestSession.token, client: "test"))
        try await channel.writeInbound(Self.line(hello))
        try await channel.writeInbound(Self.line(.subscribe(Subscribe(cursor: nil))))
        #expect(try #require(try await channel.nextLine()).contains("\"type\":\"welcome\""))
        #expect(try #require(try await channel.nextLine()).contains("\"type\":\"subscribed\""))
        var waited = 0
        while events.isTakingEvents, waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(!events.isTakingEvents, "no task once the session is quiet")

        // A new event starts a task again, and the session answers as before.
        try await channel.writeInbound(Self.line(.ping(Ping(nonce: "2"))))
        #expect(try #require(try await channel.nextLine()).contains("\"nonce\":\"2\""))
        try await channel.close()
        try await events.ended.futureResult.get()
        #expect(!events.isTakingEvents)
    }
}
