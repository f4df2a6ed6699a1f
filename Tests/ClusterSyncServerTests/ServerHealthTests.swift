import ClusterSyncServer
import Foundation
import Testing

/// `clustersyncd health` warns of the server certificate's end while there is time to renew it,
/// with the real certificate `init` writes (valid two years).
@Suite struct ServerHealthTests {
    @Test func theServerCertificateIsAProblemWithinThirtyDaysOfItsEnd() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-health-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = DataDirectory(path: path)
        try directory.initialise()
        func certificate(at now: Date) async -> ServerHealth.Check? {
            await ServerHealth.check(directory, now: now).checks.first { $0.name == "certificate" }
        }
        let today = try #require(await certificate(at: Date()))
        #expect(today.ok && today.detail.hasPrefix("server certificate valid until "), "\(today)")
        let end = try #require(ISO8601DateFormatter().date(from: String(today.detail.suffix(10)) + "T00:00:00Z"))
        let soon = try #require(await certificate(at: end.addingTimeInterval(-10 * 86_400)))
        #expect(!soon.ok && soon.detail.contains("expires on") && soon.detail.contains("renew it"), "\(soon)")
        let late = try #require(await certificate(at: end.addingTimeInterval(2 * 86_400)))
        #expect(!late.ok && late.detail.contains("expired on"), "\(late)")
        #expect(await ServerHealth.check(directory, now: end.addingTimeInterval(-40 * 86_400)).ok)
    }
}
