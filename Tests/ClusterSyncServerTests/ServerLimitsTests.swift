import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ClusterSyncTLS
import ServiceLifecycle
import Testing

/// The connection limits of Protocol/PROTOCOL.md §10 on a real `SyncServer` on loopback.
@Suite struct ServerLimitsTests {
    struct Running {
        let port: Int
        let group: ServiceGroup
        let run: Task<Void, any Error>
        let directory: URL
    }

    static func start(store: any ServerStore = InMemoryServerStore(), _ configure: (inout ServerSettings) -> Void) async throws -> Running {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-limits-\(UUID().uuidString)")
        let data = DataDirectory(path: directory.path)
        try data.initialise()
        var settings = ServerSettings(data: data)
        settings.port = 0
        configure(&settings)
        let (ports, found) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "limits")
        logger.logLevel = .critical
        let server = SyncServer(settings: settings, store: store, logger: logger) { address in
            found.yield(address.port ?? 0)
            found.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        let run = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        return Running(port: port, group: group, run: run, directory: directory)
    }

    /// A plain TCP connection that never starts TLS.
    static func rawConnection(_ port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    /// Whether `channel` is closed within `seconds`.
    static func closes(_ channel: any Channel, within seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if !channel.isActive { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func aConnectionThatNeverFinishesTLSIsClosed() async throws {
        let server = try await Self.start { $0.tlsHandshakeTimeoutSeconds = 1 }
        defer { try? FileManager.default.removeItem(at: server.directory) }
        let stalled = try await Self.rawConnection(server.port)
        #expect(try await Self.closes(stalled, within: 10))
        await server.group.triggerGracefulShutdown()
        try await server.run.value
    }

    /// Two connections fit under a cap of two; of three, one is closed on accept. Which one is
    /// not fixed: each accepted connection is counted on its own event loop, so two arriving
    /// together may be counted in either order (the test once assumed the last to connect was
    /// the one refused, and failed whenever the loops ran them the other way round).
    @Test func connectionsOverTheCapAreClosedOnAccept() async throws {
        let server = try await Self.start {
            $0.maxConnections = 2
            $0.tlsHandshakeTimeoutSeconds = 60
        }
        defer { try? FileManager.default.removeItem(at: server.directory) }
        var connections: [any Channel] = []
        for _ in 0..<3 { connections.append(try await Self.rawConnection(server.port)) }
        let deadline = ContinuousClock.now + .seconds(10)
        while connections.allSatisfy(\.isActive), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Give a wrongly refused second connection time to show too.
        try await Task.sleep(for: .milliseconds(200))
        let held = connections.filter(\.isActive)
        try #require(held.count == 2, "exactly one of three is over the cap of two")
        // A slot frees when a connection closes.
        try await held[0].close()
        try await Task.sleep(for: .milliseconds(200))
        let fourth = try await Self.rawConnection(server.port)
        #expect(!(try await Self.closes(fourth, within: 0.5)))
        for channel in held.dropFirst() + [fourth] { try? await channel.close() }
        await server.group.triggerGracefulShutdown()
        try await server.run.value
    }

    /// A connection stuck before its session could even start (TLS never finished, and its
    /// timeout is long) does not hold up a shutdown beyond drainSeconds.
    @Test func shutdownClosesWhatIsStillOpenAfterDrainSeconds() async throws {
        let server = try await Self.start {
            $0.tlsHandshakeTimeoutSeconds = 600
            $0.drainSeconds = 1
        }
        defer { try? FileManager.default.removeItem(at: server.directory) }
        let stuck = try await Self.rawConnection(server.port)
        try await Task.sleep(for: .milliseconds(200))
        await server.group.triggerGracefulShutdown()
        let stopped = Task {
            try await server.run.value
            return true
        }
        #expect(try await Self.closes(stuck, within: 30), "closed by the drain")
        #expect(try await stopped.value)
    }

    /// A welcomed session is told `shutting-down` when the server shuts down gracefully, and the
    /// server stops once it has closed: sessions run without a task of their own, so the
    /// connection registry tells each one and waits for it.
    @Test func aShutdownTellsEveryOpenSession() async throws {
        let server = try await Self.start(store: try await TestSession.transcriptStore()) { $0.drainSeconds = 60 }
        defer { try? FileManager.default.removeItem(at: server.directory) }
        let tls = try TLSSetup.clientConfiguration(trustedCAFile: DataDirectory(path: server.directory.path).caCertificate)
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 1 << 20)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let lines = try await channel.executeThenClose { inbound, outbound in
            var received: [String] = []
            var iterator = inbound.makeAsyncIterator()
            try await outbound.write(ByteBuffer(string: WireCodec.encode(.hello(
                Hello(replica: ReplicaID(bits: 0xa1), token: TestSession.token, client: "test")))))
            if let welcome = try await iterator.next() { received.append(String(buffer: welcome)) }
            await server.group.triggerGracefulShutdown()
            while let line = try await iterator.next() { received.append(String(buffer: line)) }
            return received
        }
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("\"type\":\"welcome\"") == true, "\(lines)")
        #expect(lines.last?.contains("\"code\":\"shutting-down\"") == true, "\(lines)")
        // Stopped by the shutdown itself, well before the drain time would have closed the
        // session (the watchdog only keeps a hang from stalling the suite).
        let began = ContinuousClock.now
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            server.run.cancel()
        }
        _ = try? await server.run.value
        watchdog.cancel()
        #expect(ContinuousClock.now - began < .seconds(30), "stopped by the shutdown, not by the watchdog")
    }
}

/// A client that stops reading what it is sent, over real TLS on loopback.
@Suite struct WriteTimeoutTests {
    /// Counts the lines a client receives, and stops reading once its TLS handshake is done.
    final class StopsReading: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let handshake: EventLoopPromise<Void>
        /// Touched on the channel's event loop only.
        var lines = 0

        init(_ handshake: EventLoopPromise<Void>) { self.handshake = handshake }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                context.channel.setOption(ChannelOptions.autoRead, value: false).cascade(to: handshake)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            lines += unwrapInboundIn(data).readableBytesView.filter { $0 == UInt8(ascii: "\n") }.count
        }
    }

    /// A welcomed client asks for eight pages of about 1 MiB each and reads none of them: the
    /// pages fill the connection (and the kernel's buffers, up to 4 MB on loopback), the
    /// session's write cannot finish, and the server closes the connection after `writeTimeout`.
    /// Before that limit the connection stayed open for good: even the idle timer waited
    /// behind the write.
    @Test func aClientThatStopsReadingIsClosedAfterTheWriteTimeout() async throws {
        let store = try await TestSession.transcriptStore()
        let identity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010")
        let maker = ReplicaID("00000000000000d1")!, scope = RecordScope(tenant: "ctmuhb", cluster: "rhondda")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let note = String(repeating: "A long note about winter pressures. ", count: 28)
        // Each record's description written 500 times without seeing itself (FieldGrowth bounds
        // a field's live writes at 1,000).
        let records = (0..<4).map { _ in RecordID.random(for: .risk) }
        for batch in 0..<2 {
            _ = try await store.push((1...1_000).map { n in
                let counter = Int64(batch * 1_000 + n)
                return Change(id: ChangeID(replica: maker, counter: counter), hlc: HLCTimestamp(millis: now - 60_000 + counter),
                              record: records[Int(counter) % 4], scope: scope, field: "description", value: .string(note))
            }, as: identity, from: maker)
        }
        let server = try await ServerLimitsTests.start(store: store) { $0.sessionLimits.writeTimeout = .seconds(1) }
        defer { try? FileManager.default.removeItem(at: server.directory) }
        let context = try NIOSSLContext(configuration: try TLSSetup.clientConfiguration(
            trustedCAFile: DataDirectory(path: server.directory.path).caCertificate))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let handshake = loop.makePromise(of: Void.self)
        let counter = StopsReading(handshake)
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(counter)
                }
            }
            .connect(host: "127.0.0.1", port: server.port).get()
        try await handshake.futureResult.get()
        var requests = WireCodec.encode(.hello(Hello(replica: ReplicaID(bits: 0xd2), token: TestSession.token, client: "test")))
        for _ in 0..<8 { requests += WireCodec.encode(.pull(Pull(cursor: nil))) }
        try await channel.writeAndFlush(ByteBuffer(string: requests)).get()

        // Well past the write timeout (a loaded machine fills the connection's buffers slowly:
        // 3 s once left the server still writing, and 6 s once more at a load of 7 on two
        // cores), then the client reads again: what was in flight, and the end of the connection.
        try await Task.sleep(for: .seconds(12))
        try await channel.setOption(ChannelOptions.autoRead, value: true).get()
        channel.read()
        #expect(try await ServerLimitsTests.closes(channel, within: 10), "the server closed the connection")
        let received = try await loop.submit { counter.lines }.get()
        #expect(received < 9, "the server gave up part way: \(received) lines of welcome and 8 pages")
        await server.group.triggerGracefulShutdown()
        _ = try? await server.run.value
    }
}
