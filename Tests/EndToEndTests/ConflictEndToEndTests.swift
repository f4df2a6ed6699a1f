import ClusterSyncCore
import Foundation
import Testing

/// Conflicts and history end to end: three practices of one cluster edit concurrently through a
/// real server on loopback; the real `clustersync` lists, compares and settles the conflicts and
/// reads records' history; `clustersyncd conflicts` reports a tenant's open conflicts.
@Suite(.serialized, .teardown) struct ConflictEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    /// The three practices' replicas; the server stamps Prestatyn and Denbigh (certificates) with
    /// their practice, Rhyl (a token labelled "laptop") with "rhyl (laptop)".
    struct Practices {
        let prestatyn: String
        let rhyl: String
        let denbigh: String
        var all: [String] { [prestatyn, rhyl, denbigh] }
    }

    func threePractices(_ server: Server) async throws -> Practices {
        let added = try await cli.run(["practice", "add", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "denbigh"],
                                binary: "clustersyncd")
        #expect(added.status == 0, "\(added.stderr)")
        // Each settles conflicts with the others' values and deletes shared records: the cluster
        // lead's powers (LeadPowers), so each syncs with a cluster-lead credential.
        return Practices(
            prestatyn: try await base.makeReplica("prestatyn", certificate: true, role: "cluster-lead", server: server),
            rhyl: try await base.makeReplica("rhyl", certificate: false, role: "cluster-lead", server: server),
            denbigh: try await base.makeReplica("denbigh", certificate: true, role: "cluster-lead", server: server))
    }

    /// Syncs so that every replica has every change: each pushes, then the first two pull again.
    func syncAll(_ p: Practices) async throws {
        for file in p.all + [p.prestatyn, p.rhyl] { _ = try await base.sync(file) }
    }

    @discardableResult
    func ok(_ arguments: String...) async throws -> CLI.Result {
        let result = try await cli.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result
    }

    func output(_ arguments: [String]) async throws -> String {
        let result = try await cli.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func output(_ arguments: String...) async throws -> String {
        try await output(arguments)
    }

    /// `clustersync conflicts --json`: one entry per conflicting field.
    func conflicts(_ file: String) async throws -> [JSONValue] {
        let result = try await cli.run("conflicts", "--replica", file, "--json")
        #expect(result.status == 0, "\(result.stderr)")
        guard case .array(let entries) = result.json?["conflicts"] else {
            Issue.record("no conflicts array: \(result.stdout)")
            return []
        }
        return entries
    }

    static func values(_ entry: JSONValue?) -> [JSONValue] {
        if case .array(let values) = entry?["values"] { return values }
        return []
    }

    static func strings(_ values: [JSONValue], _ key: String) -> [String] {
        values.compactMap { $0[key]?.stringValue }
    }

    /// The records of the scenario below.
    struct Scenario {
        var risk = "", action = "", list = ""
        var items: [String: String] = [:]
    }

    /// The texts of a list's items in list order, and their ids by text.
    func items(_ file: String, _ list: String) async throws -> [(text: String, id: String)] {
        guard case .array(let items) = try await cli.run("list", "show", "--replica", file, "--json", list).json?["items"] else {
            Issue.record("no items")
            return []
        }
        return items.map { ($0["fields"]?["text"]?.stringValue ?? "", $0["id"]?.stringValue ?? "") }
    }

    /// Prestatyn makes a risk, an action and an agenda; every replica gets them; then, offline,
    /// the three practices make every kind of concurrent edit, and sync.
    func makeEveryKindOfConcurrentEdit(_ p: Practices) async throws -> Scenario {
        var s = Scenario()
        s.risk = try await output("risk", "add", "--replica", p.prestatyn, "title=GP locum cover", "owner=Lead", "tags+=winter")
        s.action = try await output("action", "add", "--replica", p.prestatyn, "title=Agree locum rota", "due_date=2026-12-01")
        s.list = try await output("list", "create", "--replica", p.prestatyn, "title=Cluster board", "kind=agenda")
        for text in ["Apologies", "Minutes", "Risk review", "AOB", "Next meeting"] {
            s.items[text] = try await output("list", "add", "--replica", p.prestatyn, s.list, text)
        }
        #expect(s.items.values.allSatisfy { RecordID($0) != nil }, "\(s.items)")
        try await syncAll(p)

        // A field, three ways.
        try await ok("risk", "set", "--replica", p.prestatyn, s.risk, "owner=Cluster lead")
        try await ok("risk", "set", "--replica", p.rhyl, s.risk, "owner=Practice manager")
        try await ok("risk", "set", "--replica", p.denbigh, s.risk, "owner=Nurse lead")
        // A set: one removes a member another adds.
        try await ok("risk", "set", "--replica", p.prestatyn, s.risk, "tags-=winter")
        try await ok("risk", "set", "--replica", p.rhyl, s.risk, "tags+=winter")
        // Two inserts at one place.
        try await ok("list", "add", "--replica", p.prestatyn, s.list, "Welcome", "--at", "1")
        try await ok("list", "add", "--replica", p.rhyl, s.list, "Introductions", "--at", "1")
        // Two moves of one item: to the top, and to the end (after "Next meeting").
        try await ok("list", "move", "--replica", p.prestatyn, s.list, s.items["Risk review"]!, "--to", "1")
        try await ok("list", "move", "--replica", p.denbigh, s.list, s.items["Risk review"]!, "--to", "5")
        // A list remove nobody else touches.
        try await ok("list", "remove", "--replica", p.rhyl, s.list, s.items["Minutes"]!)
        // An item removed while another practice ticks it; an action deleted while another edits it.
        try await ok("list", "remove", "--replica", p.prestatyn, s.list, s.items["AOB"]!)
        try await ok("list", "set", "--replica", p.denbigh, s.list, s.items["AOB"]!, "done=yes")
        try await ok("action", "delete", "--replica", p.rhyl, s.action)
        try await ok("action", "set", "--replica", p.prestatyn, s.action, "status=in-progress")

        // Nothing is a conflict until the replicas meet.
        for file in p.all { #expect(try await conflicts(file).isEmpty, "\(file)") }
        try await syncAll(p)
        return s
    }

    @Test func everyKindOfConcurrentEditShowsAsAConflictOnEveryReplicaWithItsAuthors() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let p = try await threePractices(server)
        let s = try await makeEveryKindOfConcurrentEdit(p)

        var seen: [[JSONValue]] = []
        for file in p.all {
            let entries = try await conflicts(file)
            seen.append(entries)
            let keys = Set(entries.map { "\($0["id"]?.stringValue ?? "") \($0["field"]?.stringValue ?? "") \($0["kind"]?.stringValue ?? "")" })
            #expect(keys == [
                "\(s.risk) owner concurrent-values",
                "\(s.items["Risk review"]!) position concurrent-values",
                "\(s.items["AOB"]!) deleted edit-against-delete",
                "\(s.action) deleted edit-against-delete",
            ], "\(file)")

            let owner = entries.first { $0["id"]?.stringValue == s.risk }
            #expect(owner?["title"] == .string("GP locum cover"))
            #expect(owner?["count"] == .int(3))
            let ownerValues = Self.values(owner)
            #expect(Set(Self.strings(ownerValues, "value")) == ["Cluster lead", "Practice manager", "Nurse lead"])
            #expect(Set(Self.strings(ownerValues, "author")) == ["prestatyn", "rhyl (laptop)", "denbigh"])
            #expect(ownerValues.map { $0["number"] } == [.int(1), .int(2), .int(3)])
            // The author of each value is the practice that wrote it.
            for value in ownerValues {
                let expected = ["Cluster lead": "prestatyn", "Practice manager": "rhyl (laptop)", "Nurse lead": "denbigh"]
                #expect(value["author"]?.stringValue == expected[value["value"]?.stringValue ?? ""])
                #expect(value["time"]?.stringValue?.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d/) != nil, "\(value)")
            }

            let moves = entries.first { $0["field"] == .string("position") }
            #expect(moves?["type"] == .string("item"))
            #expect(moves?["title"] == .string("Risk review"))
            #expect(moves?["list"] == .object(["id": .string(s.list), "title": .string("Cluster board")]))
            let moveValues = Self.values(moves)
            #expect(Set(Self.strings(moveValues, "author")) == ["prestatyn", "denbigh"])
            #expect(Set(Self.strings(moveValues, "text")) == ["at the top", "after \"Next meeting\""])

            let item = entries.first { $0["id"]?.stringValue == s.items["AOB"] }
            let itemValues = Self.values(item)
            #expect(itemValues.map { $0["field"] } == [.string("deleted"), .string("done")], "the delete first")
            #expect(Self.strings(itemValues, "author") == ["prestatyn", "denbigh"])

            let action = entries.first { $0["id"]?.stringValue == s.action }
            #expect(action?["deleted"] == .bool(true))
            let actionValues = Self.values(action)
            #expect(actionValues.map { $0["field"] } == [.string("deleted"), .string("status")])
            #expect(Self.strings(actionValues, "author") == ["rhyl (laptop)", "prestatyn"])

            // Not conflicts by design: the add wins over the remove it did not see, both inserts stay.
            let risk = try #require(try await cli.run("show", "--replica", file, "--json", s.risk).json)
            #expect(risk["fields"]?["tags"] == .array([.string("winter")]))
            let list = try await items(file, s.list).map(\.text)
            #expect(Set(list.prefix(2)) == ["Welcome", "Introductions"], "\(list)")
            #expect(Set(list) == ["Welcome", "Introductions", "Apologies", "Risk review", "Next meeting"], "\(list)")
        }
        #expect(seen[0] == seen[1] && seen[1] == seen[2], "every replica reports the same conflicts")

        // For a person: aligned, dated, every author named, and no colour through a pipe.
        let text = try await cli.run("conflicts", "--replica", p.rhyl).stdout
        for expected in [s.risk, s.action, "rhyl (laptop)", "denbigh", "prestatyn", "Nurse lead", "at the top", "4 conflicts in 4 records"] {
            #expect(text.contains(expected), "\(expected) in \(text)")
        }
        #expect(text.contains(/\d{4}-\d\d-\d\d \d\d:\d\d/))
        // `status` counts the same conflicts, a list's order among them (Replica.conflictCounts).
        #expect(try await cli.run("status", "--replica", p.rhyl, "--json").json?["conflicts"] == .int(4))
        #expect(!text.contains("\u{1B}"))
        let header = try #require(text.split(separator: "\n").first)
        let row = try #require(text.split(separator: "\n").first { $0.hasPrefix(s.action) })
        #expect(row.range(of: "rhyl (laptop)")?.lowerBound.utf16Offset(in: row) == header.range(of: "  by  ").map { $0.lowerBound.utf16Offset(in: header) + 2 },
                "columns line up:\n\(header)\n\(row)")

        // Side by side, numbered for --keep.
        let shown = try await cli.run("conflicts", "show", "--replica", p.denbigh, s.risk).stdout
        let json = Self.values(try #require(await conflicts(p.denbigh).first { $0["id"]?.stringValue == s.risk }))
        let byLine = try #require(shown.split(separator: "\n").first { $0.hasPrefix("by") }, "\(shown)")
        let authors = Self.strings(json, "author")
        let positions = authors.compactMap { byLine.range(of: $0)?.lowerBound }
        #expect(positions.count == 3 && positions == positions.sorted(), "values side by side in number order: \(byLine)")
        #expect(shown.split(separator: "\n").contains { $0.split(separator: " ") == ["1", "2", "3"] }, "\(shown)")
        #expect(shown.contains("conflicts resolve \(s.risk) owner --keep 1|2|3"))
    }

    @Test func resolvingOnOneReplicaClearsTheConflictEverywhereAndAConcurrentEditMakesANewOne() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let p = try await threePractices(server)
        let s = try await makeEveryKindOfConcurrentEdit(p)
        let riskReview = s.items["Risk review"]!

        // A field with no conflict, a number out of range, an unknown author: user errors that write nothing.
        let pendingBefore = try await cli.run("status", "--replica", p.rhyl, "--json").json?["pending"]
        for (arguments, message) in [
            (["title", "--keep", "1"], "no conflict on title"),
            (["owner", "--keep", "4"], "give 1 to 3"),
            (["owner", "--keep", "llandudno"], "no competing value"),
            (["owner"], "--keep"),
            (["owner", "--value", "x", "--keep", "1"], "not both"),
        ] {
            let result = try await cli.run(["conflicts", "resolve", "--replica", p.rhyl, s.risk] + arguments)
            #expect(result.status == 1, "\(arguments): \(result.stdout)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try await cli.run("status", "--replica", p.rhyl, "--json").json?["pending"] == pendingBefore)

        // Each practice settles one; before a sync only the settling replica sees it settled.
        try await ok("conflicts", "resolve", "--replica", p.denbigh, s.risk, "owner", "--keep", "rhyl")
        let denbighsNumber = try #require(Self.values(try await conflicts(p.rhyl).first { $0["id"]?.stringValue == riskReview })
            .first { $0["author"] == .string("denbigh") }?["number"]?.intValue)
        try await ok("conflicts", "resolve", "--replica", p.rhyl, riskReview, "position", "--keep", "\(denbighsNumber)")
        try await ok("conflicts", "resolve", "--replica", p.prestatyn, s.items["AOB"]!, "deleted", "--keep", "delete")
        try await ok("conflicts", "resolve", "--replica", p.rhyl, s.action, "deleted", "--keep", "edit")
        #expect(try await conflicts(p.denbigh).map { $0["id"]?.stringValue }.contains(riskReview))
        #expect(!(try await conflicts(p.denbigh).map { $0["id"]?.stringValue }.contains(s.risk)))

        try await syncAll(p)
        for file in p.all {
            #expect(try await conflicts(file).isEmpty, "\(file)")
            #expect(try await cli.run("show", "--replica", file, "--json", s.risk).json?["fields"]?["owner"] == .string("Practice manager"))
            let action = try #require(try await cli.run("show", "--replica", file, "--json", s.action).json)
            #expect(action["deleted"] == .bool(false) && action["fields"]?["status"] == .string("in-progress"))
            let list = try await items(file, s.list).map(\.text)
            #expect(!list.contains("AOB"), "\(list)")
            #expect(list.last == "Risk review", "kept Denbigh's move, after Next meeting: \(list)")
        }

        // Rhyl and Prestatyn retitle concurrently; once synced, Prestatyn settles it while Denbigh,
        // having seen the conflict, writes another title: the two make a new conflict.
        try await ok("risk", "set", "--replica", p.prestatyn, s.risk, "title=Locum cover, winter")
        try await ok("risk", "set", "--replica", p.rhyl, s.risk, "title=Winter locum gap")
        try await syncAll(p)
        #expect(try await conflicts(p.denbigh).map { $0["field"] } == [.string("title")])
        try await ok("conflicts", "resolve", "--replica", p.prestatyn, s.risk, "title", "--value", "Winter GP locum cover")
        try await ok("risk", "set", "--replica", p.denbigh, s.risk, "title=Locum gap")
        try await syncAll(p)
        for file in p.all {
            let entries = try await conflicts(file)
            #expect(entries.map { $0["field"] } == [.string("title")], "\(file)")
            let values = Self.values(entries.first)
            #expect(Set(Self.strings(values, "value")) == ["Winter GP locum cover", "Locum gap"], "only the new values: \(values)")
            #expect(Set(Self.strings(values, "author")) == ["prestatyn", "denbigh"])
        }

        // A score: likelihood names it, and --value takes the pair as `set` does.
        try await ok("conflicts", "resolve", "--replica", p.rhyl, s.risk, "title", "--keep", "denbigh")
        try await ok("risk", "set", "--replica", p.prestatyn, s.risk, "likelihood=4", "consequence=4")
        try await ok("risk", "set", "--replica", p.rhyl, s.risk, "likelihood=2", "consequence=3")
        try await syncAll(p)
        #expect(try await conflicts(p.denbigh).map { $0["field"] } == [.string("score")])
        let bad = try await cli.run("conflicts", "resolve", "--replica", p.denbigh, s.risk, "score", "--value", "9x9")
        #expect(bad.status == 1 && bad.stderr.contains("score must be"), "\(bad.stderr)")
        try await ok("conflicts", "resolve", "--replica", p.denbigh, s.risk, "likelihood", "--value", "4x3")
        try await syncAll(p)
        for file in p.all {
            #expect(try await conflicts(file).isEmpty, "\(file)")
            let risk = try #require(try await cli.run("show", "--replica", file, "--json", s.risk).json)
            #expect(risk["fields"]?["title"] == .string("Locum gap"))
            #expect(risk["fields"]?["score"] == .object(["likelihood": .int(4), "consequence": .int(3)]))
        }
    }

    @Test func historyListsEveryChangeWithItsServerStampedAuthorAfterTheRecordIsDeleted() async throws {
        let server = try await base.makeServer()
        let p = try await threePractices(server)
        let risk = try await output("risk", "add", "--replica", p.prestatyn, "title=Estates lease", "owner=Cluster lead")

        // Before a sync, the author is the replica's name.
        let local = try #require(try await cli.run("history", "--replica", p.prestatyn, "--json", risk).json)
        guard case .array(let before) = local["history"] else { Issue.record("no history: \(local)"); return }
        #expect(Self.strings(before, "author") == ["Manager, prestatyn", "Manager, prestatyn", "Manager, prestatyn"])

        try await syncAll(p)
        try await ok("risk", "set", "--replica", p.rhyl, risk, "owner=Practice manager", "tags+=estates")
        _ = try await base.sync(p.rhyl)
        _ = try await base.sync(p.denbigh)
        try await ok("risk", "set", "--replica", p.denbigh, risk, "tags-=estates")
        try await ok("risk", "delete", "--replica", p.denbigh, risk)
        try await syncAll(p)
        await server.stop()

        // Offline now: every replica still has the deleted record's whole history, the same.
        var histories: [JSONValue] = []
        for file in p.all {
            let json = try #require(try await cli.run("history", "--replica", file, "--json", risk).json, "\(file)")
            histories.append(json)
            #expect(json["deleted"] == .bool(true))
            #expect(json["title"] == .string("Estates lease"))
            guard case .array(let entries) = json["history"] else { Issue.record("no history"); continue }
            let rows = entries.map { [$0["field"]?.stringValue ?? "", $0["action"]?.stringValue ?? "", $0["author"]?.stringValue ?? ""] }
            #expect(rows == [
                ["title", "set", "prestatyn"],
                ["owner", "set", "prestatyn"],
                ["status", "set", "prestatyn"],
                ["owner", "set", "rhyl (laptop)"],
                ["tags", "add", "rhyl (laptop)"],
                ["tags", "remove", "denbigh"],
                ["deleted", "delete", "denbigh"],
            ], "\(file)")
            guard entries.count == 7 else { continue }
            #expect(entries[0]["before"] == .array([]) && entries[0]["after"] == .string("Estates lease"))
            #expect(entries[3]["before"] == .array([.string("Cluster lead")]) && entries[3]["after"] == .string("Practice manager"))
            #expect(entries[5]["before"] == .array([.string("estates")]) && entries[5]["after"] == .null)
            #expect(entries[6]["after"] == .bool(true))
            #expect(Set(Self.strings(entries, "replica")).count == 3)
            #expect(entries.allSatisfy { $0["time"]?.stringValue?.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d/) != nil })
        }
        #expect(histories[0] == histories[1] && histories[1] == histories[2])

        let text = try await cli.run("history", "--replica", p.rhyl, risk)
        #expect(text.status == 0, "\(text.stderr)")
        for expected in ["DELETED", "Estates lease", "Cluster lead", "Practice manager", "rhyl (laptop)", "denbigh", "(removed)", "deleted", "7 changes"] {
            #expect(text.stdout.contains(expected), "\(expected) in \(text.stdout)")
        }
        let ownerChange = try #require(text.stdout.split(separator: "\n").first { $0.contains("Practice manager") })
        #expect(ownerChange.contains(/Cluster lead +Practice manager/), "before, then after: \(ownerChange)")

        let unknown = try await cli.run("history", "--replica", p.rhyl, "RSK-0000000000")
        #expect(unknown.status == 1 && unknown.stderr.contains("no record RSK-0000000000"), "\(unknown.stderr)")
    }

    @Test func theServerListsTheTenantsOpenConflictsAndNoneOfAnotherTenants() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        // Rhyl settles a conflict with Prestatyn's value: the cluster lead's (LeadPowers).
        let rhyl = try await base.makeReplica("rhyl", certificate: false, role: "cluster-lead", server: server)
        let wrexham = try await base.makeReplica("wrexham-1", cluster: "wrexham", certificate: false, server: server)
        let cardiff = try await base.makeReplica("llanishen", cluster: "cardiff-north", tenant: "cvuhb", certificate: false, server: server)
        /// A second replica of a practice, with the first one's token or certificate.
        func second(_ practice: String, cluster: String, tenant: String = "bcuhb", certificate: Bool) async throws -> String {
            let file = "\(practice)-2.sqlite"
            try await ok("init", "--replica", file, "--tenant", tenant, "--cluster", cluster, "--practice", practice, "--name", "Second, \(practice)")
            let credential = certificate
                ? ["--certificate", "certs-\(practice)/\(practice).pem", "--key", "certs-\(practice)/\(practice)-key.pem"]
                : ["--token-file", "\(practice).token"]
            let set = try await cli.run(["remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem"] + credential)
            #expect(set.status == 0, "\(set.stderr)")
            return file
        }
        let prestatyn2 = try await second("prestatyn", cluster: "north-denbighshire", certificate: true)
        let wrexham2 = try await second("wrexham-1", cluster: "wrexham", certificate: false)
        let cardiff2 = try await second("llanishen", cluster: "cardiff-north", tenant: "cvuhb", certificate: false)

        /// A record both replicas retitle concurrently, after both have it.
        func conflict(_ a: String, _ b: String, _ extra: String...) async throws -> String {
            let id = try await output(["risk", "add", "--replica", a, "title=First"] + extra)
            _ = try await base.sync(a)
            _ = try await base.sync(b)
            try await ok("risk", "set", "--replica", a, id, "title=From \(a)")
            try await ok("risk", "set", "--replica", b, id, "title=From \(b)")
            for file in [a, b, a] { _ = try await base.sync(file) }
            #expect(try await conflicts(a).contains { $0["id"]?.stringValue == id }, "\(a) sees the conflict on \(id)")
            return id
        }
        let northDenbighshire = try await conflict(prestatyn, rhyl)
        let settled = try await conflict(prestatyn, rhyl)
        try await ok("conflicts", "resolve", "--replica", rhyl, settled, "title", "--keep", "1")
        _ = try await base.sync(rhyl)
        let wrexhamRisk = try await conflict(wrexham, wrexham2)
        let cardiffRisk = try await conflict(cardiff, cardiff2)
        let privateRisk = try await conflict(prestatyn, prestatyn2, "--private")

        func serverConflicts(_ arguments: String...) async throws -> (ids: Set<String>, entries: [JSONValue]) {
            let result = try await cli.run(["conflicts", "--data", "data", "--json"] + arguments, binary: "clustersyncd")
            #expect(result.status == 0, "\(result.stderr)")
            guard case .array(let entries) = result.json?["conflicts"] else {
                Issue.record("no conflicts: \(result.stdout)")
                return ([], [])
            }
            return (Set(entries.compactMap { $0["id"]?.stringValue }), entries)
        }
        let bcuhb = try await serverConflicts("--tenant", "bcuhb")
        #expect(bcuhb.ids == [northDenbighshire, wrexhamRisk], "open, cluster-shared, this tenant's only")
        #expect(!bcuhb.ids.contains(cardiffRisk) && !bcuhb.ids.contains(settled) && !bcuhb.ids.contains(privateRisk))
        let nd = try #require(bcuhb.entries.first { $0["id"]?.stringValue == northDenbighshire })
        #expect(nd["cluster"] == .string("north-denbighshire") && nd["tenant"] == .string("bcuhb"))
        #expect(nd["field"] == .string("title") && nd["count"] == .int(2))
        #expect(Set(Self.strings(Self.values(nd), "author")) == ["prestatyn", "rhyl (laptop)"])
        #expect(Set(Self.strings(Self.values(nd), "value")) == ["From \(prestatyn)", "From \(rhyl)"])
        #expect(bcuhb.entries.first { $0["id"]?.stringValue == wrexhamRisk }?["cluster"] == .string("wrexham"))

        #expect(try await serverConflicts("--tenant", "bcuhb", "--cluster", "north-denbighshire").ids == [northDenbighshire])
        #expect(try await serverConflicts("--tenant", "cvuhb").ids == [cardiffRisk])

        let text = try await cli.run(["conflicts", "--data", "data", "--tenant", "bcuhb"], binary: "clustersyncd")
        #expect(text.status == 0)
        for expected in ["north-denbighshire", "wrexham", northDenbighshire, wrexhamRisk, "2 open conflicts"] {
            #expect(text.stdout.contains(expected), "\(expected) in \(text.stdout)")
        }
        #expect(!text.stdout.contains(cardiffRisk))
        let unknown = try await cli.run(["conflicts", "--data", "data", "--tenant", "nowhere"], binary: "clustersyncd")
        #expect(unknown.status == 1 && unknown.stderr.contains("no tenant"), "\(unknown.stderr)")
    }
}
