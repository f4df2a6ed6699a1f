import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncTLS
import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import X509

/// Client certificates through the real `SyncServer` on loopback: only the one
/// `clustersync://<tenant>/<cluster>/<practice>` subject alternative name URI authenticates, and
/// any other certificate the CA signed gets one fatal `unauthenticated` line saying what is wrong.
@Suite(.timeLimit(.minutes(1))) struct CertificateIdentityServerTests {
    static let registered = "clustersync://bcuhb/north-denbighshire/prestatyn"
    static let hello = #"{"replica":"5f0c9e1a2b3c4d5e","type":"hello","version":1}"# + "\n"

    @Test func theRegisteredURIIsWelcomed() async throws {
        let lines = try await Self.firstLine(names: [.uniformResourceIdentifier(Self.registered)])
        #expect(lines.hasPrefix(#"{"identity":{"author":"prestatyn""#), "\(lines)")
    }

    @Test(arguments: [
        // A subject naming the practice, but no URI: the subject alone no longer authenticates.
        ([GeneralName](), "no ClusterSync practice", "subject alternative name URI"),
        ([.uniformResourceIdentifier("https://example.org/prestatyn")], "no ClusterSync practice", "clustersync://"),
        ([.uniformResourceIdentifier(registered), .uniformResourceIdentifier("clustersync://bcuhb/north-denbighshire/rhyl")],
         "2 ClusterSync subject alternative name URIs", "clustersync://bcuhb/north-denbighshire/rhyl"),
        ([.uniformResourceIdentifier(registered), .uniformResourceIdentifier(registered)],
         "2 ClusterSync subject alternative name URIs", "exactly one"),
        ([.uniformResourceIdentifier("clustersync://bcuhb/north-denbighshire")], "malformed", "exactly three parts"),
        ([.uniformResourceIdentifier("clustersync://bcuhb/north denbighshire/prestatyn")], "malformed", "cluster name"),
        ([.uniformResourceIdentifier("CLUSTERSYNC://bcuhb/north-denbighshire/prestatyn")], "malformed", "not a ClusterSync identity URI"),
    ] as [([GeneralName], String, String)])
    func otherCertificatesGetAFatalLineSayingWhy(names: [GeneralName], says: String, andNames: String) async throws {
        let line = try await Self.firstLine(names: names)
        let message = try WireCodec.decode(line)
        guard case .error(let error) = message else {
            Issue.record("expected an error, got \(line)")
            return
        }
        #expect(error.code == "unauthenticated")
        #expect(error.fatal)
        #expect(error.message.contains(says), "\(error.message)")
        #expect(error.message.contains(andNames), "\(error.message)")
    }

    /// Starts a server whose store knows bcuhb/north-denbighshire/prestatyn, connects with a
    /// client certificate signed by its CA with subject O=bcuhb, OU=north-denbighshire,
    /// CN=prestatyn and the given subject alternative names, sends a hello and returns the first
    /// line the server answers.
    static func firstLine(names: [GeneralName]) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = DataDirectory(path: directory.path)
        try data.initialise()
        let store = try SQLiteServerStore(path: data.database)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north-denbighshire", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north-denbighshire", tenant: "bcuhb")

        let authority = try data.authority()
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: authority.root.certificate.subject,
            subject: try DistinguishedName {
                OrganizationName("bcuhb")
                OrganizationalUnitName("north-denbighshire")
                CommonName("prestatyn")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                try ExtendedKeyUsage([.clientAuth])
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: authority.root.privateKey)
        let files = (certificate: directory.appendingPathComponent("client.pem").path,
                     key: directory.appendingPathComponent("client-key.pem").path)
        try CertificateAndKey(certificate: certificate, privateKey: .init(key))
            .write(certificateTo: files.certificate, privateKeyTo: files.key)

        let server = try await ServerOnAnyPort.start(settings: ServerSettings(data: data), store: store, label: "identity-test")
        let (port, serverTask) = (server.port, server.running)

        let client = try TLSSetup.clientConfiguration(
            trustedCAFile: data.caCertificate, certificateFile: files.certificate, privateKeyFile: files.key)
        let answer = await result { try await Self.exchangeLine(Self.hello, port: port, tls: client) }
        serverTask.cancel()
        _ = await serverTask.result
        return try answer.get()
    }

    /// Connects, sends `line` and returns the first line that comes back (waiting at most 10 s).
    static func exchangeLine(_ line: String, port: Int, tls: TLSConfiguration) async throws -> String {
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maxLineBytes: WireLimits.default.maxLineBytes)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: line))
                    for try await var answer in inbound {
                        return answer.readString(length: answer.readableBytes) ?? ""
                    }
                    return "(the server closed the connection without a line)"
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                throw TimedOut(what: "the server's first line")
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
    }
}
