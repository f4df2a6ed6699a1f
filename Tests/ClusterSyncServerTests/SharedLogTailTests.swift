import ClusterSyncCore
@testable import ClusterSyncServer
import Testing

/// `SharedLogTail`: what a subscription may take from the log's tail read once for every
/// subscription a push wakes. Without a store: the rows are written out here. Against the
/// stores' own `pullStored`, see StoredPageTests.
@Suite struct SharedLogTailTests {
    static let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
    static let prestatyn = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "prestatyn", author: "prestatyn")
    static let wrexham = SessionIdentity(tenant: "bcuhb", cluster: "east", practice: "wrexham", author: "wrexham")
    static let rhylReplica = ReplicaID("00000000000000a1")!

    static func row(_ seq: Int64, _ cluster: String = "north", practice: String? = nil, replica: String = "00000000000000b2",
                    text: String? = nil) -> LogTail.Row {
        LogTail.Row(seq: seq, cluster: cluster, practice: practice, replica: replica, text: text ?? "{\"n\":\(seq)}")
    }

    /// Rows 11 to 18 of a tenant whose stream ends at 20 (19 and 20 are another tenant's).
    static let read = LogTail(rows: [
        row(11),                                   // north, shared
        row(12, practice: "rhyl"),                 // rhyl's private record
        row(13, practice: "prestatyn"),            // prestatyn's private record
        row(14, "east"),                           // another cluster
        row(15, replica: rhylReplica.rawValue),    // rhyl's own replica
        row(16),
        row(17, "east", practice: "wrexham"),
        row(18, practice: "rhyl", replica: rhylReplica.rawValue),
    ], start: 10, end: 20, compactedThrough: 0)

    static func seqs(_ page: ChangesPage?) -> [Int64] {
        (page?.storedTexts ?? []).map { text in Int64(text.dropFirst(5).dropLast())! }
    }

    @Test func eachSubscriptionTakesExactlyItsScopeWithoutItsOwnReplicasChanges() throws {
        let tail = SharedLogTail(tenant: "bcuhb", Self.read)
        let start = StreamCursor.cursor(at: 10)
        let rhyl = try #require(tail.page(for: Self.rhyl, after: start, limit: 100, excluding: Self.rhylReplica))
        #expect(Self.seqs(rhyl) == [11, 12, 16], "its cluster's shared rows and its own private ones, not its replica's")
        #expect(rhyl.cursor == StreamCursor.cursor(at: 20) && !rhyl.more, "to the end read with the rows")
        let prestatyn = try #require(tail.page(for: Self.prestatyn, after: start, limit: 100, excluding: ReplicaID("00000000000000c3")!))
        #expect(Self.seqs(prestatyn) == [11, 13, 15, 16], "rhyl's private rows are not prestatyn's")
        let wrexham = try #require(tail.page(for: Self.wrexham, after: start, limit: 100, excluding: ReplicaID("00000000000000c3")!))
        #expect(Self.seqs(wrexham) == [14, 17], "another cluster sees only its own")
        // Without an excluded replica (as a pull), the cursor stops at the last row taken.
        let plain = try #require(tail.page(for: Self.wrexham, after: start, limit: 100, excluding: nil))
        #expect(plain.cursor == StreamCursor.cursor(at: 17))
        // From a later cursor: only what follows it.
        let later = try #require(tail.page(for: Self.rhyl, after: StreamCursor.cursor(at: 12), limit: 100, excluding: Self.rhylReplica))
        #expect(Self.seqs(later) == [16] && later.cursor == StreamCursor.cursor(at: 20))
        // At the end: nothing, and the cursor stays.
        let atEnd = try #require(tail.page(for: Self.rhyl, after: rhyl.cursor, limit: 100, excluding: Self.rhylReplica))
        #expect(atEnd.count == 0 && atEnd.cursor == rhyl.cursor && !atEnd.more)
    }

    @Test func aFullPageSaysMoreAndStopsAtItsLastRow() throws {
        let tail = SharedLogTail(tenant: "bcuhb", Self.read)
        let first = try #require(tail.page(for: Self.prestatyn, after: StreamCursor.cursor(at: 10), limit: 2, excluding: nil))
        #expect(Self.seqs(first) == [11, 13] && first.more && first.cursor == StreamCursor.cursor(at: 13))
        let second = try #require(tail.page(for: Self.prestatyn, after: first.cursor, limit: 2, excluding: nil))
        #expect(Self.seqs(second) == [15, 16] && !second.more && second.cursor == StreamCursor.cursor(at: 16),
                "no row of its scope follows: no more, as the store says")
        let third = try #require(tail.page(for: Self.prestatyn, after: second.cursor, limit: 2, excluding: nil))
        #expect(Self.seqs(third) == [] && !third.more && third.cursor == second.cursor)
    }

    @Test func whatTheTailDoesNotCoverIsLeftToTheStore() {
        let tail = SharedLogTail(tenant: "bcuhb", Self.read)
        #expect(tail.page(for: Self.rhyl, after: StreamCursor.cursor(at: 9), limit: 100, excluding: nil) == nil, "before the tail")
        #expect(tail.page(for: Self.rhyl, after: nil, limit: 100, excluding: nil) == nil, "from the start")
        #expect(tail.page(for: Self.rhyl, after: StreamCursor.cursor(at: 21), limit: 100, excluding: nil) == nil, "beyond the end read")
        var other = Self.rhyl
        other.tenant = "cardiff"
        #expect(tail.page(for: other, after: StreamCursor.cursor(at: 10), limit: 100, excluding: nil) == nil, "another tenant")
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "west", author: "pcpg")
        #expect(tail.page(for: pcpg, after: StreamCursor.cursor(at: 10), limit: 100, excluding: nil) == nil, "a read-only role")
        #expect(tail.page(for: Self.rhyl, after: Cursor("not-a-cursor"), limit: 100, excluding: nil) == nil)
    }

    @Test func aLaterReadExtendsTheTailOrReplacesIt() throws {
        var tail = SharedLogTail(tenant: "bcuhb", Self.read)
        tail.extend(with: LogTail(rows: [Self.row(21), Self.row(22, practice: "rhyl")], start: 20, end: 23, compactedThrough: 0))
        #expect(tail.start == 10 && tail.end == 23)
        let all = try #require(tail.page(for: Self.rhyl, after: StreamCursor.cursor(at: 10), limit: 100, excluding: Self.rhylReplica))
        #expect(Self.seqs(all) == [11, 12, 16, 21, 22] && all.cursor == StreamCursor.cursor(at: 23))

        // A redaction rewrote an older row in place: the older rows held here may be stale.
        var redacted = tail
        redacted.extend(with: LogTail(rows: [Self.row(24, text: "{\"field\":\"redact\",\"n\":24}")], start: 23, end: 24, compactedThrough: 0))
        #expect(redacted.start == 23 && redacted.rows.map(\.seq) == [24])
        #expect(redacted.page(for: Self.rhyl, after: StreamCursor.cursor(at: 10), limit: 100, excluding: nil) == nil)

        // A read that does not continue the tail (more new rows than it holds) replaces it.
        var gap = tail
        gap.extend(with: LogTail(rows: [Self.row(31)], start: 30, end: 31, compactedThrough: 0))
        #expect(gap.start == 30 && gap.page(for: Self.rhyl, after: StreamCursor.cursor(at: 23), limit: 100, excluding: nil) == nil)

        // A compaction reaching into the tail drops the rows it may have emptied.
        var compacted = tail
        compacted.extend(with: LogTail(rows: [], start: 23, end: 23, compactedThrough: 15))
        #expect(compacted.start == 15 && compacted.rows.first?.seq == 16)
        #expect(compacted.page(for: Self.rhyl, after: StreamCursor.cursor(at: 12), limit: 100, excluding: nil) == nil)
    }

    @Test func theTailIsHeldToItsBoundsOldestRowsFirst() {
        let byRows = SharedLogTail(tenant: "bcuhb", Self.read, maxRows: 3)
        #expect(byRows.rows.map(\.seq) == [16, 17, 18] && byRows.start == 15 && byRows.end == 20)
        let byBytes = SharedLogTail(tenant: "bcuhb", Self.read, maxBytes: 20)
        #expect(byBytes.rows.map(\.seq) == [17, 18] && byBytes.start == 16)
        var growing = SharedLogTail(tenant: "bcuhb", Self.read, maxRows: 4)
        growing.extend(with: LogTail(rows: [Self.row(21), Self.row(22)], start: 20, end: 22, compactedThrough: 0))
        #expect(growing.rows.map(\.seq) == [17, 18, 21, 22] && growing.start == 16)
    }

    @Test func wakeUpsWhileASessionIsBusyMakeOneEventWithTheNewestGeneration() {
        let wakeups = PendingWakeups()
        #expect(wakeups.raise(3), "the first wake-up sends an event")
        #expect(!wakeups.raise(5) && !wakeups.raise(4), "later ones wait in it")
        #expect(wakeups.take() == 5)
        #expect(wakeups.raise(6), "once taken, the next wake-up sends an event again")
    }
}
