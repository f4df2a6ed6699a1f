import ClusterSyncCore
import ClusterSyncTLS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A practice's side of the line protocol: pushes the outbox, pulls until caught up, and in
/// watch mode stays connected and applies what other practices push.
///
/// Every step is resumable: the outbox empties only on ack, and the cursor moves in the same
/// transaction as the page it follows, so a sync cut off anywhere loses and duplicates nothing.
public struct SyncClient: Sendable {
    public let replica: Replica
    public let remote: RemoteSettings

    public init(replica: Replica, remote: RemoteSettings) {
        self.replica = replica
        self.remote = remote
    }

    public struct Progress: Sendable {
        public var pushed = 0
        public var toPush = 0
        public var pulled = 0
        public var more = false
    }

    public struct Summary: Sendable, Equatable {
        public var pushed = 0
        public var duplicates = 0
        public var pulled = 0
        public var author: String?
    }

    /// Pushes everything pending, then pulls until caught up.
    public func sync(progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        try await withConnection { connection in
            var summary = try await exchange(connection, progress: progress)
            try await connection.send(.bye)
            summary.author = connection.welcome.identity.author
            return summary
        }
    }

    /// Syncs, then stays connected: applies changes as others push them and pushes local edits
    /// every `pollSeconds`, until cancelled. `onApplied` reports each page applied.
    public func watch(pollSeconds: Double = 2, progress: @escaping @Sendable (Progress) -> Void = { _ in },
                      onApplied: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        try await withConnection { connection in
            _ = try await exchange(connection, progress: progress)
            try await connection.send(.subscribe(Subscribe(cursor: try replica.syncState().cursor)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while true {
                        let message = try await connection.receive()
                        switch message {
                        case .changes(let page):
                            let outcome = try replica.applyPulled(page)
                            if outcome.applied > 0 { onApplied(outcome.applied) }
                        case .ack(let ack):
                            try replica.acknowledge(connection.takePending(ack.batch))
                        case .subscribed, .pong:
                            continue
                        case .error(let error):
                            throw SyncError.server(error)
                        default:
                            throw SyncError.unexpected(message)
                        }
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .seconds(pollSeconds))
                        let batch = try replica.outbox(limit: connection.welcome.limits.maxChangesPerPush)
                        guard !batch.isEmpty, !connection.hasPending else { continue }
                        try await connection.send(.push(Push(batch: connection.remember(batch.map(\.id)), changes: batch)))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func exchange(_ connection: Connection, progress: @Sendable (Progress) -> Void) async throws -> Summary {
        var summary = Summary()
        var state = Progress()
        state.toPush = try replica.pendingCount()
        // Two batches in flight: the next is read and sent while the server stores the last.
        // Acks come back in order; a change leaves the outbox only when its batch is acked.
        var inFlight: [(id: String, count: Int)] = []
        var position: ChangeID?
        var drained = false
        while true {
            while !drained && inFlight.count < 2 {
                let batch = try replica.outbox(after: position, limit: connection.welcome.limits.maxChangesPerPush)
                guard let last = batch.last else {
                    drained = true
                    break
                }
                position = last.id
                let id = connection.remember(batch.map(\.id))
                try await connection.send(.push(Push(batch: id, changes: batch)))
                inFlight.append((id, batch.count))
            }
            guard let oldest = inFlight.first else { break }
            switch try await connection.receive() {
            case .ack(let ack) where ack.batch == oldest.id:
                inFlight.removeFirst()
                try replica.acknowledge(connection.takePending(ack.batch))
                summary.pushed += ack.accepted
                summary.duplicates += ack.duplicates
                state.pushed += oldest.count
                progress(state)
            case .error(let error):
                throw SyncError.server(error)
            case let other:
                throw SyncError.unexpected(other)
            }
        }
        try await connection.send(.pull(Pull(cursor: try replica.syncState().cursor)))
        while true {
            switch try await connection.receive() {
            case .changes(let page):
                // Ask for the next page before applying this one, so the server reads it meanwhile.
                if page.more { try await connection.send(.pull(Pull(cursor: page.cursor))) }
                let outcome = try replica.applyPulled(page)
                summary.pulled += outcome.applied
                state.pulled += page.changes.count
                state.more = page.more
                progress(state)
                if !page.more {
                    try replica.recordSuccessfulSync()
                    return summary
                }
            case .error(let error):
                throw SyncError.server(error)
            case let other:
                throw SyncError.unexpected(other)
            }
        }
    }

    private func withConnection<T: Sendable>(_ body: @Sendable (Connection) async throws -> T) async throws -> T {
        let identity = try replica.identity()
        var token: String?
        if let file = remote.tokenFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ClusterSyncError(.invalidValue, "cannot read the token file \(file)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let tls = try NIOSSLContext(configuration: TLSSetup.clientConfiguration(
            trustedCAFile: remote.caFile, certificateFile: remote.certificateFile, privateKeyFile: remote.keyFile))
        let host = remote.host
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: remote.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 64 * 1024 * 1024)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClusterSyncError(.unreachable, "cannot reach the server at \(host):\(remote.port): \(error)")
        }
        do {
            return try await talk(over: channel, identity: identity, token: token, body)
        } catch let error as NIOSSLError {
            throw Self.handshakeFailed(host, remote.port, "\(error)")
        } catch let error as BoringSSLError {
            throw Self.handshakeFailed(host, remote.port, "\(error)")
        } catch let error as ChannelError {
            throw ClusterSyncError(.unreachable, "the connection to \(host):\(remote.port) broke (\(error)); run sync again to resume")
        }
    }

    static func handshakeFailed(_ host: String, _ port: Int, _ detail: String) -> ClusterSyncError {
        // BoringSSL's reason ("SSLV3_ALERT_CERTIFICATE_EXPIRED") without its source path.
        var detail = detail
        if let start = detail.range(of: "OPENSSL_internal:")?.upperBound {
            let rest = detail[start...]
            detail = String(rest[..<(rest.range(of: " at ")?.lowerBound ?? rest.endIndex)])
        }
        return ClusterSyncError(.unreachable,
            "the TLS handshake with \(host):\(port) failed (\(detail)); check the CA file, and that the practice "
            + "certificate is in date and issued by this server's CA")
    }

    private func talk<T: Sendable>(
        over channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, identity: ReplicaIdentity, token: String?,
        _ body: @Sendable (Connection) async throws -> T
    ) async throws -> T {
        try await channel.executeThenClose { inbound, outbound in
            let connection = Connection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await connection.send(.hello(Hello(replica: identity.replicaID, token: token, client: "clustersync/1")))
            switch try await connection.receive() {
            case .welcome(let welcome):
                connection.welcome = welcome
                try replica.rememberServerLimits(welcome.limits)
            case .error(let error): throw SyncError.server(error)
            case let other: throw SyncError.unexpected(other)
            }
            return try await body(connection)
        }
    }
}

/// Why a sync stopped, in words for the person who ran it.
public enum SyncError: Error, CustomStringConvertible {
    case server(WireError)
    case unexpected(WireMessage)
    case closed

    public var description: String {
        switch self {
        case .server(let error): "the server refused: \(error.message) (\(error.code))"
        case .unexpected(let message): "the server answered out of turn (\(WireCodec.encode(message).prefix(80)))"
        case .closed: "the server closed the connection; run sync again to resume"
        }
    }
}

/// One open connection. Only one task receives at a time; sending is safe from any task.
final class Connection: @unchecked Sendable {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let lock = NSLock()
    private var pending: [String: [ChangeID]] = [:]
    private var nextBatch = 0
    var welcome: Welcome!

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ message: WireMessage) async throws {
        try await outbound.write(ByteBuffer(string: WireCodec.encode(message)))
    }

    func receive() async throws -> WireMessage {
        guard let buffer = try await inbound.next() else { throw SyncError.closed }
        return try WireCodec.decode(String(buffer: buffer))
    }

    /// Names a batch and remembers which changes it carries until its ack.
    func remember(_ ids: [ChangeID]) -> String {
        lock.withLock {
            nextBatch += 1
            let name = "b\(nextBatch)"
            pending[name] = ids
            return name
        }
    }

    func takePending(_ batch: String) -> [ChangeID] {
        lock.withLock { pending.removeValue(forKey: batch) ?? [] }
    }

    var hasPending: Bool { lock.withLock { !pending.isEmpty } }
}
