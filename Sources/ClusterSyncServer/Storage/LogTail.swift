import ClusterSyncCore

/// The newest rows of one tenant's log as one read saw them, with the stream's end read in the
/// same snapshot: what `SubscriptionFeed` shares among the subscriptions a push wakes
/// (`SharedLogTail` decides what each may take). Every row of the tenant with
/// `start < seq <= end` is in `rows`, so a cursor may move to `end` over rows it did not take.
public struct LogTail: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var seq: Int64
        public var cluster: String
        /// nil: shared with the whole cluster; else only this practice may read it.
        public var practice: String?
        public var replica: String
        /// The text a page sends: the stored canonical text, or a damaged row as a JSON string
        /// (as `pullStored` sends it).
        public var text: String

        public init(seq: Int64, cluster: String, practice: String?, replica: String, text: String) {
            self.seq = seq
            self.cluster = cluster
            self.practice = practice
            self.replica = replica
            self.text = text
        }
    }

    /// Oldest first.
    public var rows: [Row]
    public var start: Int64
    public var end: Int64
    /// Where the tenant's last compaction reached (0: never compacted): rows at or before it may
    /// have lost their text since, so a shared tail drops them.
    public var compactedThrough: Int64

    public init(rows: [Row], start: Int64, end: Int64, compactedThrough: Int64) {
        self.rows = rows
        self.start = start
        self.end = end
        self.compactedThrough = compactedThrough
    }

    /// A read's rows, newest first, cut to the newest `newest` whose texts come to at most
    /// `maxBytes` (the query fetched one more, to know whether older rows were left out), as a
    /// tail starting after `after` or after the newest row left out.
    static func fromNewestFirst(_ newestFirst: [Row], after: Int64, newest: Int, maxBytes: Int, end: Int64, compactedThrough: Int64) -> LogTail {
        var rows = newestFirst
        var start = after
        if let cut = firstLeftOut(rows, newest: newest, maxBytes: maxBytes) {
            start = rows[cut].seq
            rows.removeLast(rows.count - cut)
        }
        rows.reverse()
        let kept = max(start, compactedThrough)
        if kept > start { rows.removeAll { $0.seq <= kept } }
        return LogTail(rows: rows, start: kept, end: max(end, rows.last?.seq ?? end), compactedThrough: compactedThrough)
    }

    /// The index of the first row (newest first) beyond `newest` rows or `maxBytes` of text; nil
    /// when every row fits. A store's read may stop at that row.
    static func firstLeftOut(_ newestFirst: [Row], newest: Int, maxBytes: Int) -> Int? {
        var bytes = 0
        for (index, row) in newestFirst.enumerated() {
            bytes += row.text.utf8.count
            if index == newest || bytes > maxBytes { return index }
        }
        return nil
    }
}

extension ServerStore {
    public func logTail(tenant: String, after: Int64, newest: Int, maxBytes: Int) async throws -> LogTail? { nil }
}
