import ClusterSyncCore
import Foundation
import Testing

@testable import ClusterSyncServer

/// Meetings' minutes may be 50,000 characters, so a cluster's changes can be long: what a store
/// reads for one page is bounded by bytes, not only by rows, on both stores (PROTOCOL.md §10:
/// a page ends at 1 MiB of change text; a PCPG's page reads at most
/// `OversightPaging.maxLoggedBytes` of a cluster's changes).
@Suite struct LongChangesPagingTests {
    typealias Fixtures = CompactionConvergenceTests
    static let scope = RecordScope(tenant: Fixtures.tenant, cluster: Fixtures.cluster)
    static let maker = ReplicaID("00000000000000e1")!
    /// 50,000 characters of minutes: about 50 KB of change text each.
    static let minutes = String(repeating: "Minutes of the board: apologies, matters arising. ", count: 1_000)

    /// `count` meetings, each with its minutes (all live).
    static func store(_ kind: StoreBackend, meetings count: Int) async throws -> any ServerStore {
        let store = try await Fixtures.makeStore(kind.make())
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for start in stride(from: 0, to: count, by: 50) {
            let batch = (start..<min(count, start + 50)).map { n in
                Change(id: ChangeID(replica: maker, counter: Int64(n + 1)), hlc: HLCTimestamp(millis: now - 60_000 + Int64(n)),
                       record: RecordID.random(for: .meeting), scope: scope, field: "minutes", value: .string(minutes))
            }
            _ = try await store.push(batch, as: Fixtures.identity("prestatyn"), from: maker)
        }
        return store
    }

    @Test(arguments: StoreBackend.persistent)
    func pagesOfLongChangesEndAtTheirBudgetAndLoseNothing(kind: StoreBackend) async throws {
        let store = try await Self.store(kind, meetings: 60)
        let identity = Fixtures.identity("rhyl")
        if let postgres = store as? PostgresServerStore {
            // What comes over the connection for one page: up to the first row past 1 MiB.
            let rows = try await postgres.logPage(for: identity, after: 0, limit: 2_500, excluding: nil).rows
            #expect(rows.count <= 22, "\(rows.count) rows read for a page of about 20")
        }
        let (pulled, snapshotted) = try await Self.everyPage(of: store, for: identity) { texts in
            #expect(!texts.isEmpty && texts.reduce(0) { $0 + $1.utf8.count } <= PageBudget.maxBytes, "\(kind)")
        }
        #expect(pulled == 60, "\(kind)")
        #expect(snapshotted == 60, "\(kind)")
    }

    /// How many changes `identity` reads in every page of a pull and of a snapshot, each
    /// page's texts handed to `eachPage`.
    static func everyPage(of store: any ServerStore, for identity: SessionIdentity,
                          eachPage: ([String]) -> Void = { _ in }) async throws -> (pulled: Int, snapshotted: Int) {
        var pulled = 0, cursor: Cursor?
        repeat {
            let page = try await store.pullStored(for: identity, after: cursor, limit: 2_500, excluding: nil)
            eachPage(page.storedTexts)
            pulled += page.storedTexts.count
            cursor = page.cursor
            if !page.more { break }
        } while true
        var snapshotted = 0, snapshotCursor: SnapshotCursor?
        repeat {
            let page = try await store.snapshotStored(for: identity, after: snapshotCursor, limit: 2_500)
            let texts = page.changes.map(\.jsonText) + page.storedTexts
            eachPage(texts)
            snapshotted += texts.count
            if !page.more { break }
            snapshotCursor = try SnapshotCursor(page.cursor)
        } while true
        return (pulled, snapshotted)
    }

    /// A change longer than a page's whole budget goes alone, and the page says more follow: on
    /// PostgreSQL the page's statement read no row past the budget, so a first row over 1 MiB
    /// came back alone and the page said it was the last (the fifty-sixth session's review), a
    /// new laptop's snapshot ending at that meeting and a watching replica's cursor moved past
    /// the changes after it. 45,000 family emoji are 45,000 characters (within a field's
    /// 50,000) and over 1 MiB of text.
    @Test(arguments: StoreBackend.persistent)
    func aChangeLongerThanAPageGoesAloneAndWhatFollowsItStillComes(kind: StoreBackend) async throws {
        let store = try await Fixtures.makeStore(kind.make())
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let family = String(repeating: "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}", count: 45_000)
        #expect(family.count == 45_000)
        // The long one first in the snapshot's order (by record) and fourth in the log's.
        let records = [RecordID("MTG-0000000001")!] + (0..<6).map { _ in RecordID.random(for: .meeting) }
        let order = [1, 2, 3, 0, 4, 5, 6]
        let changes = order.enumerated().map { n, index in
            Change(id: ChangeID(replica: Self.maker, counter: Int64(n + 1)), hlc: HLCTimestamp(millis: now - 60_000 + Int64(n)),
                   record: records[index], scope: Self.scope, field: "minutes", value: .string(index == 0 ? family : "Apologies: none."))
        }
        #expect(changes[3].jsonText.utf8.count > PageBudget.maxBytes)
        _ = try await store.push(changes, as: Fixtures.identity("prestatyn"), from: Self.maker)
        let (pulled, snapshotted) = try await Self.everyPage(of: store, for: Fixtures.identity("rhyl"))
        #expect(pulled == 7, "\(kind): \(pulled) changes pulled")
        #expect(snapshotted == 7, "\(kind): \(snapshotted) rows in the snapshot")
    }

    /// A PCPG's page reads a cluster's changes since its cursor to send them as logged only up
    /// to `maxLoggedBytes` of text: past it, nil (the listed records go whole, as past
    /// `maxLoggedChanges`), read no further.
    @Test(arguments: StoreBackend.persistent)
    func aClustersLoggedChangesPastTheByteBoundAreNotRead(kind: StoreBackend) async throws {
        let count = OversightPaging.maxLoggedBytes / Self.minutes.utf8.count + 10
        let store = try await Self.store(kind, meetings: count)
        let fewer = 100
        func shared(after: Int64) async throws -> [Change]? {
            switch store {
            case let sqlite as SQLiteServerStore:
                try await sqlite.read { db in try SQLiteServerStore.sharedChanges(db, tenant: Fixtures.tenant, cluster: Fixtures.cluster, after: after) }
            case let postgres as PostgresServerStore:
                try await postgres.read { c in try await postgres.sharedChanges(tenant: Fixtures.tenant, cluster: Fixtures.cluster, after: after, c) }
            default:
                nil
            }
        }
        #expect(try await shared(after: 0) == nil, "\(kind): \(count) changes of 50 KB are past 8 MiB")
        #expect(try await shared(after: Int64(count - fewer))?.count == fewer, "\(kind)")
    }
}
