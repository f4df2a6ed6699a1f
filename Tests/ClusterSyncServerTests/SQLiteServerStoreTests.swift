import ClusterSyncCore
import ClusterSyncServer
import Crypto
import Foundation
import GRDB
import Testing

@Suite struct SQLiteServerStoreTests {
    // MARK: Administration

    @Test func adminHierarchyAndErrors() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await store.addTenant("bcuhb")
        try await store.addTenant("cardiff.and-vale_1")
        try await store.addCluster("north-denbighshire", tenant: "bcuhb")
        try await store.addCluster("conwy-west", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north-denbighshire", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north-denbighshire", tenant: "bcuhb")
        try await store.addPractice("llandudno", cluster: "conwy-west", tenant: "bcuhb")
        try await store.addCluster("city", tenant: "cardiff.and-vale_1")
        try await store.addPractice("rhyl", cluster: "city", tenant: "cardiff.and-vale_1")

        let bcuhb = [
            PracticePath(tenant: "bcuhb", cluster: "conwy-west", practice: "llandudno"),
            PracticePath(tenant: "bcuhb", cluster: "north-denbighshire", practice: "prestatyn"),
            PracticePath(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl"),
        ]
        #expect(try await store.practices(tenant: "bcuhb").map(\.path) == bcuhb)
        #expect(try await store.practices(tenant: nil).map(\.path)
            == bcuhb + [PracticePath(tenant: "cardiff.and-vale_1", cluster: "city", practice: "rhyl")])
        #expect(try await store.practices(tenant: "nobody").isEmpty)
        #expect(try await store.isRegistered(PracticePath(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl")))
        #expect(try await !store.isRegistered(PracticePath(tenant: "bcuhb", cluster: "conwy-west", practice: "rhyl")))
        #expect(try await !store.isRegistered(PracticePath(tenant: "cardiff.and-vale_1", cluster: "north-denbighshire", practice: "rhyl")))

        // Adding an existing name is an error, and says which.
        var error = await #expect(throws: ClusterSyncError.self) { try await store.addTenant("bcuhb") }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("already exists") == true)
        error = await #expect(throws: ClusterSyncError.self) { try await store.addCluster("conwy-west", tenant: "bcuhb") }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("already exists") == true)
        error = await #expect(throws: ClusterSyncError.self) {
            try await store.addPractice("rhyl", cluster: "north-denbighshire", tenant: "bcuhb")
        }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("already exists") == true)

        // Unknown parents.
        error = await #expect(throws: ClusterSyncError.self) { try await store.addCluster("c", tenant: "powys") }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("no tenant \"powys\"") == true)
        error = await #expect(throws: ClusterSyncError.self) { try await store.addPractice("p", cluster: "c", tenant: "powys") }
        #expect(error?.message.contains("no tenant \"powys\"") == true)
        error = await #expect(throws: ClusterSyncError.self) { try await store.addPractice("p", cluster: "arfon", tenant: "bcuhb") }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("no cluster \"arfon\"") == true)

        // Names.
        let badNames = ["", "-rhyl", ".rhyl", "_rhyl", "rhyl west", "rhyl/west", "ysbyty-gwynedd-é", String(repeating: "a", count: 65), "a\n"]
        for name in badNames {
            let error = await #expect(throws: ClusterSyncError.self, "\(name)") { try await store.addTenant(name) }
            #expect(error?.code == .invalidValue)
            #expect(error?.field == "tenant")
        }
        try await store.addTenant(String(repeating: "a", count: 64))
        try await store.addTenant("9")
        error = await #expect(throws: ClusterSyncError.self) { try await store.addCluster("bad name", tenant: "bcuhb") }
        #expect(error?.field == "cluster")
        error = await #expect(throws: ClusterSyncError.self) {
            try await store.addPractice("bad/name", cluster: "north-denbighshire", tenant: "bcuhb")
        }
        #expect(error?.field == "practice")
        #expect(try await store.practices(tenant: "bcuhb").map(\.path) == bcuhb)

        // The hierarchy survives reopening the file.
        let reopened = try SQLiteServerStore(path: fixture.path)
        #expect(try await reopened.practices(tenant: "bcuhb").map(\.path) == bcuhb)
    }

    // MARK: Tokens

    @Test func tokensAuthenticateOnlyWhenExact() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()

        let labelled = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "Dr Jones laptop")
        let plain = try await store.issueToken(practice: "prestatyn", cluster: "north", tenant: "bcuhb", label: nil)
        for token in [labelled, plain] {
            #expect(token.utf8.count == 60)
            #expect(token.hasPrefix("cst_"))
            let id = token.dropFirst(4).prefix(12)
            #expect(id.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(token.dropFirst(16).first == "_")
            #expect(token.dropFirst(17).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
        #expect(labelled != plain)
        #expect(labelled.prefix(16) != plain.prefix(16))

        #expect(try await store.authenticate(token: labelled)
            == SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl (Dr Jones laptop)"))
        #expect(try await store.authenticate(token: plain)
            == SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn"))

        // Wrong secret: same id, one secret character changed (still valid base64url).
        var wrongSecret = Array(labelled)
        wrongSecret[30] = wrongSecret[30] == "A" ? "B" : "A"
        #expect(try await store.authenticate(token: String(wrongSecret)) == nil)
        // Another credential's secret with this id.
        #expect(try await store.authenticate(token: String(labelled.prefix(17) + plain.dropFirst(17))) == nil)
        // Unknown id with a real secret.
        let unknownID = "cst_" + (labelled.dropFirst(4).prefix(12) == "000000000000" ? "111111111111" : "000000000000")
            + labelled.dropFirst(16)
        #expect(try await store.authenticate(token: unknownID) == nil)
        // Malformed.
        let malformed: [String] = [
            "", "cst_", "Bearer " + labelled, labelled + "A", String(labelled.dropLast()), " " + labelled,
            labelled.uppercased(), "cst-" + String(labelled.dropFirst(4)), String(labelled.prefix(16)) + "." + String(labelled.dropFirst(17)),
            String(labelled.prefix(17)) + "+" + String(labelled.dropFirst(18)), String(labelled.prefix(17)) + "=" + String(labelled.dropFirst(18)),
        ]
        for token in malformed {
            #expect(try await store.authenticate(token: token) == nil, "\(token)")
        }

        // Revoked.
        let id = String(labelled.dropFirst(4).prefix(12))
        try fixture.writeDirectly { db in
            try db.execute(sql: "UPDATE credential SET revoked = 1 WHERE id = ?", arguments: [id])
        }
        #expect(try await store.authenticate(token: labelled) == nil)
        #expect(try await store.authenticate(token: plain) != nil)

        // Tokens only for registered practices; labels must be printable.
        var error = await #expect(throws: ClusterSyncError.self) {
            try await store.issueToken(practice: "conwy", cluster: "north", tenant: "bcuhb", label: nil)
        }
        #expect(error?.message.contains("no practice \"conwy\"") == true)
        error = await #expect(throws: ClusterSyncError.self) {
            try await store.issueToken(practice: "rhyl", cluster: "arfon", tenant: "bcuhb", label: nil)
        }
        #expect(error?.message.contains("no cluster \"arfon\"") == true)
        error = await #expect(throws: ClusterSyncError.self) {
            try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "a\nb")
        }
        #expect(error?.field == "label")
        _ = await #expect(throws: ClusterSyncError.self) {
            try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "  ")
        }
    }

    @Test func storedHashIsNotTheToken() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()
        let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "reception")
        let id = String(token.dropFirst(4).prefix(12))
        let secretText = String(token.dropFirst(17))

        let row = try #require(try fixture.readDirectly { db in
            try Row.fetchOne(db, sql: "SELECT * FROM credential WHERE id = ?", arguments: [id])
        })
        let hash: Data = row["secret_hash"]
        var base64 = secretText.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let secret = try #require(Data(base64Encoded: base64))
        #expect(secret.count == 32)
        #expect(hash == Data(SHA256.hash(data: secret)))
        #expect(hash != secret)
        #expect(row["practice"] as String == "rhyl")
        #expect(row["label"] as String == "reception")
        #expect(row["revoked"] as Int == 0)
        for column in row.columnNames {
            let value = row[column].map { "\($0)" } ?? ""
            #expect(!value.contains(secretText), "column \(column)")
        }
        // Nowhere in the files either: neither the secret's text nor its bytes.
        for suffix in ["", "-wal"] {
            guard let bytes = FileManager.default.contents(atPath: fixture.path + suffix) else { continue }
            #expect(bytes.range(of: Data(secretText.utf8)) == nil)
            #expect(bytes.range(of: secret) == nil)
        }
    }

    // MARK: Push

    @Test func pushStampsAuthorAndIsIdempotent() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()
        let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "Dr Jones")
        let rhyl = try #require(try await store.authenticate(token: token))

        var maker = ChangeMaker()
        let risk = RecordID.random(for: .risk)
        let first = [
            maker.change(risk, scope: fixture.shared, field: "title", value: "Locum cover", author: "Claimed Name"),
            maker.change(risk, scope: fixture.shared, field: "owner", value: "Lead", author: nil),
            maker.change(RecordID.random(for: .risk), scope: fixture.rhylPrivate, field: "title", value: "Rota", author: "rhyl"),
        ]
        #expect(try await store.push(first, as: rhyl) == PushOutcome(accepted: 3, duplicates: 0))
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:3"))
        // Resent whole, then with one new change and one repeated within the batch.
        #expect(try await store.push(first, as: rhyl) == PushOutcome(accepted: 0, duplicates: 3))
        let new = maker.change(risk, scope: fixture.shared, field: "status", value: "open", author: nil)
        #expect(try await store.push([first[1], new, new, first[0]], as: rhyl) == PushOutcome(accepted: 1, duplicates: 3))
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:4"))

        let page = try await store.pull(for: rhyl, after: nil, limit: 100)
        #expect(page.changes.map(\.id) == (first + [new]).map(\.id))
        #expect(page.changes.allSatisfy { $0.author == "rhyl (Dr Jones)" })
        var expected = first + [new]
        for i in expected.indices { expected[i].author = "rhyl (Dr Jones)" }
        #expect(page.changes == expected)
        #expect(page.cursor == Cursor("s1:4"))

        // The materialised state holds the same changes, once each, with the stamped author.
        let materialised = try fixture.readDirectly { db in
            try Row.fetchAll(db, sql: "SELECT c.counter, c.author, c.live FROM change c ORDER BY c.counter")
        }
        #expect(materialised.map { $0["counter"] as Int64 } == (first + [new]).map(\.id.counter))
        #expect(materialised.allSatisfy { $0["author"] as String == "rhyl (Dr Jones)" })
        let live = try fixture.readDirectly { db in
            try String.fetchAll(db, sql: "SELECT value FROM change c JOIN record r ON r.num = c.record WHERE r.id = ? AND live = 1 ORDER BY field",
                                arguments: [risk.rawValue])
        }
        #expect(live == ["\"Lead\"", "\"open\"", "\"Locum cover\""])
    }

    @Test func batchWithScopeMismatchStoresNothing() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()
        let rhyl = try #require(try await store.authenticate(
            token: store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)))

        var maker = ChangeMaker()
        let risk = RecordID.random(for: .risk)
        let created = maker.change(risk, scope: fixture.shared, field: "title", value: "Shared risk")
        #expect(try await store.push([created], as: rhyl).accepted == 1)

        // The record was created cluster-shared; the batch's second change claims it is private.
        let good = maker.change(RecordID.random(for: .action), scope: fixture.shared, field: "title", value: "Good")
        let mismatch = maker.change(risk, scope: fixture.rhylPrivate, field: "owner", value: "Lead")
        let error = await #expect(throws: PushRejection.self) { try await store.push([good, mismatch], as: rhyl) }
        #expect(error?.error.code == .forbiddenScope && error?.change == mismatch.id)
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:1"))
        #expect(try await store.pull(for: rhyl, after: nil, limit: 10).changes.map(\.id) == [created.id])
        let counts = try fixture.readDirectly { db in
            try ["log", "change", "record"].map { try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)")! }
        }
        #expect(counts == [1, 1, 1])
        // Nothing of it was kept: the good change is new when pushed alone, with the next number.
        #expect(try await store.push([good], as: rhyl) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:2"))

        // A scope the identity may not write at all is refused too, before anything is written.
        let otherCluster = RecordScope(tenant: "bcuhb", cluster: "south")
        let elsewhere = maker.change(RecordID.random(for: .risk), scope: otherCluster, field: "title", value: "x")
        let other = maker.change(RecordID.random(for: .risk), scope: fixture.shared, field: "title", value: "y")
        let refused = await #expect(throws: PushRejection.self) { try await store.push([other, elsewhere], as: rhyl) }
        #expect(refused?.error.code == .forbiddenScope && refused?.change == elsewhere.id)
        let prestatynPrivate = RecordScope(tenant: "bcuhb", cluster: "north", practice: "prestatyn")
        let foreign = maker.change(RecordID.random(for: .risk), scope: prestatynPrivate, field: "title", value: "z")
        _ = await #expect(throws: PushRejection.self) { try await store.push([foreign], as: rhyl) }
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:2"))
    }

    // MARK: Pull

    @Test func pullPagesWithCursors() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()
        let rhyl = try #require(try await store.authenticate(
            token: store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)))

        let empty = try await store.pull(for: rhyl, after: nil, limit: 10)
        #expect(empty == ChangesPage(changes: [], cursor: Cursor("s1:0"), more: false))
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:0"))

        var maker = ChangeMaker()
        let changes = (0..<25).map { i in
            maker.change(RecordID.random(for: .risk), scope: i % 3 == 0 ? fixture.rhylPrivate : fixture.shared, field: "title", value: "Risk \(i)")
        }
        _ = try await store.push(Array(changes[0..<7]), as: rhyl)
        _ = try await store.push(Array(changes[7...]), as: rhyl)

        var pages: [ChangesPage] = []
        var cursor: Cursor? = nil
        repeat {
            let page = try await store.pull(for: rhyl, after: cursor, limit: 10)
            pages.append(page)
            cursor = page.cursor
        } while pages.last!.more
        #expect(pages.map(\.changes.count) == [10, 10, 5])
        #expect(pages.map(\.more) == [true, true, false])
        #expect(pages.map(\.cursor) == [Cursor("s1:10"), Cursor("s1:20"), Cursor("s1:25")])
        #expect(pages.flatMap(\.changes).map(\.id) == changes.map(\.id))
        // Exactly a limit's worth left: no more.
        let exact = try await store.pull(for: rhyl, after: Cursor("s1:15"), limit: 10)
        #expect(exact.changes.map(\.id) == changes[15...].map(\.id))
        #expect(!exact.more)
        #expect(exact.cursor == Cursor("s1:25"))
        // At the end: nothing, and the cursor stays.
        let end = try await store.pull(for: rhyl, after: Cursor("s1:25"), limit: 10)
        #expect(end == ChangesPage(changes: [], cursor: Cursor("s1:25"), more: false))
        #expect(try await store.pull(for: rhyl, after: nil, limit: 1).changes.map(\.id) == [changes[0].id])

        for text in ["", "abc", "s1:", "s1:-1", "s1:+3", "s2:5", "s1:1x", " s1:1", "s1:99999999999999999999"] {
            let error = await #expect(throws: ClusterSyncError.self, "\(text)") {
                try await store.pull(for: rhyl, after: Cursor(text), limit: 10)
            }
            #expect(error?.code == .malformed)
            #expect(error?.field == "cursor")
        }
        let error = await #expect(throws: ClusterSyncError.self) { try await store.pull(for: rhyl, after: nil, limit: 0) }
        #expect(error?.code == .invalidValue)
    }

    @Test func pullIsIsolatedByTenantClusterAndPractice() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()
        // Another tenant with the same cluster and practice names.
        try await store.addTenant("powys")
        try await store.addCluster("north", tenant: "powys")
        try await store.addPractice("rhyl", cluster: "north", tenant: "powys")
        func identity(_ practice: String, _ cluster: String, _ tenant: String = "bcuhb") async throws -> SessionIdentity {
            try #require(try await store.authenticate(
                token: store.issueToken(practice: practice, cluster: cluster, tenant: tenant, label: nil)))
        }
        let rhyl = try await identity("rhyl", "north")
        let prestatyn = try await identity("prestatyn", "north")
        let llandudno = try await identity("llandudno", "south")
        let powysRhyl = try await identity("rhyl", "north", "powys")

        var maker = ChangeMaker()
        let shared = maker.change(RecordID.random(for: .risk), scope: fixture.shared, field: "title", value: "Shared")
        let rhylOwn = maker.change(RecordID.random(for: .risk), scope: fixture.rhylPrivate, field: "title", value: "Rhyl only")
        // Each practice pushes as its own replica.
        var prestatynMaker = ChangeMaker(), llandudnoMaker = ChangeMaker()
        let prestatynOwn = prestatynMaker.change(RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "north", practice: "prestatyn"),
                                        field: "title", value: "Prestatyn only")
        let southShared = llandudnoMaker.change(RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "south"),
                                       field: "title", value: "South")
        _ = try await store.push([shared, rhylOwn], as: rhyl)
        _ = try await store.push([prestatynOwn], as: prestatyn)
        _ = try await store.push([southShared], as: llandudno)

        func ids(_ identity: SessionIdentity) async throws -> [ChangeID] {
            try await store.pull(for: identity, after: nil, limit: 100).changes.map(\.id)
        }
        #expect(try await ids(rhyl) == [shared.id, rhylOwn.id])
        #expect(try await ids(prestatyn) == [shared.id, prestatynOwn.id])
        #expect(try await ids(llandudno) == [southShared.id])
        #expect(try await ids(powysRhyl).isEmpty)
        #expect(try await store.currentCursor(tenant: "powys") == Cursor("s1:0"))
        #expect(try await store.currentCursor(tenant: "bcuhb") == Cursor("s1:4"))
        // The other tenant numbers its own changes from 1.
        let powysChange = maker.change(RecordID.random(for: .risk), scope: RecordScope(tenant: "powys", cluster: "north"), field: "title", value: "P")
        _ = try await store.push([powysChange], as: powysRhyl)
        #expect(try await store.pull(for: powysRhyl, after: nil, limit: 10)
            == ChangesPage(changes: [stamped(powysChange, "rhyl")], cursor: Cursor("s1:1"), more: false))
        #expect(try await ids(rhyl) == [shared.id, rhylOwn.id])
        _ = await #expect(throws: ClusterSyncError.self) { try await store.currentCursor(tenant: "gwent") }
    }

    @Test func pullNearTheEndOfALongLogReturnsOnlyTheNewChanges() async throws {
        let fixture = try StoreFixture()
        defer { fixture.remove() }
        let store = fixture.store
        try await fixture.addPractices()
        let rhyl = try #require(try await store.authenticate(
            token: store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)))
        let prestatyn = try #require(try await store.authenticate(
            token: store.issueToken(practice: "prestatyn", cluster: "north", tenant: "bcuhb", label: nil)))

        var maker = ChangeMaker()
        let batches = (0..<20).map { _ in maker.realisticBatch(1_000, scope: fixture.shared, privateScope: fixture.rhylPrivate) }
        let start = ContinuousClock.now
        for batch in batches {
            #expect(try await store.push(batch, as: rhyl) == PushOutcome(accepted: 1_000, duplicates: 0))
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("SQLiteServerStore: pushed 20,000 changes in batches of 1,000 in \(String(format: "%.2f", seconds)) s: "
              + "\(Int(20_000 / seconds)) changes/s")

        let cursor = try await store.currentCursor(tenant: "bcuhb")
        #expect(cursor == Cursor("s1:20000"))
        let new = [
            maker.change(RecordID.random(for: .risk), scope: fixture.shared, field: "title", value: "New 1"),
            maker.change(RecordID.random(for: .risk), scope: fixture.rhylPrivate, field: "title", value: "New 2"),
        ]
        _ = try await store.push(new, as: rhyl)
        let page = try await store.pull(for: rhyl, after: cursor, limit: 1_000)
        #expect(page.changes == new.map { stamped($0, "rhyl") })
        #expect(page.cursor == Cursor("s1:20002"))
        #expect(!page.more)
        // Prestatyn, after the same cursor, sees only the shared one.
        let other = try await store.pull(for: prestatyn, after: cursor, limit: 1_000)
        #expect(other.changes.map(\.id) == [new[0].id])
        let tail = try await store.pull(for: rhyl, after: Cursor("s1:19998"), limit: 3)
        #expect(tail.changes.map(\.id) == batches[19].suffix(2).map(\.id) + [new[0].id])
        #expect(tail.more)

        let pullStart = ContinuousClock.now
        var pulled = 0
        var position: Cursor? = nil
        while true {
            let page = try await store.pull(for: rhyl, after: position, limit: 1_000)
            pulled += page.changes.count
            position = page.cursor
            if !page.more { break }
        }
        let pullElapsed = ContinuousClock.now - pullStart
        let pullSeconds = Double(pullElapsed.components.seconds) + Double(pullElapsed.components.attoseconds) / 1e18
        #expect(pulled == 20_002)
        print("SQLiteServerStore: pulled \(pulled) changes in pages of 1,000 in \(String(format: "%.2f", pullSeconds)) s")
    }
}

// MARK: Support

private typealias Cursor = ClusterSyncCore.Cursor

private func stamped(_ change: Change, _ author: String) -> Change {
    var change = change
    change.author = author
    return change
}

/// A store in a fresh temporary folder; the hierarchy most tests use is
/// bcuhb/north/{rhyl, prestatyn} and bcuhb/south/llandudno.
private struct StoreFixture {
    let directory: URL
    let path: String
    let store: SQLiteServerStore
    let shared = RecordScope(tenant: "bcuhb", cluster: "north")
    let rhylPrivate = RecordScope(tenant: "bcuhb", cluster: "north", practice: "rhyl")

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("server.sqlite").path
        store = try SQLiteServerStore(path: path)
    }

    func addPractices() async throws {
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addCluster("south", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("prestatyn", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("llandudno", cluster: "south", tenant: "bcuhb")
    }

    /// Reads the file through a connection of the test's own, around the store.
    func readDirectly<T>(_ body: (Database) throws -> T) throws -> T {
        try DatabaseQueue(path: path).read(body)
    }

    func writeDirectly(_ body: (Database) throws -> Void) throws {
        try DatabaseQueue(path: path).write(body)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Makes changes as one replica would: increasing counters and clock.
private struct ChangeMaker {
    let replica = ReplicaID.random()
    var counter: Int64 = 0

    mutating func change(
        _ record: RecordID, scope: RecordScope, field: String, value: String, supersedes: [ChangeID] = [], author: String? = nil
    ) -> Change {
        counter += 1
        return Change(
            id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_763_900_000_000 + counter),
            record: record, scope: scope, field: field, value: .string(value), supersedes: supersedes, author: author)
    }

    /// Records of four changes each, a fifth of them private, each record's title rewritten once
    /// (superseding the first title) as an editing session would.
    mutating func realisticBatch(_ count: Int, scope: RecordScope, privateScope: RecordScope) -> [Change] {
        var batch: [Change] = []
        while batch.count < count {
            let record = RecordID.random(for: .risk)
            let recordScope = batch.count % 20 == 0 ? privateScope : scope
            let title = change(record, scope: recordScope, field: "title", value: "Locum cover for winter pressures \(counter)")
            batch.append(title)
            for (field, value) in [("owner", "Cluster lead"), ("status", "open"), ("title", "Locum cover, revised")]
            where batch.count < count {
                batch.append(change(record, scope: recordScope, field: field, value: value, supersedes: field == "title" ? [title.id] : []))
            }
        }
        return batch
    }
}
