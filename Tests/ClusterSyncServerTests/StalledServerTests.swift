import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Logging
import Testing

@testable import ClusterSyncServer

/// A server that stops reading: the client's socket buffer fills and its write would wait for
/// ever. The session's tick task gives the write up after the ping and pong timeouts together,
/// closes the connection and says why (SyncClient.WriteWatch). Through the production path: a
/// real `SyncServer`, TLS on loopback, `SyncClient`, with a relay between them that stops
/// forwarding what the client sends once the handshake and `hello` have gone through.
@Suite struct StalledServerTests {
    @Test func aWriteTheServerNeverTakesEndsTheSyncWithItsReason() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-stalled-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let store = try SQLiteServerStore(path: data.database)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        let tokenFile = directory.appendingPathComponent("rhyl.token").path
        try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)
            .write(toFile: tokenFile, atomically: true, encoding: .utf8)

        var settings = ServerSettings(data: data)
        settings.port = 0
        var logger = Logger(label: "stalled")
        logger.logLevel = .critical
        let (ports, found) = AsyncStream<Int>.makeStream()
        let server = SyncServer(settings: settings, store: store, logger: logger) { address in
            found.yield(address.port ?? 0)
            found.finish()
        }
        let running = Task { try await server.run() }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        // The handshake and hello take about 2 KB; the two pushes in flight, 20 MB, more than
        // the client's socket buffer and the relay's small one hold.
        let relay = try StallingRelay(target: port, allowance: 16 * 1024)
        defer { relay.stop() }

        let replica = try Replica(path: directory.appendingPathComponent("rhyl.sqlite").path)
        _ = try replica.initialise(tenant: "bcuhb", cluster: "north", practice: "rhyl", displayName: "rhyl")
        try replica.setRemote(RemoteSettings(host: "127.0.0.1", port: relay.port, caFile: data.caCertificate, tokenFile: tokenFile))
        let risk = try replica.create(.risk, edits: [.set("title", .string("Winter pressures"))])
        let text = String(repeating: "A long account of the risk. ", count: 350)
        _ = try replica.edit((0..<2_000).map { (risk, .set("description", .string("\(text) (\($0))"))) })

        var timing = SyncClient.Timing()
        timing.pingSeconds = 0.5
        timing.pongTimeoutSeconds = 0.5
        let started = ContinuousClock.now
        do {
            _ = try await SyncClient(replica: replica, remote: try replica.remote()!, timing: timing).sync()
            Issue.record("the sync went through a server that stopped reading")
        } catch let error as ClusterSyncError {
            #expect(error.code == .unreachable)
            #expect(error.message.contains("stopped reading for 1 s; the connection is dead"), "\(error.message)")
        }
        #expect(ContinuousClock.now - started < .seconds(20), "given up after the timeout, not waiting for ever")
        #expect(try replica.pendingCount() == 2_001, "nothing left the outbox unacknowledged")
    }
}

/// A loopback relay that forwards everything the server sends, and what the client sends only
/// up to `allowance` bytes: then it stops reading from the client, holding the connection open,
/// as a server that has stopped reading does.
final class StallingRelay: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let target: Int
    private let allowance: Int
    private let lock = NSLock()
    private var stopped = false

    init(target: Int, allowance: Int) throws {
        self.target = target
        self.allowance = allowance
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        // A small receive buffer (the accepted sockets inherit it): the client's writes back up
        // after a few megabytes, not after the many the kernel would otherwise take.
        var size: Int32 = 64 * 1024
        setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Ends the relay's threads and closes its sockets.
    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(server)
                close(client)
                continue
            }
            Thread.detachNewThread { [self] in pump(from: client, to: server, limit: allowance) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, limit: .max) }
        }
    }

    private func pump(from: Int32, to: Int32, limit: Int) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var forwarded = 0
        defer {
            shutdown(from, Int32(SHUT_RDWR))
            shutdown(to, Int32(SHUT_RDWR))
        }
        while !isStopped {
            guard forwarded < limit else {
                // Read nothing more, and keep the connection open until the test ends.
                usleep(50_000)
                continue
            }
            let count = read(from, &buffer, min(buffer.count, limit - forwarded))
            guard count > 0 else { return }
            var sent = 0
            while sent < count {
                let n = buffer[sent..<count].withUnsafeBytes { write(to, $0.baseAddress, count - sent) }
                guard n > 0 else { return }
                sent += n
            }
            forwarded += count
        }
    }
}
