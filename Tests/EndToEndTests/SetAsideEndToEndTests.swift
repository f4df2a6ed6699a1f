import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// A change in the server's log that a replica cannot apply (written by an older server that
/// admitted more, or by a newer one with record types this version does not know) never stops
/// a sync: the replica sets it aside, says so in `sync` and `status`, and applies the rest.
@Suite(.serialized, .disabled(if: TestStorage.isPostgres, "writes an unreadable row into the SQLite store file"), .teardown) struct SetAsideEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    /// Appends rows to the tenant's log in the server's store file, the way an older server
    /// would have stored them.
    func appendToServerLog(_ lines: [String], tenant: String = "bcuhb", cluster: String = "north-denbighshire") throws {
        let queue = try DatabaseQueue(path: base.dir.appendingPathComponent("data/clustersyncd.sqlite").path)
        try queue.write { db in
            var seq = try Int64.fetchOne(db, sql: "SELECT last FROM tenant_sequence WHERE tenant = ?", arguments: [tenant])!
            for (i, line) in lines.enumerated() {
                seq += 1
                try db.execute(sql: """
                    INSERT INTO log (tenant, seq, cluster, practice, replica, counter, change_json) VALUES (?, ?, ?, NULL, ?, ?, ?)
                    """, arguments: [tenant, seq, cluster, "00000000000000d\(i)", 5, line])
            }
            try db.execute(sql: "UPDATE tenant_sequence SET last = ? WHERE tenant = ?", arguments: [seq, tenant])
        }
    }

    @Test func aChangeTheReplicaCannotApplyIsSetAsideReportedAndTheSyncCarriesOn() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let before = try await base.addRisk(prestatyn, "title=Estates lease")
        _ = try await base.sync(prestatyn)
        // Rhyl follows the history from here: a replica that starts from a snapshot takes the
        // server's state, which rows the server itself cannot read are no part of.
        _ = try await base.sync(rhyl)

        let hlc = HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000) - 60_000).text
        // A list position placed after its own slot: decodes, and the admission rule refuses it.
        let ownSlot = #"{"cluster":"north-denbighshire","field":"position","hlc":"\#(hlc)","id":"5@00000000000000d0","record":"ITM-2B6D8G4K0E","tenant":"bcuhb","value":{"after":"5@00000000000000d0"}}"#
        // A record type this version does not know: does not decode.
        let unknownType = #"{"cluster":"north-denbighshire","field":"title","hlc":"\#(hlc)","id":"5@00000000000000d1","record":"GOV-7K3M9Q2X1A","tenant":"bcuhb","value":"Terms of reference"}"#
        try appendToServerLog([ownSlot, unknownType])
        let after = try await base.addRisk(prestatyn, "title=Locum cover")
        _ = try await base.sync(prestatyn)

        let synced = try await base.sync(rhyl)
        #expect(synced.stdout.contains("set aside 2 changes"), "\(synced.stdout)")
        guard case .array(let records) = try await cli.run("risk", "list", "--replica", rhyl, "--json").json?["records"] else {
            Issue.record("no risk list"); return
        }
        #expect(Set(records.compactMap { $0["id"]?.stringValue }) == [before, after])

        let status = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        guard case .array(let setAside) = status["setAside"] else { Issue.record("no setAside in \(status)"); return }
        #expect(setAside.map { $0["code"]?.stringValue ?? "?" }.sorted() == ["invalid-value", "malformed"])
        #expect(Set(setAside.compactMap { $0["change"]?.stringValue }) == ["5@00000000000000d0", "5@00000000000000d1"])
        let text = try await cli.run("status", "--replica", rhyl).stdout
        #expect(text.contains("set aside 2 changes"), "\(text)")
        #expect(text.contains("ITM-2B6D8G4K0E") && text.contains("(invalid-value)"), "\(text)")

        // Synced again: nothing new is set aside, nothing is lost, and other practices carry on.
        let again = try await base.sync(rhyl)
        #expect(!again.stdout.contains("set aside"), "\(again.stdout)")
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["setAside"].map { value -> Int in
            if case .array(let a) = value { return a.count }
            return -1
        } == 2)
        let third = try await base.addRisk(prestatyn, "title=Phones")
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        #expect(try await cli.run("show", "--replica", rhyl, third).status == 0)
    }
}
