import ClusterSyncCore

/// One page of a read-only session's pull (PROTOCOL.md §7.1), as every store builds it: the
/// store walks its clusters in `ordered` order until `hasMore`, lists each cluster's escalated
/// records, and reads the changes of a cluster only when `reads` says so, from `resume` on, at
/// most `rowsWanted`; this cuts the page at the pull's `limit` or at `PageBudget.maxBytes` of
/// change text and ends it with an `OversightCursor` naming the last change sent. Only the last
/// page carries the roll-up and the list of escalated records. One place, so the three stores page
/// alike and a cursor one issued reads the same on another node.
public struct OversightPaging: Sendable {
    /// The stream position the changes are asked from: a stream cursor's, 0 without one, -1 for
    /// a snapshot (which `sendsChanges` treats as 0: a cluster with no log row has no record).
    public let after: Int64
    /// The stream position the first page read, which the last page's cursor names.
    public let end: Int64
    private let from: OversightCursor?
    private let limit: Int
    private var escalated: [EscalatedRecord] = []
    private var changes: [Change] = []
    private var budget = PageBudget()
    private var last: OversightCursor?
    /// The page holds all it may and another follows: it carries no list and no roll-up, and a
    /// store stops visiting clusters.
    public private(set) var hasMore = false

    /// Where a read-only session's pull starts: a stream cursor (its position), an oversight
    /// cursor continuing a page (the first page's positions), or none (0); `snapshot` reads from
    /// -1. `currentEnd`, the stream's end now, counts only when the paging starts here.
    /// `malformed` for a cursor no server writes.
    public init(cursor: Cursor?, snapshot: Bool = false, limit: Int, currentEnd: Int64) throws {
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        self.limit = limit
        if let cursor, OversightCursor.isOversightCursor(cursor) {
            let from = try OversightCursor(cursor)
            (self.from, after, end) = (from, from.after, from.end)
        } else {
            from = nil
            after = snapshot ? -1 : try cursor.map(StreamCursor.position(of:)) ?? 0
            end = currentEnd
        }
    }

    /// Whether the stream position must still be checked against the compaction: only for the
    /// first page of a pull (a snapshot, and a page going on, read what is kept anyway).
    public var startsAtStreamPosition: Bool { from == nil && after >= 0 }

    /// The clusters in the order this page visits them: sorted, from where the page starts;
    /// then, for the list the last page carries, those before it. A store stops visiting once
    /// the page is full (`hasMore`): a page with more to come costs what it carries.
    public func ordered(_ clusters: [String]) -> [String] {
        let sorted = clusters.sorted()
        guard let from else { return sorted }
        return sorted.filter { $0 >= from.cluster } + sorted.filter { $0 < from.cluster }
    }

    /// Lists `records`, the escalated records of `cluster`, for the last page, which lists all.
    public mutating func list(_ records: [RecordID], of cluster: String) {
        escalated += records.map { EscalatedRecord(cluster: cluster, record: $0) }
    }

    /// Whether this page reads `cluster`'s changes: something was stored in it after `after`,
    /// or it moved into the region since (`ServerOversight.sendsChanges`), the page is not
    /// full, and it does not come before where the page starts.
    public func reads(_ cluster: String, clusterLast: Int64, movedAfter: Int64?) -> Bool {
        guard !hasMore, ServerOversight.sendsChanges(clusterLast: clusterLast, movedAfter: movedAfter, after: after) else { return false }
        return from.map { cluster >= $0.cluster } ?? true
    }

    /// Whether this page may send a cluster's listed records as what was logged after `after`
    /// (`ServerOversight.changes` with its logged changes) rather than whole: only for a pull
    /// from a stream position (not from the start, not a snapshot) the log still holds every
    /// change after (`compactedThrough`, the tenant's compaction mark, nil if never compacted,
    /// is not past it: a page going on may read after a compaction ran), and for a cluster not
    /// moved into reach since (`movedAfter`), whose records the client may not hold.
    public func sendsLogged(movedAfter: Int64?, compactedThrough: Int64?) -> Bool {
        after > 0 && (compactedThrough ?? 0) <= after && !(movedAfter.map { after <= $0 } ?? false)
    }

    /// The most of a cluster's changes since the pull's position a page reads to send them as
    /// logged (`sendsLogged`); a store that finds more sends the cluster's listed records whole
    /// instead, as a page did before the thirty-fourth session, so a page holds at most this many
    /// changes in memory however far behind its client is (about 5 MB). Only ever switches from
    /// logged to whole between pages of a pull (the log grows), and whole sends a superset, in
    /// the same order.
    public static let maxLoggedChanges = 10_000

    /// The most change text a page reads for that (8 MiB), whatever the count: a meeting's
    /// minutes alone may be 50,000 characters, so 10,000 changes could be a gigabyte.
    public static let maxLoggedBytes = 8 << 20

    /// A cluster's logged changes as a store reads them, one text at a time (in any order):
    /// `take` says when to stop reading, past either bound.
    public struct LoggedTexts: Sendable {
        private var texts: [String] = []
        private var bytes = 0
        private var past = false

        public init() {}

        /// Keeps `text`; false once the texts are past a bound (stop reading: `changes` is nil).
        public mutating func take(_ text: String) -> Bool {
            bytes += text.utf8.count
            texts.append(text)
            past = past || texts.count > OversightPaging.maxLoggedChanges || bytes > OversightPaging.maxLoggedBytes
            return !past
        }

        /// The changes, or nil past a bound. Counted before decoding: a text this server cannot
        /// read (stored by an older one) is no part of its state and is skipped, but still counts.
        public var changes: [Change]? {
            past ? nil : texts.compactMap { try? Change(jsonText: $0) }
        }
    }

    /// A cluster's logged changes from texts a store read (at most `maxLoggedChanges` + 1, and
    /// up to the first past `maxLoggedBytes`), or nil past a bound (`LoggedTexts`).
    public static func logged(texts: [String]) -> [Change]? {
        var logged = LoggedTexts()
        for text in texts where !logged.take(text) { break }
        return logged.changes
    }

    /// `changes`, or nil past either bound: the bound, for a store that holds its changes decoded.
    public static func withinLoggedBound(_ changes: [Change]) -> [Change]? {
        changes.count <= maxLoggedChanges && changes.reduce(0, { $0 + $1.jsonText.utf8.count }) <= maxLoggedBytes ? changes : nil
    }

    /// The last change sent of `cluster`, after which its changes go on; nil to start with its first.
    public func resume(in cluster: String) -> OversightCursor? {
        from.flatMap { $0.cluster == cluster ? $0 : nil }
    }

    /// How many changes to read: one more than the page has room for, to know whether more follow.
    public var rowsWanted: Int { limit - changes.count + 1 }

    /// Takes what fits of `found`, `cluster`'s changes in page order (`ServerOversight.changes`).
    public mutating func take(_ found: [Change], of cluster: String) {
        for change in found {
            guard changes.count < limit, budget.take(change.jsonText.utf8.count) else {
                hasMore = true
                return
            }
            changes.append(change)
            last = OversightCursor(end: end, after: max(after, 0), cluster: cluster, record: change.record,
                                   replica: change.id.replica, counter: change.id.counter)
        }
    }

    /// The page: its changes and the cursor that goes on; or, on the last page, its changes, the
    /// session's roll-up (`RegionRollup.jsonValue`; nil only with more to come) and every record
    /// it may hold, and the stream position the first page read.
    public func page(rollup: JSONValue?) -> ChangesPage {
        if hasMore, let last {
            return ChangesPage(changes: changes, cursor: last.cursor, more: true)
        }
        return ChangesPage(changes: changes, cursor: StreamCursor.cursor(at: end), more: false,
                           oversight: rollup.map { OversightPage(rollup: $0, escalated: escalated.sorted()) })
    }
}
