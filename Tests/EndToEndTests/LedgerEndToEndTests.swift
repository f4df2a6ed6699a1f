import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// The tamper-evident log and redaction through the real binaries: `clustersyncd verify` on a
/// store edited directly with SQLite, and `clustersync redact` reaching the server, an offline
/// replica and a stale merge, with the erased value's bytes searched for in every file.
@Suite(.serialized, .teardown) struct LedgerEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }
    var storePath: String { base.dir.appendingPathComponent("data/clustersyncd.sqlite").path }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func verify(_ extra: String...) async throws -> CLI.Result {
        try await cli.run(["verify", "--data", "data", "--tenant", "bcuhb"] + extra, binary: "clustersyncd")
    }

    /// Problems of `verify --json` as (kind, seqs).
    func problems(_ result: CLI.Result) -> [(String, [Int64])] {
        guard case .array(let list)? = result.json?["problems"] else { return [] }
        return list.map { problem in
            let seqs: [Int64] = if case .array(let s)? = problem["seqs"] { s.compactMap(\.intValue) } else { [] }
            return (problem["kind"]?.stringValue ?? "", seqs)
        }
    }

    /// Runs `edit` on a copy of the store, verifies it, and puts the original back.
    func tampered(_ edit: (Database) throws -> Void, expectHead: String? = nil) async throws -> CLI.Result {
        let original = try Data(contentsOf: URL(fileURLWithPath: storePath))
        defer { try? original.write(to: URL(fileURLWithPath: storePath)) }
        try DatabaseQueue(path: storePath).write(edit)
        if let expectHead { return try await verify("--json", "--expect-head", expectHead) }
        return try await verify("--json")
    }

    /// Each way of tampering with the stored log after acceptance (an entry altered, removed,
    /// reordered or inserted) is found and named by its sequence numbers, exit 1; the intact log
    /// exits 0. A whole chain recomputed after an edit passes alone, and is caught by the head
    /// recorded before.
    @Test(.disabled(if: TestStorage.isPostgres, "tampers with the SQLite store file")) func verifyFindsEachKindOfTampering() async throws {
        let server = try await base.makeServer()
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        for title in ["Estates lease", "Locum cover", "Flu clinic staffing"] { _ = try await base.addRisk(prestatyn, "title=\(title)") }
        _ = try await base.sync(prestatyn)
        // A welcome names the chain's head as the session begins: the replica keeps the head
        // of its second sync, held outside the server from then on.
        #expect(try await cli.run("status", "--replica", prestatyn, "--json").json?["chainHead"] == .null)
        _ = try await base.sync(prestatyn)
        let status = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json)
        let keptHead = try #require(status["chainHead"]?.stringValue)
        #expect(status["chainHeadAt"]?.stringValue?.hasSuffix("Z") == true, "\(status)")
        #expect(try await cli.run("status", "--replica", prestatyn).stdout.contains("--expect-head \(keptHead)"))
        #expect(await server.stop() == 0)

        let intact = try await verify()
        #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")
        let report = try #require(try await verify("--json").json)
        #expect(report["intact"] == .bool(true))
        let n = try #require(report["entries"]?.intValue)
        #expect(n >= 3)
        #expect(intact.stdout.contains("intact: \(n) changes of bcuhb chained"), "\(intact.stdout)")
        let head = try #require(report["head"]?["hash"]?.stringValue)
        #expect(report["head"]?["seq"] == .int(n))
        #expect(try await verify("--expect-head", "\(n):\(head)").status == 0)
        #expect(keptHead == "\(n):\(head)")
        let locum = try await DatabaseQueue(path: storePath).read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM log WHERE tenant = 'bcuhb' AND change_json LIKE '%Locum cover%'")!
        }

        // Altered: a title changed in the stored change.
        let altered = try await tampered { db in
            try db.execute(sql: "UPDATE log SET change_json = replace(change_json, 'Locum cover', 'Locum covered') WHERE tenant = 'bcuhb' AND seq = ?",
                           arguments: [locum])
        }
        #expect(altered.status == 1)
        #expect(problems(altered).map(\.0) == ["altered"] && problems(altered).map(\.1) == [[locum]], "\(altered.stdout)")

        // Removed: a change and its chain entry deleted.
        let removed = try await tampered { db in
            try db.execute(sql: "DELETE FROM log WHERE tenant = 'bcuhb' AND seq = 2")
            try db.execute(sql: "DELETE FROM ledger WHERE tenant = 'bcuhb' AND seq = 2")
        }
        #expect(removed.status == 1)
        #expect(problems(removed).map(\.0) == ["removed"] && problems(removed).map(\.1) == [[2]], "\(removed.stdout)")
        // Removed from the log only: the chain still remembers it.
        let logOnly = try await tampered { db in try db.execute(sql: "DELETE FROM log WHERE tenant = 'bcuhb' AND seq = 3") }
        #expect(logOnly.status == 1 && problems(logOnly).map(\.0) == ["removed"] && problems(logOnly).map(\.1) == [[3]], "\(logOnly.stdout)")

        // Reordered: two changes swap places in the sequence.
        let reordered = try await tampered { db in
            try db.execute(sql: "UPDATE log SET seq = -1 WHERE tenant = 'bcuhb' AND seq = 1")
            try db.execute(sql: "UPDATE log SET seq = 1 WHERE tenant = 'bcuhb' AND seq = 3")
            try db.execute(sql: "UPDATE log SET seq = 3 WHERE tenant = 'bcuhb' AND seq = -1")
        }
        #expect(reordered.status == 1)
        #expect(problems(reordered).map(\.0) == ["reordered", "reordered"], "\(reordered.stdout)")
        #expect(problems(reordered).map(\.1) == [[1, 3], [3, 1]], "\(reordered.stdout)")

        // Inserted: a change the server never accepted, added to the log.
        let inserted = try await tampered { db in
            let text = try String.fetchOne(db, sql: "SELECT change_json FROM log WHERE tenant = 'bcuhb' AND seq = 1")!
            var forged = try Change(jsonText: text)
            forged.id = ChangeID(replica: forged.id.replica, counter: 99)
            forged.value = .string("Forged entry")
            try db.execute(sql: """
                INSERT INTO log (tenant, seq, cluster, practice, replica, counter, change_json) VALUES ('bcuhb', ?, ?, NULL, ?, 99, ?)
                """, arguments: [n + 1, forged.scope.cluster, forged.id.replica.rawValue, forged.jsonText])
            try db.execute(sql: "UPDATE tenant_sequence SET last = ? WHERE tenant = 'bcuhb'", arguments: [n + 1])
        }
        #expect(inserted.status == 1)
        #expect(problems(inserted).map(\.0) == ["inserted"] && problems(inserted).map(\.1) == [[n + 1]], "\(inserted.stdout)")

        // Rewritten: seq 2 altered and the whole chain recomputed with the public rule. The
        // chain alone cannot tell; the head recorded before can.
        let rewrite: (Database) throws -> Void = { db in
            try db.execute(sql: "UPDATE log SET change_json = replace(change_json, 'Locum cover', 'Locum covered') WHERE tenant = 'bcuhb'")
            var previous = LedgerChain.genesis
            for row in try Row.fetchAll(db, sql: "SELECT seq, change_json FROM log WHERE tenant = 'bcuhb' ORDER BY seq") {
                let entry = LedgerChain.entry(tenant: "bcuhb", seq: row[0], canonicalText: row[1], previous: previous)
                try db.execute(sql: "UPDATE ledger SET salt = ?, content_hash = ?, entry_hash = ? WHERE tenant = 'bcuhb' AND seq = ?",
                               arguments: [entry.salt, entry.contentHash, entry.entryHash, entry.seq])
                previous = entry.entryHash
            }
        }
        #expect(try await tampered(rewrite).status == 0)
        let caught = try await tampered(rewrite, expectHead: keptHead)
        #expect(caught.status == 1 && problems(caught).map(\.0) == ["unknown-head"], "\(caught.stdout)")

        #expect(try await verify().status == 0)
    }

    /// Whether any of a SQLite file's bytes (the file and its write-ahead log) hold `text`.
    func bytes(of file: String, contain text: String) -> Bool {
        let needle = Data(text.utf8)
        return ["", "-wal"].contains { suffix in
            let path = file.hasPrefix("/") ? file + suffix : base.dir.appendingPathComponent(file + suffix).path
            guard let data = FileManager.default.contents(atPath: path) else { return false }
            return data.range(of: needle) != nil
        }
    }

    /// Gives `practice`'s replica a cluster-lead token (its token file rewritten) and syncs, so
    /// the replica knows its role.
    func makeLead(_ practice: String, _ file: String) async throws {
        let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                  "--practice", practice, "--label", "laptop", "--role", "cluster-lead"], binary: "clustersyncd")
        #expect(issued.status == 0, "\(issued.stderr)")
        try issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .write(to: base.dir.appendingPathComponent("\(practice).token"), atomically: true, encoding: .utf8)
        _ = try await base.sync(file)
    }

    /// The id of the change that wrote `field` of `record`, from `history --json`.
    func change(writing field: String, of record: String, in file: String) async throws -> String {
        let history = try #require(try await cli.run("history", "--replica", file, "--json", record).json)
        guard case .array(let entries)? = history["history"] else { throw CancellationError() }
        return try #require(entries.first { $0["field"] == .string(field) }?["change"]?.stringValue)
    }

    /// A name typed by mistake is redacted by a lead: the value is erased from the lead's replica,
    /// the server (its store file's bytes included), an offline replica when it next syncs, and
    /// it does not come back through a merge of a stale copy. `verify` still passes and reports
    /// who redacted what, when and why.
    @Test func aRedactionReachesEveryStoreAndSurvivesAStaleMerge() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        try await makeLead("prestatyn", prestatyn)
        let name = "Gwenllian Pritchard-Owain"
        let risk = try await base.addRisk(prestatyn, "title=Falls at the branch surgery", "description=Mrs \(name) fell in the waiting room")
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        #expect(bytes(of: "rhyl.sqlite", contain: name))
        // A copy of Rhyl's file from before the redaction, handed over later.
        try FileManager.default.copyItem(at: base.dir.appendingPathComponent("rhyl.sqlite"), to: base.dir.appendingPathComponent("stale.sqlite"))

        let target = try await change(writing: "description", of: risk, in: prestatyn)
        // Redacting is the cluster lead's: Rhyl's practice credential may not, and nothing changes.
        let refused = try await cli.run("redact", "--replica", rhyl, risk, "description", target, "--reason", "a name")
        #expect(refused.status == 1 && refused.stderr.contains("needs the cluster lead"), "\(refused.stderr)")
        #expect(bytes(of: rhyl, contain: name))
        let redact = try await cli.run("redact", "--replica", prestatyn, risk, "description", target, "--reason", "a patient's name typed by mistake")
        #expect(redact.status == 0, "\(redact.stderr)")
        #expect(!bytes(of: prestatyn, contain: name))
        _ = try await base.sync(prestatyn)
        #expect(!bytes(of: storePath, contain: name), "the server's store still holds the value")

        let verified = try await cli.run(["verify", "--data", "data", "--tenant", "bcuhb"], binary: "clustersyncd")
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(verified.stdout.contains("a patient's name typed by mistake") && verified.stdout.contains("rhyl") == false
                && verified.stdout.contains("prestatyn (laptop)"), "\(verified.stdout)")
        let report = try #require(try await cli.run(["verify", "--data", "data", "--tenant", "bcuhb", "--json"], binary: "clustersyncd").json)
        guard case .array(let redactions)? = report["redactions"] else { Issue.record("\(report)"); return }
        #expect(redactions.count == 1)
        #expect(redactions.first?["change"] == .string(target) && redactions.first?["field"] == .string("description"))
        #expect(redactions.first?["author"] == .string("prestatyn (laptop)"))
        #expect(redactions.first?["redactedSeq"]?.intValue != nil)

        // Rhyl was offline: it erases the value when it next syncs.
        #expect(bytes(of: "rhyl.sqlite", contain: name))
        _ = try await base.sync(rhyl)
        #expect(!bytes(of: "rhyl.sqlite", contain: name))
        let shown = try #require(try await cli.run("show", "--replica", rhyl, "--json", risk).json)
        #expect(!shown.canonicalText.contains(name))
        #expect(shown["fields"]?["description"]?["redacted"] != nil, "\(shown)")

        // The stale copy merged back brings the value to neither replica, nor through them to the server.
        for file in [rhyl, prestatyn] {
            let merged = try await cli.run("merge", "--replica", file, "--from", "stale.sqlite")
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(!bytes(of: file, contain: name), "\(file) got the value back from a stale merge")
            _ = try await base.sync(file)
        }
        #expect(!bytes(of: storePath, contain: name))
        // The stale copy itself erases it when it syncs.
        _ = try await base.sync("stale.sqlite")
        #expect(!bytes(of: "stale.sqlite", contain: name))
        #expect(try await cli.run(["verify", "--data", "data", "--tenant", "bcuhb"], binary: "clustersyncd").status == 0)
        // The table wraps long cells: read its words.
        let history = try await cli.run("history", "--replica", rhyl, risk).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(history.contains("[redacted by") && history.contains("a patient's name typed by mistake"), "\(history)")
    }

    /// A change still waiting in an offline replica's outbox when its value is redacted elsewhere
    /// (handed over with merge, redacted by the lead) reaches the server only erased: the
    /// replica's later push of the original counts as a duplicate and is not stored.
    @Test func aStalePushDoesNotBringTheValueBack() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        try await makeLead("prestatyn", prestatyn)
        let name = "Dafydd ap Llewelyn-Hughes"
        let risk = try await base.addRisk(rhyl, "title=Home visit backlog", "description=Visit to \(name) missed")
        #expect(try await cli.run("merge", "--replica", prestatyn, "--from", rhyl).status == 0)
        let target = try await change(writing: "description", of: risk, in: prestatyn)
        #expect(try await cli.run("redact", "--replica", prestatyn, risk, "description", target, "--reason", "a patient's name").status == 0)
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        #expect(!bytes(of: storePath, contain: name), "the server stored the value from the stale push")
        #expect(!bytes(of: rhyl, contain: name))
        let verified = try await cli.run(["verify", "--data", "data", "--tenant", "bcuhb", "--json"], binary: "clustersyncd")
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(verified.stdout.contains("\"erasedOnArrival\":true"), "\(verified.stdout)")
    }
}
