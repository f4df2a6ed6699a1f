import ClusterSyncCore
import Foundation
import Testing

extension OversightEndToEndTests {
    /// An administrator's command run while replicas watch (`AdministrationWatch`): a cluster
    /// moved into a PCPG's region reaches that PCPG's watching replica without any push, and a
    /// revoked token's watch stops, both within seconds although the watches ping only every two
    /// minutes (before, the move waited for the next push anywhere in the tenant and the
    /// revocation for the next ping). Each waits up to 40 s, well before the first ping. On
    /// failure it prints the server's log at `info`, which names every wake-up: that log showed
    /// a move lost when the watch took its starting point after the move (`AdministrationWatchTests`).
    @Test func aWatchingPCPGReceivesAMovedClusterAndARevokedWatchStopsWithoutAPush() async throws {
        // At `info`, the server says when it wakes sessions for an administrator's change.
        let server = try await base.makeServer(environment: ["LOG_LEVEL": "info"])
        Teardown.add { await server.stop() }
        try await admin("region", "add", "north", "--tenant", "bcuhb")
        try await admin("region", "add", "east", "--tenant", "bcuhb")
        try await admin("cluster", "set-region", "--tenant", "bcuhb", "north-denbighshire", "north")
        try await admin("cluster", "set-region", "--tenant", "bcuhb", "wrexham", "east")
        let prestatyn = try await leadReplica(server: server)
        let escalated = try await base.addRisk(prestatyn, "title=GP locum cover across the county", "likelihood=5", "consequence=4", "escalation=pcpg")
        _ = try await base.sync(prestatyn)
        let east = try await readOnlyReplica("pcpg-east.sqlite", role: "pcpg", region: "east", server: server)
        let wrexham = try await base.makeReplica("wrexham-1", cluster: "wrexham", certificate: false, server: server)
        for replica in [east, wrexham] { _ = try await base.sync(replica) }
        #expect(try await riskIDs(east) == [])

        // Watches that ping every two minutes: nothing but the server can tell them in time.
        func watch(_ file: String) throws -> ChildProcess {
            try WatchEndToEndTests.startWatch(file, in: base.dir, timing: ["--ping-seconds", "120"])
        }
        func output(_ file: String) -> String {
            ["out", "err"].map { (try? String(contentsOf: base.dir.appendingPathComponent("\(file).\($0)"), encoding: .utf8)) ?? "" }.joined()
        }
        func waitUntil(_ what: String, seconds: Double, _ condition: () async throws -> Bool) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while try await !condition() {
                guard Date() < deadline else {
                    // What the server and the watches said is what tells a slow machine from a lost wake-up.
                    Issue.record("\(what) within \(seconds) s\nserver: \(server.output)\nPCPG watch: \(output(east))\npractice watch: \(output(wrexham))")
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let watches = [try watch(east), try watch(wrexham)]
        defer { for process in watches where process.isRunning { process.terminate() } }
        for file in [east, wrexham] {
            try await waitUntil("\(file) watching", seconds: 30) { output(file).contains("waiting for changes") }
        }

        let moved = Date()
        try await admin("cluster", "set-region", "--tenant", "bcuhb", "north-denbighshire", "east")
        try await waitUntil("the moved cluster's escalated risk at the watching PCPG", seconds: 40) { try await riskIDs(east) == [escalated] }
        print("a moved cluster reached the watching PCPG in \(String(format: "%.1f", Date().timeIntervalSince(moved))) s")
        #expect(watches[0].isRunning && watches[1].isRunning)

        let tokenID = String(try String(contentsOf: base.dir.appendingPathComponent("wrexham-1.token"), encoding: .utf8).dropFirst(4).prefix(12))
        let revoked = Date()
        try await admin("credential", "revoke", tokenID)
        try await waitUntil("the revoked token's watch stopping", seconds: 40) { !watches[1].isRunning }
        print("a revoked token's watch stopped in \(String(format: "%.1f", Date().timeIntervalSince(revoked))) s")
        #expect(output(wrexham).contains("revoked"), "\(output(wrexham))")
        #expect(watches[0].isRunning, "the PCPG's watch must go on: \(output(east))")
    }
}
