import ClusterSyncCore
import Foundation
import Testing

/// An outbox of long texts against a server's `limits.maxLineBytes`, through the real
/// binaries: the pushes are split to fit the server's lines, and a change too long for any line
/// is held back, where the server's `line-too-long` had stopped every sync of the replica.
@Suite(.serialized, .teardown) struct LongLinesEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    @Test func longTextsSyncInPushesThatFitAndOneTooLongForALineIsHeldBack() async throws {
        let server = try await base.makeServer(environment: ["CLUSTERSYNCD_LIMITS_MAX_LINE_BYTES": "16384"])
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        // Ten descriptions of 4,000 bytes (two-byte Welsh letters): 40 KB, in no line of 16 KiB.
        var risks: [String] = []
        for n in 1...10 {
            risks.append(try await base.addRisk(rhyl, "title=Estates \(n)", "description=\(String(repeating: "ŵ", count: 2_000)) \(n)"))
        }
        let tooLong = try await base.addRisk(rhyl, "title=Premises survey", "description=Survey needed")
        let first = try await base.sync(rhyl, server: server)
        #expect(first.stdout.contains("pushed ") && !first.stdout.contains("held back"), "\(first.stdout)")
        // A description of 20,000 bytes, longer than any line of that server.
        #expect(try await cli.run("risk", "set", "--replica", rhyl, tooLong, "description=" + String(repeating: "ŷ", count: 10_000)).status == 0)

        let synced = try await base.sync(rhyl, server: server)
        #expect(synced.stdout.contains("held back 1 change"), "\(synced.stdout)")
        let status = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        guard case .array(let held) = status["heldBack"] else { Issue.record("no heldBack in \(status)"); return }
        #expect(held.count == 1 && held.first?["code"] == .string("line-too-long") && held.first?["record"] == .string(tooLong), "\(held)")
        #expect(held.first?["reason"]?.stringValue?.contains("make the description of \(tooLong) shorter") == true, "\(held)")
        #expect(server.process.isRunning)

        _ = try await base.sync(prestatyn, server: server)
        for (n, risk) in risks.enumerated() {
            let shown = try #require(try await cli.run("show", "--replica", prestatyn, "--json", risk).json)
            #expect(shown["fields"]?["description"]?.stringValue?.hasSuffix(" \(n + 1)") == true, "\(risk): \(shown)")
        }
        let survey = try #require(try await cli.run("show", "--replica", prestatyn, "--json", tooLong).json)
        #expect(survey["fields"]?["description"] == .string("Survey needed"), "\(survey)")

        // Made shorter, it goes: the edit over the held-back change also replaces the value that
        // one replaced, which the server holds, so no replica shows the two in conflict.
        #expect(try await cli.run("risk", "set", "--replica", rhyl, tooLong, "description=Survey the branch surgery").status == 0)
        let again = try await base.sync(rhyl, server: server)
        #expect(!again.stdout.contains("held back"), "\(again.stdout)")
        let after = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        #expect(after["heldBack"] == .array([]), "\(after)")
        _ = try await base.sync(prestatyn, server: server)
        let shortened = try #require(try await cli.run("show", "--replica", prestatyn, "--json", tooLong).json)
        #expect(shortened["fields"]?["description"] == .string("Survey the branch surgery"), "\(shortened)")
        for file in [rhyl, prestatyn] {
            let conflicts = try #require(try await cli.run("conflicts", "--replica", file, "--json").json)
            #expect(conflicts["conflicts"] == .array([]), "\(file): \(conflicts)")
        }

        // Held back again under that server, then pushed by the next sync once the server's
        // lines are longer (it was held back for good, even after the server's limit was raised).
        let long = String(repeating: "ŷ", count: 10_000)
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risks[0], "description=" + long).status == 0)
        #expect(try await base.sync(rhyl, server: server).stdout.contains("held back 1 change"))
        _ = await server.stop()
        let raised = try await base.makeServer(port: server.port)
        Teardown.add { await raised.stop() }
        let pushed = try await base.sync(rhyl, server: raised)
        #expect(!pushed.stdout.contains("held back"), "\(pushed.stdout)")
        #expect(try #require(try await cli.run("status", "--replica", rhyl, "--json").json)["heldBack"] == .array([]))
        _ = try await base.sync(prestatyn, server: raised)
        let shown = try #require(try await cli.run("show", "--replica", prestatyn, "--json", risks[0]).json)
        #expect(shown["fields"]?["description"] == .string(long))
    }
}
