import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// Snapshots and compaction end to end (PROTOCOL.md §5.7, §7.2): the real `clustersyncd` over
/// real TLS, the real CLI on real replica files.
@Suite(.serialized, .teardown) struct SnapshotEndToEndTests {
    let dir: URL
    let cli: CLI

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-snapshot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir)
    }

    func admin(_ args: String...) async throws -> CLI.Result {
        let result = try await cli.run(args + ["--data", "data"], binary: "clustersyncd")
        #expect(result.status == 0, "\(args): \(result.stderr)")
        return result
    }

    func makeServer() async throws -> Server {
        _ = try await admin("init")
        _ = try await admin("tenant", "add", "bcuhb")
        _ = try await admin("cluster", "add", "--tenant", "bcuhb", "north-denbighshire")
        _ = try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "prestatyn")
        _ = try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "rhyl")
        return try await Server.start(cli: cli)
    }

    /// A replica file of `practice` with a token; another file of the same practice is a second laptop.
    func makeReplica(_ file: String, practice: String, server: Server) async throws -> String {
        // Prestatyn is the cluster lead's practice: deleting a shared record needs the lead.
        let role = practice == "prestatyn" ? "cluster-lead" : "practice"
        #expect(try await cli.run("init", "--replica", file, "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                            "--practice", practice, "--name", "Manager, \(practice)").status == 0)
        let issued = try await admin("credential", "issue", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                               "--practice", practice, "--role", role, "--label", file)
        try issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .write(to: dir.appendingPathComponent("\(file).token"), atomically: true, encoding: .utf8)
        let set = try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                              "--token-file", "\(file).token")
        #expect(set.status == 0, "\(set.stderr)")
        return file
    }

    @discardableResult
    func sync(_ file: String) async throws -> CLI.Result {
        let result = try await cli.run("sync", "--replica", file)
        #expect(result.status == 0, "sync \(file): \(result.stderr)")
        return result
    }

    func run(_ args: String...) async throws -> String {
        let result = try await cli.run(args)
        #expect(result.status == 0, "\(args): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func export(_ file: String) async throws -> String { try await cli.run("export", "--replica", file, "--format", "json").stdout }

    /// Rows of the replica's change table: what it holds, live or superseded.
    func changeRows(_ file: String) throws -> Int {
        try DatabaseQueue(path: dir.appendingPathComponent(file).path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM change")! }
    }

    /// A history with superseded values, a list whose items moved, a deleted record, a conflict
    /// and a practice-private risk: what a snapshot must carry for the state to come out the same.
    func makeHistory(prestatyn: String, rhyl: String) async throws -> (risk: String, privateRisk: String, list: String) {
        let risk = try await run("risk", "add", "--replica", prestatyn, "title=GP locum cover", "likelihood=3", "consequence=4")
        let privateRisk = try await run("risk", "add", "--replica", prestatyn, "--private", "title=Our own estates issue")
        let gone = try await run("action", "add", "--replica", prestatyn, "title=Chase the lease", "due_date=2027-01-31")
        let list = try await run("list", "create", "--replica", prestatyn, "title=Winter priorities", "kind=priorities")
        for text in ["Flu clinics", "Locum rota", "Home visits", "Estates"] { _ = try await run("list", "add", "--replica", prestatyn, list, text) }
        for title in ["Locum cover", "Locum cover, winter", "Winter locum cover"] {
            _ = try await run("risk", "set", "--replica", prestatyn, risk, "title=\(title)")
        }
        _ = try await run("list", "move", "--replica", prestatyn, list, "4", "--to", "1")
        _ = try await run("list", "move", "--replica", prestatyn, list, "3", "--to", "2")
        _ = try await run("list", "remove", "--replica", prestatyn, list, "2")
        _ = try await run("action", "delete", "--replica", prestatyn, gone)
        try await sync(prestatyn)
        try await sync(rhyl)
        // Both write the owner without seeing each other: a conflict both keep.
        _ = try await run("risk", "set", "--replica", prestatyn, risk, "owner=Cluster lead")
        _ = try await run("risk", "set", "--replica", rhyl, risk, "owner=Practice manager")
        try await sync(prestatyn)
        try await sync(rhyl)
        try await sync(prestatyn)
        return (risk, privateRisk, list)
    }

    @Test func aNewReplicaStartsFromTheStateAndExportsTheSameBytesAsOneThatReplayed() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await makeReplica("prestatyn.sqlite", practice: "prestatyn", server: server)
        let rhyl = try await makeReplica("rhyl.sqlite", practice: "rhyl", server: server)
        // Both sync before anything exists: from here on they follow the history.
        try await sync(prestatyn)
        try await sync(rhyl)
        let made = try await makeHistory(prestatyn: prestatyn, rhyl: rhyl)

        // Rhyl's second laptop joins now: it takes the state, not the history.
        let laptop = try await makeReplica("rhyl-laptop.sqlite", practice: "rhyl", server: server)
        try await sync(laptop)
        #expect(try await export(laptop) == export(rhyl))
        #expect(try changeRows(laptop) < changeRows(rhyl), "the snapshot carries current values, not every superseded one")
        let conflicts = try #require(try await cli.run("show", "--replica", laptop, "--json", made.risk).json)
        #expect(conflicts["fields"]?["title"] == .string("Winter locum cover"))
        guard case .array(let open) = conflicts["conflicts"] else { Issue.record("no conflicts: \(conflicts)"); return }
        #expect(open.map { $0["field"] } == [.string("owner")])
        // Scoped as pulls are: prestatyn's private risk never reaches rhyl's laptop.
        #expect(try await cli.run("show", "--replica", laptop, made.privateRisk).status != 0)

        // History before the snapshot comes from the server when asked for.
        let full = try #require(try await cli.run("history", "--replica", laptop, "--json", made.risk).json)
        let replayed = try #require(try await cli.run("history", "--replica", rhyl, "--json", made.risk).json)
        #expect(full == replayed)
        let local = try #require(try await cli.run("history", "--replica", laptop, "--local", "--json", made.risk).json)
        #expect(local != replayed)

        // And it goes on like any replica: edits sync both ways.
        _ = try await run("risk", "set", "--replica", laptop, made.risk, "description=Two sessions a week short, Rhyl")
        try await sync(laptop)
        try await sync(prestatyn)
        try await sync(rhyl)
        #expect(try await export(laptop) == export(rhyl))
        #expect(try await export(prestatyn).contains("Two sessions a week short, Rhyl"))

        // Offline, history shows what the laptop holds, and says so.
        await server.stop()
        let offline = try await cli.run("history", "--replica", laptop, made.risk)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stderr.contains("this replica's copy only"), "\(offline.stderr)")
    }

    @Test func aPracticeOfflineBeyondTheHorizonLosesNothingAndStillSeesItsConflicts() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await makeReplica("prestatyn.sqlite", practice: "prestatyn", server: server)
        let rhyl = try await makeReplica("rhyl.sqlite", practice: "rhyl", server: server)
        let risk = try await run("risk", "add", "--replica", prestatyn, "title=GP locum cover", "likelihood=3", "consequence=4")
        let doomed = try await run("risk", "add", "--replica", prestatyn, "title=Lease renewal")
        try await sync(prestatyn)
        try await sync(rhyl)

        // Rhyl goes offline and edits; meanwhile prestatyn retitles the risk twice (the value
        // rhyl saw is superseded, and so is the one after it) and deletes the other.
        _ = try await run("risk", "set", "--replica", rhyl, risk, "title=Locum gap (Rhyl)")
        _ = try await run("risk", "set", "--replica", rhyl, doomed, "owner=Rhyl practice manager")
        _ = try await run("risk", "add", "--replica", rhyl, "title=New offline risk")
        _ = try await run("risk", "set", "--replica", prestatyn, risk, "title=Locum cover")
        _ = try await run("risk", "set", "--replica", prestatyn, risk, "title=Winter locum cover")
        _ = try await run("risk", "delete", "--replica", prestatyn, doomed)
        try await sync(prestatyn)

        // The operator compacts everything accepted so far: rhyl's cursor is now too old.
        let compacted = try await admin("compact", "--horizon-days", "0")
        #expect(compacted.stdout.contains("bcuhb: compacted through seq"), "\(compacted.stdout)")
        let verify = try await admin("verify", "--tenant", "bcuhb", "--json")
        let report = try #require(verify.json)
        #expect(report["intact"] == .bool(true), "\(verify.stdout)")
        #expect((report["compaction"]?["changesCompacted"]?.intValue ?? 0) > 0, "\(verify.stdout)")
        #expect(report["compaction"]?["compactedAtTime"]?.stringValue?.count == 16, "\(verify.stdout)")
        let text = try await admin("verify", "--tenant", "bcuhb").stdout
        #expect(text.contains("compaction: through seq ") && text.contains("superseded change"), "\(text)")

        let synced = try await sync(rhyl)
        #expect(synced.status == 0)
        try await sync(prestatyn)
        #expect(try await export(rhyl) == export(prestatyn))
        for file in [rhyl, prestatyn] {
            let shown = try #require(try await cli.run("show", "--replica", file, "--json", risk).json)
            guard case .array(let open) = shown["conflicts"], let title = open.first else { Issue.record("no conflict: \(shown)"); continue }
            #expect(title["field"] == .string("title"))
            guard case .array(let values) = title["values"] else { Issue.record("no values: \(title)"); continue }
            #expect(Set(values.compactMap { $0["value"]?.stringValue }) == ["Locum gap (Rhyl)", "Winter locum cover"])
            let deleted = try #require(try await cli.run("show", "--replica", file, "--json", doomed).json)
            guard case .array(let against) = deleted["conflicts"] else { Issue.record("no conflicts: \(deleted)"); continue }
            #expect(against.contains { $0["kind"] == .string("edit-against-delete") }, "\(deleted)")
            #expect(try await export(file).contains("New offline risk"))
        }
        // A new replica after compaction is the same again.
        let laptop = try await makeReplica("prestatyn-laptop.sqlite", practice: "prestatyn", server: server)
        try await sync(laptop)
        #expect(try await export(laptop) == export(prestatyn))
    }
}
