import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import GRDB
import PostgresNIO
import Testing

/// Kept roll-ups and escalated records in both stores: the roll-up the SQLite store aggregates
/// from its kept contributions equals the one computed from the records; a private risk counts
/// nowhere and never reaches a read-only session; an escalated risk and its action reach the
/// PCPG of its region and the Health Board in full, and leave their list when de-escalated.
@Suite struct OversightStoreTests {
    typealias Kind = StoreBackend

    static let today = CalendarDate(unixMillis: now)
    static let now: Int64 = 1_795_426_200_000

    func change(_ n: Int64, _ record: String, _ field: String, _ value: JSONValue?, cluster: String, practice: String? = nil,
                tenant: String = "bcuhb", sup: [Int64] = [], replica: String = "00000000000000a1") -> Change {
        let r = ReplicaID(replica)!
        return Change(id: ChangeID(replica: r, counter: n), hlc: HLCTimestamp(millis: Self.now - 60_000 + n),
                      record: RecordID(record)!, scope: RecordScope(tenant: tenant, cluster: cluster, practice: practice),
                      field: field, value: value, supersedes: sup.map { ChangeID(replica: r, counter: $0) })
    }

    @Test(arguments: StoreBackend.available) func rollupsAndEscalatedRecords(_ kind: Kind) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-oversight-\(UUID().uuidString).sqlite").path
        let store: any ServerStore = kind == .sqlite ? try SQLiteServerStore(path: path, wallClock: { Self.now }) : try await kind.make(wallClock: { Self.now })
        try await store.addTenant("bcuhb")
        try await store.addTenant("cvuhb")
        try await store.addRegion("conwy", tenant: "bcuhb")
        try await store.addRegion("wrexham-flint", tenant: "bcuhb")
        try await store.addCluster("north-denbighshire", tenant: "bcuhb", region: "conwy")
        try await store.addCluster("wrexham", tenant: "bcuhb", region: "wrexham-flint")
        try await store.addCluster("city", tenant: "cvuhb")
        for (practice, cluster, tenant) in [("rhyl", "north-denbighshire", "bcuhb"), ("gresford", "wrexham", "bcuhb"), ("llanishen", "city", "cvuhb")] {
            try await store.addPractice(practice, cluster: cluster, tenant: tenant)
        }
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", author: "rhyl", role: .clusterLead)
        let gresford = SessionIdentity(tenant: "bcuhb", cluster: "wrexham", practice: "gresford", author: "gresford", role: .clusterLead)
        let llanishen = SessionIdentity(tenant: "cvuhb", cluster: "city", practice: "llanishen", author: "llanishen", role: .clusterLead)
        let nd = "north-denbighshire"
        _ = try await store.push([
            change(1, "RSK-7K3M9Q2X1A", "title", .string("Winter locum gap"), cluster: nd),
            change(2, "RSK-7K3M9Q2X1A", "score", .object(["likelihood": .int(4), "consequence": .int(4)]), cluster: nd),
            change(3, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: nd),
            change(4, "ACT-4F8R2M6W0Z", "title", .string("Agree locum rota"), cluster: nd),
            change(5, "ACT-4F8R2M6W0Z", "due_date", .string("2026-11-01"), cluster: nd),
            change(6, "RSK-7K3M9Q2X1A", "linked_actions", .string("ACT-4F8R2M6W0Z"), cluster: nd),
            change(7, "RSK-2B4D6F8H0J", "title", .string("Partner retiring"), cluster: nd, practice: "rhyl"),
            change(8, "RSK-2B4D6F8H0J", "score", .object(["likelihood": .int(5), "consequence": .int(5)]), cluster: nd, practice: "rhyl"),
            change(9, "RSK-2B4D6F8H0J", "escalation", .string("pcpg"), cluster: nd, practice: "rhyl"),
        ], as: rhyl)
        _ = try await store.push([change(1, "RSK-3C5E7G9K1M", "title", .string("Estates"), cluster: "wrexham", replica: "00000000000000b2"),
                                  change(2, "RSK-3C5E7G9K1M", "escalation", .string("health-board"), cluster: "wrexham", replica: "00000000000000b2")],
                                 as: gresford)
        _ = try await store.push([change(1, "RSK-7K3M9Q2X1A", "title", .string("Another tenant's"), cluster: "city", tenant: "cvuhb", replica: "00000000000000c3"),
                                  change(2, "RSK-7K3M9Q2X1A", "escalation", .string("pcpg"), cluster: "city", tenant: "cvuhb", replica: "00000000000000c3")],
                                 as: llanishen)

        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
        let board = SessionIdentity.oversight(tenant: "bcuhb", role: .healthBoard, region: nil, author: "board")
        let page = try await store.pull(for: pcpg, after: nil, limit: 1000)
        let oversight = try #require(page.oversight)
        #expect(oversight.escalated.map(\.record.rawValue) == ["ACT-4F8R2M6W0Z", "RSK-7K3M9Q2X1A"])
        #expect(Set(page.changes.map(\.record.rawValue)) == ["ACT-4F8R2M6W0Z", "RSK-7K3M9Q2X1A"])
        #expect(page.changes.allSatisfy { $0.scope.tenant == "bcuhb" && $0.scope.practice == nil })
        let rollup = try #require(oversight.regionRollup)
        #expect(rollup.clusters.map(\.cluster) == [nd])
        // The private risk (5x5, escalated) counts nowhere: one open risk, extreme, one overdue action.
        #expect(rollup.risks.total == 1 && rollup.risks.byBand["extreme"] == 1 && rollup.risks.escalation["pcpg"] == 1)
        #expect(rollup.actions.total == 1 && rollup.actions.overdue == 1)
        #expect(try await store.rollup(tenant: "bcuhb", region: "conwy", today: Self.today) == rollup)

        // The Health Board sees every region's escalations, and no other tenant's.
        let boardPage = try await store.pull(for: board, after: nil, limit: 1000)
        #expect(boardPage.oversight?.escalated.map(\.record.rawValue) == ["ACT-4F8R2M6W0Z", "RSK-7K3M9Q2X1A", "RSK-3C5E7G9K1M"])
        #expect(boardPage.changes.allSatisfy { $0.scope.tenant == "bcuhb" && $0.value != .string("Another tenant's") })
        #expect(boardPage.oversight?.regionRollup?.clusters.map(\.cluster) == [nd, "wrexham"])

        // Nothing stored since: the page carries the roll-up and the list, no changes.
        let again = try await store.pull(for: pcpg, after: page.cursor, limit: 1000)
        #expect(again.changes.isEmpty && again.oversight?.escalated == oversight.escalated)

        // De-escalated: withdrawn from the list, and the counts follow.
        _ = try await store.push([change(10, "RSK-7K3M9Q2X1A", "escalation", .string("cluster"), cluster: nd, sup: [3])], as: rhyl)
        let after = try await store.pull(for: pcpg, after: page.cursor, limit: 1000)
        #expect(after.oversight?.escalated == [])
        #expect(after.changes.isEmpty)
        #expect(after.oversight?.regionRollup?.risks.escalation["cluster"] == 1)

        // The SQLite store's kept rows survive a restart and are recomputed when their format is not known.
        if kind == .sqlite {
            let reopened = try SQLiteServerStore(path: path, wallClock: { Self.now })
            #expect(try await reopened.rollup(tenant: "bcuhb", region: nil, today: Self.today)
                    == (try await store.rollup(tenant: "bcuhb", region: nil, today: Self.today)))
        }
        let computed = ClusterRollup(tenant: "bcuhb", cluster: "wrexham", contributions: [
            .risk(RollupContribution.Risk(likelihood: nil, consequence: nil, status: "open", reviewDate: nil, escalation: "health-board"))],
            today: Self.today).namingOnly(registered: ["gresford": .gp], region: "wrexham-flint")
        // gresford is registered, and neither listed for attendance nor attending: named so.
        #expect(computed.attendance.registeredNotListed == [AttendanceCounts.Unlisted(cluster: "wrexham", practice: "gresford")])
        #expect(try await store.rollup(tenant: "bcuhb", region: "wrexham-flint", today: Self.today).clusters == [computed])
        await #expect(throws: ClusterSyncError.self) { try await store.rollup(tenant: "bcuhb", region: "cardiff", today: Self.today) }
    }

    /// A terms of reference's `practices` and an attendee's `practice` are typed on a replica,
    /// which cannot check them against the cluster's practices: text there that is not a
    /// practice the cluster registered (a person's name typed by mistake) reaches the PCPG and
    /// the Health Board as "(not a registered practice)", never as typed.
    @Test(arguments: StoreBackend.available) func aPracticeTheClusterDidNotRegisterReadsAsSuchOutsideIt(_ kind: Kind) async throws {
        let store = try await kind.make(wallClock: { Self.now })
        try await store.addTenant("bcuhb")
        try await store.addRegion("conwy", tenant: "bcuhb")
        try await store.addCluster("north-denbighshire", tenant: "bcuhb", region: "conwy")
        try await store.addPractice("rhyl", cluster: "north-denbighshire", tenant: "bcuhb")
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", author: "rhyl")
        let nd = "north-denbighshire"
        _ = try await store.push([
            change(1, "TOR-7K3M9Q2X1A", "title", .string("GP Collaborative ToR"), cluster: nd),
            change(2, "TOR-7K3M9Q2X1A", "body", .string("gp-collaborative"), cluster: nd),
            change(3, "TOR-7K3M9Q2X1A", "date_agreed", .string("2026-04-01"), cluster: nd),
            change(4, "TOR-7K3M9Q2X1A", "practices", .string("rhyl"), cluster: nd),
            change(5, "TOR-7K3M9Q2X1A", "practices", .string("Mr Patient Smith"), cluster: nd),
            change(6, "TOR-7K3M9Q2X1A", "practices", .string("prestatyn"), cluster: nd),
        ], as: rhyl)
        for reader in [SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg"),
                       SessionIdentity.oversight(tenant: "bcuhb", role: .healthBoard, region: nil, author: "board")] {
            for _ in 0..<2 {  // and again, from the kept roll-up
                let rollup = try #require(try await store.pull(for: reader, after: nil, limit: 1000).oversight?.regionRollup)
                #expect(rollup.attendance.practices.map(\.practice).sorted()
                        == [ClusterRollup.unregisteredPractice, ClusterRollup.unregisteredPractice, "rhyl"], "\(kind) \(reader.role)")
                #expect(!rollup.jsonValue.canonicalText.contains("Patient"))
            }
        }
        #expect(!(try await store.rollup(tenant: "bcuhb", region: nil, today: Self.today).jsonValue.canonicalText.contains("Patient")))
        // A practice registered since is named at the next read, with nothing pushed meanwhile.
        try await store.addPractice("prestatyn", cluster: nd, tenant: "bcuhb")
        let named = try #require(try await store.pull(for: .oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg"),
                                                      after: nil, limit: 1000).oversight?.regionRollup)
        #expect(named.attendance.practices.map(\.practice).sorted() == [ClusterRollup.unregisteredPractice, "prestatyn", "rhyl"])
        #expect(named.attendance.registeredNotListed.isEmpty)
        // A practice registered and never listed nor attending is named as such (PCPG audit:
        // it was in no figure at all).
        try await store.addPractice("meliden", cluster: nd, tenant: "bcuhb")
        let unlisted = try #require(try await store.pull(for: .oversight(tenant: "bcuhb", role: .healthBoard, region: nil, author: "board"),
                                                         after: nil, limit: 1000).oversight?.regionRollup)
        #expect(unlisted.attendance.registeredNotListed == [AttendanceCounts.Unlisted(cluster: nd, practice: "meliden")], "\(kind)")
        #expect(unlisted.clusters.first?.attendance.registeredNotListed.map(\.practice) == ["meliden"])
        #expect(unlisted.jsonValue["attendance"]?["registered_not_listed"]?.canonicalText == "[{\"cluster\":\"north-denbighshire\",\"practice\":\"meliden\"}]")
        #expect(unlisted.planContributions.year.registeredWithout.map(\.practice) == ["meliden", "prestatyn", "rhyl"])

        // Only a GP practice owes CND014W attendance and CND015W contributions: a community
        // pharmacy, or a practice said since to be a dental one, is counted by kind and named
        // in neither list (PCPG audit: a pharmacy was listed as a GP practice short of both).
        try await store.addPractice("boots-rhyl", cluster: nd, tenant: "bcuhb", kind: .pharmacy)
        try await store.setKind(.dental, of: PracticePath(tenant: "bcuhb", cluster: nd, practice: "meliden"))
        let kinds = try #require(try await store.pull(for: .oversight(tenant: "bcuhb", role: .healthBoard, region: nil, author: "board"),
                                                      after: nil, limit: 1000).oversight?.regionRollup)
        #expect(kinds.attendance.registeredNotListed.isEmpty, "\(kind)")
        #expect(kinds.planContributions.year.registeredWithout.map(\.practice) == ["prestatyn", "rhyl"], "\(kind)")
        #expect(kinds.practicesByKind.filter { $0.value > 0 } == ["gp": 2, "pharmacy": 1, "dental": 1], "\(kind)")
        #expect(kinds.clusters.first?.practicesByKind == kinds.practicesByKind)
        #expect(kinds.practicesShown == "2 GP, 1 pharmacy, 1 dental")
        #expect(kinds.jsonValue["practices_by_kind"]?["optometry"] == .int(0))
        #expect(try await store.practices(tenant: "bcuhb").map(\.description) == [
            "bcuhb/north-denbighshire/boots-rhyl pharmacy", "bcuhb/north-denbighshire/meliden dental",
            "bcuhb/north-denbighshire/prestatyn gp", "bcuhb/north-denbighshire/rhyl gp"])
        let error = await #expect(throws: ClusterSyncError.self) {
            try await store.setKind(.pharmacy, of: PracticePath(tenant: "bcuhb", cluster: nd, practice: "dyserth"))
        }
        #expect(error?.code == .unknownRecord && error?.message.contains("bcuhb/north-denbighshire/dyserth") == true, "\(kind)")
    }

    /// A meeting's kept contribution records who it counted for under the rules of when it was
    /// stored; when the rules change (a senior administrator alone counts only when agreed, since
    /// 2026-12-05), the stores make them again: SQLite by its roll-up format, PostgreSQL by its
    /// migration v7. Here a row as the rule before wrote it (rhyl counted) is made again.
    @Test(arguments: StoreBackend.persistent) func keptMeetingContributionsFollowARuleChange(_ kind: Kind) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-rule-\(UUID().uuidString).sqlite").path
        var store: any ServerStore = kind == .sqlite ? try SQLiteServerStore(path: path, wallClock: { Self.now }) : try await kind.make(wallClock: { Self.now })
        try await store.addTenant("bcuhb")
        try await store.addCluster("north-denbighshire", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north-denbighshire", tenant: "bcuhb")
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", author: "rhyl")
        let nd = "north-denbighshire"
        let attendee: JSONValue = .object(["name": .string("Mr Roberts"), "role": .string("member"), "capacity": .string("senior-administrator"),
                                           "practice": .string("rhyl")])
        _ = try await store.push([
            change(1, "MTG-7K3M9Q2X1A", "title", .string("GP Collaborative"), cluster: nd),
            change(2, "MTG-7K3M9Q2X1A", "body", .string("gp-collaborative"), cluster: nd),
            change(3, "MTG-7K3M9Q2X1A", "date", .string("2026-11-10"), cluster: nd),
            change(4, "MTG-7K3M9Q2X1A", "status", .string("held"), cluster: nd),
            change(5, "MTG-7K3M9Q2X1A", "attendees", attendee, cluster: nd),
        ], as: rhyl)
        func rhylAttended() async throws -> Int? {
            try await store.rollup(tenant: "bcuhb", region: nil, today: Self.today).attendance.practices.first { $0.practice == "rhyl" }?.attended
        }
        #expect(try await rhylAttended() == 0, "not agreed in advance")
        let stale = "UPDATE rollup_contribution SET contribution = replace(contribution, '\"counted\":[]', '\"counted\":[\"rhyl\"]')"
        if kind == .sqlite {
            try await DatabaseQueue(path: path).write { db in
                try db.execute(sql: stale)
                try db.execute(sql: "UPDATE rollup_format SET format = 1")
            }
            store = try SQLiteServerStore(path: path, wallClock: { Self.now })
        } else {
            let postgres = try #require(store as? PostgresServerStore)
            try await postgres.client.query(PostgresQuery(unsafeSQL: stale))
            try await postgres.client.query(PostgresQuery(unsafeSQL: "DELETE FROM schema_migrations WHERE version LIKE 'v7%'"))
            #expect(try await postgres.migrate().count == 1)
        }
        #expect(try await rhylAttended() == 0, "\(kind): the stale row was made again")
    }

    /// Risks by category and decisions' sums (forty-second session, PCPG audit): pushed, they
    /// reach the roll-up; rows kept before (without them) are made again, by SQLite's roll-up
    /// format and PostgreSQL's migration v9.
    @Test(arguments: StoreBackend.persistent) func categoriesAndSumsReachTheRollupAndOldRowsAreMadeAgain(_ kind: Kind) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-sums-\(UUID().uuidString).sqlite").path
        // On PostgreSQL each read below is a new node's on the same database: a node keeps the
        // roll-ups it aggregated (`ClusterRollupCache`) until the cluster's log moves.
        let database = kind == .postgres ? try await TestPostgres.freshDatabase() : nil
        func node(migrating: Bool = true) async throws -> any ServerStore {
            guard let database else { return try SQLiteServerStore(path: path, wallClock: { Self.now }) }
            let store = try PostgresServerStore(location: database, maximumConnections: 2, logger: Logger(label: "test-sums"), wallClock: { Self.now })
            store.runInBackground()
            if migrating { try await store.migrate() }
            return store
        }
        var store = try await node()
        try await store.addTenant("bcuhb")
        let nd = "north-denbighshire"
        try await store.addCluster(nd, tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: nd, tenant: "bcuhb")
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: nd, practice: "rhyl", author: "rhyl")
        let day = Self.today.description
        _ = try await store.push([
            change(1, "RSK-7K3M9Q2X1A", "title", .string("Locum gap"), cluster: nd),
            change(2, "RSK-7K3M9Q2X1A", "category", .string("workforce"), cluster: nd),
            change(3, "DEC-7K3M9Q2X1A", "title", .string("Fund the pilot"), cluster: nd),
            change(4, "DEC-7K3M9Q2X1A", "date", .string(day), cluster: nd),
            change(5, "DEC-7K3M9Q2X1A", "outcome", .string("agreed"), cluster: nd),
            change(6, "DEC-7K3M9Q2X1A", "financial_implications", .bool(true), cluster: nd),
            change(7, "DEC-7K3M9Q2X1A", "amount", .string("12000.50"), cluster: nd),
            change(8, "DEC-8K3M9Q2X1A", "title", .string("Not funded"), cluster: nd),
            change(9, "DEC-8K3M9Q2X1A", "date", .string(day), cluster: nd),
            change(10, "DEC-8K3M9Q2X1A", "outcome", .string("rejected"), cluster: nd),
            change(11, "DEC-8K3M9Q2X1A", "financial_implications", .bool(true), cluster: nd),
            change(12, "DEC-8K3M9Q2X1A", "amount", .string("900"), cluster: nd),
            // rhyl's contribution to the plan for last QAIF year, on time.
            change(13, "CTB-7K3M9Q2X1A", "contributor", .string("rhyl"), cluster: nd),
            change(14, "CTB-7K3M9Q2X1A", "year", .string(QAIFYear(startYear: QAIFYear(containing: Self.today).startYear - 1).description), cluster: nd),
            change(15, "CTB-7K3M9Q2X1A", "date", .string("2025-09-01"), cluster: nd),
            // The cluster board met today.
            change(16, "MTG-7K3M9Q2X1A", "title", .string("Cluster board"), cluster: nd),
            change(17, "MTG-7K3M9Q2X1A", "body", .string("stakeholder-board"), cluster: nd),
            change(18, "MTG-7K3M9Q2X1A", "date", .string(day), cluster: nd),
            change(19, "MTG-7K3M9Q2X1A", "status", .string("held"), cluster: nd),
        ], as: rhyl)
        func figures() async throws -> (workforce: Int?, agreed: Int64, financial: Int?, contributed: [String], boardHeld: Int?) {
            let rollup = try await store.rollup(tenant: "bcuhb", region: nil, today: Self.today)
            return (rollup.risks.byCategory["workforce"], rollup.decisions.yearAgreedPence, rollup.decisions.yearFinancialByOutcome["rejected"],
                    rollup.planContributions.lastYear.practices.map(\.practice), rollup.meetings.byBody["stakeholder-board"]?["held"])
        }
        var now = try await figures()
        #expect(now.workforce == 1 && now.agreed == 1_200_050 && now.financial == 1 && now.contributed == ["rhyl"] && now.boardHeld == 1,
                "\(kind): \(now)")
        // As rows kept before the forty-second session were: no category, no sums.
        // Each key may come first in its object, or after another.
        let keys = ["\"category\":\"workforce\"", "\"financial\":true", "\"amountPence\":1200050"]
        let stale = "UPDATE rollup_contribution SET contribution = "
            + keys.flatMap { [",\($0)", "\($0),"] }.reduce("contribution") { "replace(\($0), '\($1)', '')" }
        // Contributions to the plan contributed nothing to the roll-up before.
        // Nor did meetings of bodies other than the GP Collaborative, before the forty-third.
        let noContributions = "DELETE FROM rollup_contribution WHERE record LIKE 'CTB-%' OR record LIKE 'MTG-%'"
        if kind == .sqlite {
            try await DatabaseQueue(path: path).write { db in
                try db.execute(sql: stale)
                try db.execute(sql: noContributions)
                try db.execute(sql: "UPDATE rollup_format SET format = 2")
            }
        } else {
            let postgres = try #require(store as? PostgresServerStore)
            try await postgres.client.query(PostgresQuery(unsafeSQL: stale))
            try await postgres.client.query(PostgresQuery(unsafeSQL: noContributions))
            try await postgres.client.query(PostgresQuery(unsafeSQL: "DELETE FROM schema_migrations WHERE version LIKE 'v9%' OR version LIKE 'v10%' OR version LIKE 'v12%'"))
            // Read before migrating again: the rows are stale.
            let rollup = try await node(migrating: false).rollup(tenant: "bcuhb", region: nil, today: Self.today)
            #expect(rollup.risks.byCategory["workforce"] == 0 && rollup.decisions.yearAgreedPence == 0
                    && rollup.planContributions.lastYear.practices.isEmpty && rollup.meetings.byBody["stakeholder-board"]?["held"] == 0,
                    "the rows were made stale")
        }
        store = try await node()
        now = try await figures()
        #expect(now.workforce == 1 && now.agreed == 1_200_050 && now.contributed == ["rhyl"] && now.boardHeld == 1,
                "\(kind): the stale rows were made again: \(now)")
    }

    /// The SQLite store recomputes a record's kept contribution only when a push may change it
    /// (`RollupContribution.mayChange`): after each push below the kept roll-up equals the one
    /// recomputed from every record (the store reopened with its rows' format forgotten).
    @Test func theKeptRollupFollowsEveryEditThatMovesItAndOnlyThose() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-kept-\(UUID().uuidString).sqlite").path
        let store = try SQLiteServerStore(path: path, wallClock: { Self.now })
        try await store.addTenant("bcuhb")
        try await store.addRegion("conwy", tenant: "bcuhb")
        let nd = "north-denbighshire"
        try await store.addCluster(nd, tenant: "bcuhb", region: "conwy")
        try await store.addPractice("rhyl", cluster: nd, tenant: "bcuhb")
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: nd, practice: "rhyl", author: "rhyl", role: .clusterLead)
        func recomputed() async throws -> RegionRollup {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in try db.execute(sql: "UPDATE rollup_format SET format = 0") }
            return try await SQLiteServerStore(path: path, wallClock: { Self.now }).rollup(tenant: "bcuhb", region: nil, today: Self.today)
        }
        let steps: [(String, [Change], (RegionRollup) -> Bool)] = [
            ("a risk with a title only counts, open", [change(1, "RSK-7K3M9Q2X1A", "title", .string("Winter locum gap"), cluster: nd),
                                                     change(2, "ACT-4F8R2M6W0Z", "title", .string("Agree locum rota"), cluster: nd)],
             { $0.risks.total == 1 && $0.risks.byStatus["open"] == 1 && $0.actions.total == 1 }),
            ("its owner is no input", [change(3, "RSK-7K3M9Q2X1A", "owner", .string("Practice manager"), cluster: nd)], { $0.risks.byStatus["open"] == 1 }),
            ("closed", [change(4, "RSK-7K3M9Q2X1A", "status", .string("closed"), cluster: nd)], { $0.risks.total == 1 && $0.risks.byStatus["closed"] == 1 }),
            ("its title removed, still there", [change(5, "RSK-7K3M9Q2X1A", "title", nil, cluster: nd, sup: [1])], { $0.risks.total == 1 }),
            ("the action falls due", [change(6, "ACT-4F8R2M6W0Z", "due_date", .string("2026-11-01"), cluster: nd)], { $0.actions.overdue == 1 }),
            ("the risk deleted", [change(7, "RSK-7K3M9Q2X1A", "deleted", .bool(true), cluster: nd)], { $0.risks.total == 0 && $0.actions.total == 1 }),
        ]
        for (name, changes, expected) in steps {
            _ = try await store.push(changes, as: rhyl)
            let kept = try await store.rollup(tenant: "bcuhb", region: nil, today: Self.today)
            #expect(expected(kept), "\(name): \(kept.risks) \(kept.actions)")
            #expect(kept == (try await recomputed()), "\(name)")
        }
    }
}
