import ClusterSyncClient
import ClusterSyncClientTesting
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import Testing

/// Snapshots and compaction (PROTOCOL.md §5.7, §7.2) through the real client state machine, real
/// replica files and real stores, in process: every answer a server gives is the store's.
@Suite struct CompactionConvergenceTests {
    static let seeds: [UInt64] = [1, 2, 3, 42, 2026]
    static let tenant = "bcuhb", cluster = "north-denbighshire"
    static let today = CalendarDate(year: 2026, month: 11, day: 23)

    /// The property: practices edit at random and go offline for random stretches while the
    /// server compacts at random horizons; a practice whose cursor fell behind a compaction gets
    /// `cursor-expired`, pushes its outbox and takes a snapshot. Every change is also pushed, in
    /// the same order, to a store that never compacts. In the end every replica, and a new one
    /// bootstrapped from the compacted store's snapshot, exports the same bytes as a replica that
    /// replayed the never-compacted store's whole history.
    @Test(arguments: seeds)
    func replicasOfACompactedServerMatchANeverCompactedRun(seed: UInt64) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-compaction-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let compacting = try await Self.makeStore(SQLiteServerStore(path: dir.appendingPathComponent("compacting.sqlite").path))
        let plain = try await Self.makeStore(SQLiteServerStore(path: dir.appendingPathComponent("plain.sqlite").path))
        try await Self.property(seed: seed, compacting: compacting, plain: plain, in: dir)
    }

    /// The same property with the compacting server on PostgreSQL and the never-compacted one on
    /// SQLite; and at the end both give the same snapshot pages (the same rows in the same
    /// order): the two backends' materialised state agrees row for row.
    @Test(.enabled(if: StoreBackend.available.contains(.postgres)), arguments: [1, 42] as [UInt64])
    func aCompactedPostgresStoreMatchesANeverCompactedSQLiteStore(seed: UInt64) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-compaction-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let compacting = try await Self.makeStore(TestPostgres.freshStore())
        let plain = try await Self.makeStore(SQLiteServerStore(path: dir.appendingPathComponent("plain.sqlite").path))
        try await Self.property(seed: seed, compacting: compacting, plain: plain, in: dir)
        for practice in ["prestatyn", "rhyl"] {
            #expect(try await Self.snapshotPages(compacting, Self.identity(practice), limit: 5)
                    == Self.snapshotPages(plain, Self.identity(practice), limit: 5), "seed \(seed), \(practice)")
        }
        #expect(try await compacting.conflicts(tenant: Self.tenant, cluster: nil) == plain.conflicts(tenant: Self.tenant, cluster: nil))
        #expect(try await compacting.rollup(tenant: Self.tenant, region: nil, today: Self.today)
                == plain.rollup(tenant: Self.tenant, region: nil, today: Self.today))
    }

    /// Every snapshot page's changes, in order, and whether more followed each.
    static func snapshotPages(_ store: any ServerStore, _ identity: SessionIdentity, limit: Int) async throws -> [[Change]] {
        var pages: [[Change]] = []
        var after: SnapshotCursor?
        repeat {
            let page = try await store.snapshot(for: identity, after: after, limit: limit)
            pages.append(page.changes)
            // What a server sends: the same changes, as the text a store writes from its columns.
            let sent = try await store.snapshotStored(for: identity, after: after, limit: limit)
            #expect(sent.changes.map(\.jsonText) + sent.storedTexts == page.changes.map(\.jsonText))
            #expect(sent.cursor == page.cursor && sent.more == page.more)
            after = page.more ? try SnapshotCursor(page.cursor) : nil
        } while after != nil
        return pages
    }

    static func property(seed: UInt64, compacting: any ServerStore, plain: any ServerStore, in dir: URL) async throws {
        var rng = SplitMix64(seed: seed)
        let practices = ["prestatyn", "rhyl", "prestatyn"]
        var sessions: [InProcessSync] = []
        for (i, practice) in practices.enumerated() {
            let replica = try Replica(path: dir.appendingPathComponent("r\(i).sqlite").path)
            try replica.initialise(tenant: Self.tenant, cluster: Self.cluster, practice: practice, displayName: "Manager, \(practice)")
            sessions.append(InProcessSync(replica: replica, identity: Self.identity(practice), store: compacting, mirror: plain))
        }
        var offlineUntil = Array(repeating: 0, count: sessions.count)
        var compactedChanges = 0
        let hour: Int64 = 3_600_000
        for step in 1...160 {
            let i = Int.random(in: 0..<sessions.count, using: &rng)
            try RandomEdits.perform(on: sessions[i].replica, using: &rng)
            if step >= offlineUntil[i] {
                if Int.random(in: 0..<12, using: &rng) == 0 {
                    offlineUntil[i] = step + Int.random(in: 5...50, using: &rng)
                } else if Bool.random(using: &rng) {
                    try await sessions[i].sync()
                }
            }
            if step % 10 == 0 {
                // An hour per step; a horizon of a few hours: some offline stretches cross it.
                let horizon = Int64.random(in: 2...20, using: &rng) * hour
                let now = Int64(step) * hour
                compactedChanges += try await compacting.compact(tenant: Self.tenant, olderThan: now - horizon, now: now).compacted
            }
        }
        for session in sessions + sessions { try await session.sync() }

        // A replica of a never-compacted run: it replays the whole history.
        let witness = try Replica(path: dir.appendingPathComponent("witness.sqlite").path)
        try witness.initialise(tenant: Self.tenant, cluster: Self.cluster, practice: "prestatyn", displayName: "Witness")
        var cursor: ClusterSyncCore.Cursor?
        while true {
            let page = try await plain.pull(for: Self.identity("prestatyn"), after: cursor, limit: 50)
            _ = try witness.applyPulled(page)
            cursor = page.cursor
            if !page.more { break }
        }
        let expected = try witness.exportJSON(today: Self.today).canonicalText
        for (i, session) in sessions.enumerated() {
            #expect(try session.replica.exportJSON(today: Self.today).canonicalText == expected, "seed \(seed) replica r\(i)")
        }
        let late = try Replica(path: dir.appendingPathComponent("late.sqlite").path)
        try late.initialise(tenant: Self.tenant, cluster: Self.cluster, practice: "rhyl", displayName: "Late")
        let lateSync = InProcessSync(replica: late, identity: Self.identity("rhyl"), store: compacting, mirror: nil)
        try await lateSync.sync()
        #expect(try late.exportJSON(today: Self.today).canonicalText == expected, "seed \(seed) late replica")
        // The property is about something: the log was compacted and practices fell behind it.
        #expect(compactedChanges > 0, "seed \(seed): nothing was compacted")
        let expired = sessions.reduce(0) { $0 + $1.expired.value }
        print("compaction seed \(seed): \(compactedChanges) changes compacted, \(expired) cursors expired, \(try witness.allChanges().count) changes in all")
    }

    /// A page that ends on a map entry (`votes:Dr Evans/Smith`: any character after the colon)
    /// gives a cursor the server reads back, for snapshots and history alike; before cursors
    /// escaped the field, such a page stopped every new replica of the cluster at that row.
    @Test func snapshotAndHistoryPagesEndingOnAVoteGoOn() async throws {
        var stores: [any ServerStore] = [try await Self.makeStore(InMemoryServerStore()), try await Self.makeStore(SQLiteServerStore(path: Self.temporaryFile()))]
        if StoreBackend.available.contains(.postgres) { stores.append(try await Self.makeStore(TestPostgres.freshStore())) }
        let replica = ReplicaID("00000000000000a2")!
        let decision = RecordID("DEC-7K3M9Q2X1A")!
        let voters = ["Dr Jones", "Dr Evans/Smith", "Siân Ó 100%", "zz"]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let changes = ([("title", JSONValue.string("Extend hours"))] + voters.map { ("votes:\($0)", JSONValue.string("for")) })
            .enumerated().map { n, write in
                Change(id: ChangeID(replica: replica, counter: Int64(n + 1)), hlc: HLCTimestamp(millis: now - 1000 + Int64(n)), record: decision,
                       scope: RecordScope(tenant: Self.tenant, cluster: Self.cluster), field: write.0, value: write.1)
            }
        for store in stores {
            _ = try await store.push(changes, as: Self.identity("prestatyn"), from: replica)
            var fields: [String] = []
            var after: SnapshotCursor?
            repeat {
                let page = try await store.snapshot(for: Self.identity("rhyl"), after: after, limit: 1)
                fields += page.changes.map(\.field)
                // Read back as the server reads a pull's cursor.
                after = page.more ? try SnapshotCursor(page.cursor) : nil
            } while after != nil
            #expect(Set(fields) == Set(changes.map(\.field)) && fields.count == changes.count, "\(type(of: store)): \(fields)")
            var history: [String] = []
            var cursor: Cursor?
            repeat {
                let page = try await store.history(of: decision, for: Self.identity("rhyl"), after: cursor, limit: 1)
                history += page.changes.map(\.field)
                cursor = page.more ? page.cursor : nil
            } while cursor != nil
            #expect(Set(history) == Set(changes.map(\.field)) && history.count == changes.count, "\(type(of: store)): \(history)")
            // The empty page's `h1:` reads back too.
            let none = try await store.history(of: RecordID("DEC-8K3M9Q2X1A")!, for: Self.identity("rhyl"), after: nil, limit: 1)
            #expect(none.cursor == HistoryCursor.start && none.changes.isEmpty)
            #expect(try await store.history(of: decision, for: Self.identity("rhyl"), after: none.cursor, limit: 10).changes.count == changes.count)
        }
    }

    @Test func aStoreSnapshotIsPagedScopedAndStandsForTheStreamPositionItWasReadAt() async throws {
        var stores: [any ServerStore] = [try await Self.makeStore(InMemoryServerStore()), try await Self.makeStore(SQLiteServerStore(path: Self.temporaryFile()))]
        if StoreBackend.available.contains(.postgres) { stores.append(try await Self.makeStore(TestPostgres.freshStore())) }
        for store in stores {
            let replica = ReplicaID("00000000000000a1")!
            let scope = RecordScope(tenant: Self.tenant, cluster: Self.cluster)
            let risk = RecordID("RSK-7K3M9Q2X1A")!, secret = RecordID("RSK-8K3M9Q2X1A")!
            func change(_ n: Int64, _ field: String, _ value: String, record: RecordID = risk, sup: [Int64] = [], practice: String? = nil) -> Change {
                Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000) - 1000 + n),
                       record: record, scope: RecordScope(tenant: scope.tenant, cluster: scope.cluster, practice: practice), field: field,
                       value: .string(value), supersedes: sup.map { ChangeID(replica: replica, counter: $0) })
            }
            let first = change(1, "title", "One")
            _ = try await store.push([
                first, change(2, "title", "Two", sup: [1]), change(3, "owner", "Lead"),
                change(4, "title", "Prestatyn only", record: secret, practice: "prestatyn"),
            ], as: Self.identity("prestatyn"), from: replica)
            // Rhyl sees the live title and owner, not the superseded title, not prestatyn's own risk.
            var pages: [Snapshot] = []
            var after: SnapshotCursor?
            repeat {
                let page = try await store.snapshot(for: Self.identity("rhyl"), after: after, limit: 1)
                pages.append(page)
                after = page.more ? try SnapshotCursor(page.cursor) : nil
            } while after != nil
            #expect(pages.flatMap(\.changes).map(\.id.counter) == [3, 2], "\(type(of: store))")
            #expect(pages.map(\.more) == [true, false])
            #expect(pages.last?.cursor == StreamCursor.cursor(at: 4))
            #expect(try await store.snapshot(for: Self.identity("prestatyn"), after: nil, limit: 10).changes.map(\.id.counter) == [3, 2, 4])
            // A SQLite store sends its page as the text it writes from its rows: the same changes.
            let sent = try await store.snapshotStored(for: Self.identity("prestatyn"), after: nil, limit: 10)
            if store is SQLiteServerStore { #expect(sent.changes.isEmpty && sent.storedTexts.count == 3) }
            #expect(try (sent.changes + sent.storedTexts.map { try Change(jsonText: $0) }).map(\.id.counter) == [3, 2, 4])

            // History before compaction: every change of the record, superseded ones included.
            let history = try await store.history(of: risk, for: Self.identity("rhyl"), after: nil, limit: 10)
            #expect(Set(history.changes.map(\.id.counter)) == [1, 2, 3])
            #expect(try await store.history(of: secret, for: Self.identity("rhyl"), after: nil, limit: 10).changes.isEmpty,
                    "another practice's private record reads as no changes")

            // Compaction: the superseded title goes, the state stays, old cursors expire.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let outcome = try await store.compact(tenant: Self.tenant, olderThan: now, now: now)
            #expect(outcome == CompactionOutcome(tenant: Self.tenant, throughSeq: 4, compacted: 1))
            #expect(try await store.compaction(tenant: Self.tenant)?.throughSeq == 4)
            await #expect(throws: ClusterSyncError.self) { try await store.pull(for: Self.identity("rhyl"), after: StreamCursor.cursor(at: 3), limit: 10) }
            await #expect(throws: ClusterSyncError.self) { try await store.pull(for: Self.identity("rhyl"), after: nil, limit: 10) }
            #expect(try await store.pull(for: Self.identity("rhyl"), after: StreamCursor.cursor(at: 4), limit: 10).changes.isEmpty)
            #expect(try await store.snapshot(for: Self.identity("rhyl"), after: nil, limit: 10).changes.map(\.id.counter) == [3, 2])
            let compacted = try await store.history(of: risk, for: Self.identity("rhyl"), after: nil, limit: 10)
            #expect(Set(compacted.changes.map(\.id.counter)) == [2, 3])
            #expect(compacted.compacted)
            // A resent compacted change is still a duplicate: it is not stored (nor revived) again.
            #expect(try await store.push([first], as: Self.identity("prestatyn"), from: replica)
                    == PushOutcome(accepted: 0, duplicates: 1, superseded: [ChangeID(replica: replica, counter: 1)]))
        }
    }

    /// A record's history read a page at a time keeps its place when a compaction drops one of
    /// its changes between pages. PostgreSQL numbered the record's makers afresh for each page,
    /// in the order it met their changes, so a dropped first change renumbered them and the next
    /// page started elsewhere (the fifty-sixth session's review): here it read rhyl's tag
    /// never and prestatyn's twice.
    @Test(arguments: StoreBackend.persistent) func historyPagesKeepTheirPlaceAcrossACompaction(kind: StoreBackend) async throws {
        let store = try await Self.makeStore(kind.make())
        let prestatyn = ReplicaID("00000000000000a1")!, rhyl = ReplicaID("00000000000000a2")!
        let risk = RecordID("RSK-7K3M9Q2X1A")!
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 10_000
        func change(_ maker: ReplicaID, _ n: Int64, _ field: String, _ value: String, sup: [ChangeID] = [], at: Int64) -> Change {
            Change(id: ChangeID(replica: maker, counter: n), hlc: HLCTimestamp(millis: base + at), record: risk,
                   scope: RecordScope(tenant: Self.tenant, cluster: Self.cluster), field: field, value: .string(value), supersedes: sup)
        }
        let first = change(prestatyn, 1, "title", "Winter pressures", at: 1)
        _ = try await store.push([first], as: Self.identity("prestatyn"), from: prestatyn)
        _ = try await store.push([change(rhyl, 1, "title", "Winter pressures 2026", sup: [first.id], at: 2), change(rhyl, 2, "tags", "estates", at: 3)],
                                 as: Self.identity("rhyl"), from: rhyl)
        _ = try await store.push([change(prestatyn, 2, "tags", "winter", at: 4)], as: Self.identity("prestatyn"), from: prestatyn)

        let firstPage = try await store.history(of: risk, for: Self.identity("rhyl"), after: nil, limit: 1)
        #expect(firstPage.changes.map(\.id) == [ChangeID(replica: prestatyn, counter: 2)], "\(kind)")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try await store.compact(tenant: Self.tenant, olderThan: now, now: now).compacted == 1, "\(kind)")
        var read = firstPage.changes.map(\.id), cursor = firstPage.cursor, more = firstPage.more
        while more {
            let page = try await store.history(of: risk, for: Self.identity("rhyl"), after: cursor, limit: 1)
            read += page.changes.map(\.id)
            (cursor, more) = (page.cursor, page.more)
        }
        #expect(read == [ChangeID(replica: prestatyn, counter: 2), ChangeID(replica: rhyl, counter: 2), ChangeID(replica: rhyl, counter: 1)],
                "\(kind): \(read)")
    }

    @Test(arguments: StoreBackend.persistent) func compactionKeepsTheChainVerifiable(kind: StoreBackend) async throws {
        let store = try #require(try await Self.makeStore(kind.make()) as? any OperatedStore)
        let replica = ReplicaID("00000000000000a1")!
        let risk = RecordID("RSK-7K3M9Q2X1A")!
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 10_000
        var changes: [Change] = []
        for n in Int64(1)...6 {
            let previous: [ChangeID] = n > 1 ? [ChangeID(replica: replica, counter: n - 1)] : []
            changes.append(Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: base + n), record: risk,
                                  scope: RecordScope(tenant: Self.tenant, cluster: Self.cluster), field: "title",
                                  value: .string("Title \(n)"), supersedes: previous))
        }
        _ = try await store.push(changes, as: Self.identity("prestatyn"), from: replica)
        let before = try await store.verifyChain(tenant: Self.tenant, expectedHead: nil)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try await store.compact(tenant: Self.tenant, olderThan: now, now: now).compacted == 5)
        let after = try await store.verifyChain(tenant: Self.tenant, expectedHead: before.head?.hash)
        #expect(after.isIntact, "\(after.problems)")
        #expect(after.compacted == 5)
        #expect(after.head == before.head)
        #expect(after.compaction?.checkpoint == before.head?.hash)
    }

    // MARK: Fixtures

    static func identity(_ practice: String) -> SessionIdentity {
        SessionIdentity(tenant: tenant, cluster: cluster, practice: practice, author: practice, role: .clusterLead)
    }

    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-compaction-\(UUID().uuidString).sqlite").path
    }

    static func makeStore<S: ServerStore>(_ store: S) async throws -> S {
        try await store.addTenant(tenant)
        try await store.addCluster(cluster, tenant: tenant)
        for practice in ["prestatyn", "rhyl"] { try await store.addPractice(practice, cluster: cluster, tenant: tenant) }
        return store
    }
}

/// The client's sync (`ClientSyncStateMachine`, once) against a store in this process: each
/// message the machine sends is answered with what the store returns, as `SessionHandler` does.
/// A mirror store receives every push too, and never answers.
struct InProcessSync {
    let replica: Replica
    let identity: SessionIdentity
    let store: any ServerStore
    let mirror: (any ServerStore)?
    /// How many times this replica's cursor expired.
    let expired = Counter()

    final class Counter: @unchecked Sendable { var value = 0 }

    func sync() async throws {
        // The replica keeps its cursor in its remote settings: a replica that syncs has them.
        if try replica.remote() == nil { try replica.setRemote(RemoteSettings(host: "in-process", port: 1, caFile: "none", tokenFile: "none")) }
        let me = try replica.identity()
        let configuration = ClientSyncStateMachine.Configuration(
            mode: .once, replica: me.replicaID, tenant: me.tenant, cluster: me.cluster, practice: me.practice,
            credential: "a test credential", server: "in process")
        var machine = ClientSyncStateMachine(configuration, cursor: try replica.syncState().cursor, pending: try replica.pendingCount())
        let limits = WireLimits(maxChangesPerPush: 7, maxChangesPerPage: 9)
        var queue = machine.start(now: 0)
        var now: Int64 = 0
        while !queue.isEmpty {
            now += 1
            let action = queue.removeFirst()
            switch action {
            case .connect:
                queue += machine.handle(.connected, now: now)
            case .sendHello:
                queue += machine.handle(.received(.welcome(Welcome(identity: identity, limits: limits, server: "test"))), now: now)
            case .send(.push(let push)):
                let outcome = try await store.push(push.changes, as: identity, from: me.replicaID)
                if let mirror { _ = try await mirror.push(push.changes, as: identity, from: me.replicaID) }
                queue += machine.handle(.received(.ack(Ack(batch: push.batch, accepted: outcome.accepted, duplicates: outcome.duplicates,
                                                           author: identity.author, superseded: outcome.superseded))), now: now)
            case .send(.pull(let pull)):
                let answer: WireMessage
                do {
                    if pull.snapshot || pull.cursor.map(SnapshotCursor.isSnapshotCursor) == true {
                        // As a server sends it (stored text) and a client reads it: through the codec.
                        let page = try await store.snapshotStored(for: identity, after: try pull.cursor.map(SnapshotCursor.init),
                                                                  limit: limits.maxChangesPerPage)
                        answer = try WireCodec.decode(WireCodec.encode(.snapshot(page)).dropLast())
                    } else {
                        answer = .changes(try await store.pull(for: identity, after: pull.cursor, limit: limits.maxChangesPerPage))
                    }
                } catch let error as ClusterSyncError where error.code == .cursorExpired {
                    expired.value += 1
                    answer = .error(WireError(error, fatal: false))
                }
                queue += machine.handle(.received(answer), now: now)
            case .send:
                continue
            case .readOutbox, .rememberLimits, .rememberStore, .acknowledge, .holdBack, .apply, .applySnapshot, .recordSuccessfulSync:
                // What the replica does with them is SyncClient's own code.
                _ = try replica.perform(action, &machine, pending: &queue, now: now)
            case .fail(let error):
                throw error
            case .finish:
                return
            case .progress, .notice, .close, .keepHistory:
                continue
            }
        }
    }
}
