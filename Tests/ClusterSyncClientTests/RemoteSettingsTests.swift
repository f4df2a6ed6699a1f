import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// A replica proves who it is with a certificate and its key, or a token, never both: with both,
/// the server refused every hello and only the person at the replica could mend it (README
/// audit, forty-third session). Refused before anything is saved.
@Suite struct RemoteCredentialTests {
    @Test func aCertificateAndATokenTogetherAreRefusedAndNothingIsSaved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("remote-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let replica = try Replica(path: dir.appendingPathComponent("rhyl.sqlite").path)
        try replica.initialise(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", displayName: "Rhyl")
        let token = RemoteSettings(host: "sync.example", port: 7443, caFile: "/ca.pem", tokenFile: "/rhyl.token")
        try replica.setRemote(token)
        for (settings, named) in [
            (RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", certificateFile: "/p.pem", keyFile: "/p-key.pem", tokenFile: "/t"), "not both"),
            (RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", certificateFile: "/p.pem"), "give both --certificate and --key"),
            (RemoteSettings(host: "h", port: 1, caFile: "/ca.pem"), "or a token (--token-file)"),
        ] {
            let error = #expect(throws: ClusterSyncError.self) { try replica.setRemote(settings) }
            #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
            #expect(try replica.remote() == token)
        }
        try replica.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", certificateFile: "/p.pem", keyFile: "/p-key.pem"))
    }
}
