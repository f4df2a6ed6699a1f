import ClusterSyncTLS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A temporary folder with a fresh development CA and a server certificate, written as PEM files
/// the way a deployment would hold them.
struct TLSFixture {
    let directory: String
    let authority: DevelopmentCertificateAuthority
    let caFile: String
    let serverCertificateFile: String
    let serverKeyFile: String

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clustersync-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        authority = try DevelopmentCertificateAuthority.generate()
        caFile = directory + "/ca.pem"
        serverCertificateFile = directory + "/server.pem"
        serverKeyFile = directory + "/server-key.pem"
        try authority.root.write(certificateTo: caFile, privateKeyTo: directory + "/ca-key.pem")
        try authority.issueServerCertificate().write(certificateTo: serverCertificateFile, privateKeyTo: serverKeyFile)
    }

    /// Writes a client certificate and key as `<name>.pem` and `<name>-key.pem`.
    func write(_ pair: CertificateAndKey, as name: String) throws -> (certificate: String, key: String) {
        let files = (certificate: directory + "/\(name).pem", key: directory + "/\(name)-key.pem")
        try pair.write(certificateTo: files.certificate, privateKeyTo: files.key)
        return files
    }

    func serverConfiguration() throws -> TLSConfiguration {
        try TLSSetup.serverConfiguration(
            certificateChainFile: serverCertificateFile, privateKeyFile: serverKeyFile, trustedCAFile: caFile
        )
    }

    func clientConfiguration(_ files: (certificate: String, key: String)? = nil) throws -> TLSConfiguration {
        try TLSSetup.clientConfiguration(
            trustedCAFile: caFile, certificateFile: files?.certificate, privateKeyFile: files?.key
        )
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// What the server side saw of an accepted connection once application data arrived.
struct Accepted: Sendable {
    var identity: CertificateIdentity?
    var tlsVersion: TLSVersion?
    /// The same identity read with `TLSSetup.peerIdentity(of: Channel)`.
    var identityViaChannel: EventLoopFuture<CertificateIdentity?>
}

/// The outcome of one client connecting to one server over TLS on loopback.
struct Exchange: Sendable {
    var server: Result<Accepted, any Error>
    var client: Result<String, any Error>
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

struct ClosedEarly: Error, CustomStringConvertible {
    var side: String
    var description: String { "the \(side) connection closed before the exchange finished" }
}

/// Server end: the first application bytes can only arrive after the handshake completed, so on
/// the first read it records the peer identity and answers `identity:<uri>` or `identity:anonymous`.
final class ServerProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let outcome: EventLoopPromise<Accepted>
    var answered = false

    init(outcome: EventLoopPromise<Accepted>) { self.outcome = outcome }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        do {
            let handler = try context.pipeline.syncOperations.handler(type: NIOSSLHandler.self)
            let identity = try TLSSetup.peerIdentity(of: handler)
            outcome.succeed(
                Accepted(
                    identity: identity, tlsVersion: handler.tlsVersion,
                    identityViaChannel: TLSSetup.peerIdentity(of: context.channel, authorities: TenantAuthorities())
                )
            )
            let reply = "identity:\(identity?.uri ?? "anonymous")\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
        } catch {
            outcome.fail(error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        outcome.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        outcome.fail(ClosedEarly(side: "server"))
        context.fireChannelInactive()
    }
}

/// Client end: sends a line as soon as it is connected (NIOSSL holds it until the handshake is
/// done) and waits for the server's one-line answer.
final class ClientProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let reply: EventLoopPromise<String>
    var received = ""

    init(reply: EventLoopPromise<String>) { self.reply = reply }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "hello\n")), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readString(length: buffer.readableBytes) ?? ""
        if let end = received.firstIndex(of: "\n") {
            reply.succeed(String(received[..<end]))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(ClosedEarly(side: "client"))
        context.fireChannelInactive()
    }
}

/// Runs a server with `server` settings on 127.0.0.1, connects one client with `client` settings
/// (checking the server's name as `localhost`), and reports what each side saw. Every wait is
/// bounded: a 3-second connect timeout and 5 seconds for each side's outcome.
func exchange(server: TLSConfiguration, client: TLSConfiguration) async throws -> Exchange {
    let group = MultiThreadedEventLoopGroup.singleton
    let serverContext = try NIOSSLContext(configuration: server)
    let clientContext = try NIOSSLContext(configuration: client)

    let accepted = group.next().makePromise(of: Accepted.self)
    let listener = try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandlers(
                    NIOSSLServerHandler(context: serverContext), ServerProbe(outcome: accepted)
                )
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()

    let reply = group.next().makePromise(of: String.self)
    let timeouts = [
        accepted.futureResult.eventLoop.scheduleTask(in: .seconds(5)) { accepted.fail(TimedOut(what: "the server")) },
        reply.futureResult.eventLoop.scheduleTask(in: .seconds(5)) { reply.fail(TimedOut(what: "the client")) },
    ]
    let connection: (any Channel)?
    do {
        connection = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        NIOSSLClientHandler(context: clientContext, serverHostname: "localhost"),
                        ClientProbe(reply: reply)
                    )
                }
            }
            .connect(host: "127.0.0.1", port: listener.localAddress!.port!).get()
    } catch {
        connection = nil
        reply.fail(error)
    }

    let serverResult = await result { try await accepted.futureResult.get() }
    let clientResult = await result { try await reply.futureResult.get() }
    for timeout in timeouts { timeout.cancel() }
    try? await connection?.close()
    try? await listener.close()
    return Exchange(server: serverResult, client: clientResult)
}

func result<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
