import ClusterSyncCore

/// The newest rows of one tenant's log, read once and shared by the subscriptions a push wakes,
/// and the rule for what each may take from it: exactly the page `pullStored` would give that
/// session (its cluster, the cluster's shared rows and its own practice's private ones, never
/// its own replica's changes), or nil when the tail does not cover its cursor, so it reads its
/// own page from the store. Pure: no I/O, tested without sockets (SharedLogTailTests, and
/// StoredPageTests against `pullStored` on every store).
///
/// The cursor moves only as far as rows the tail holds and the stream end read in the same
/// snapshot as them (`LogTail`), so a push committed while the tail was read is never stepped over.
struct SharedLogTail: Sendable {
    let tenant: String
    /// Every row of the tenant with `start < seq <= end`, oldest first.
    private(set) var rows: [LogTail.Row]
    private(set) var start: Int64
    private(set) var end: Int64
    /// The bounds the tail is held to: the oldest rows go first.
    let maxRows: Int
    let maxBytes: Int
    /// A tenant's tail holds up to 4 MB of its newest changes, so that subscriptions catching up
    /// (a burst of practices that subscribed while the others pushed) cut their pages from it
    /// instead of each reading its own from the store: with 1,000 subscribers each owed the
    /// others' 10,000 changes, the store's reads were two thirds of the server's CPU. The row
    /// bound only caps the per-row overhead (about 100 bytes) when changes are small.
    static let defaultMaxRows = 16_384
    static let defaultMaxBytes = 4 << 20
    private var bytes = 0

    init(tenant: String, _ read: LogTail, maxRows: Int = defaultMaxRows, maxBytes: Int = defaultMaxBytes) {
        self.tenant = tenant
        self.rows = read.rows
        self.start = read.start
        self.end = read.end
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        bytes = rows.reduce(0) { $0 + $1.text.utf8.count }
        trim()
    }

    /// Takes in a later read (made after `end`). Older rows are kept only when the new read
    /// continues this one and holds no redaction (a redaction erases an older row's value in
    /// place, so older texts held here may be out of date), and only beyond the compaction's reach.
    mutating func extend(with read: LogTail) {
        let redacts = read.rows.contains { $0.text.contains(Self.redactionMark) }
        guard read.start == end, !redacts else {
            self = SharedLogTail(tenant: tenant, read, maxRows: maxRows, maxBytes: maxBytes)
            return
        }
        rows.append(contentsOf: read.rows)
        bytes += read.rows.reduce(0) { $0 + $1.text.utf8.count }
        end = read.end
        if read.compactedThrough > start { drop(through: read.compactedThrough) }
        trim()
    }

    /// What a redaction's stored text always holds (canonical text: no spaces, `field` a key of
    /// the change). A value could hold it too; that only costs a fresh tail.
    static let redactionMark = "\"field\":\"\(Redaction.field)\""

    /// The page `pullStored(for: identity, after: cursor, limit: limit, excluding: replica)`
    /// returns when read in this tail's snapshot; nil when the tail cannot say (another tenant,
    /// a read-only role, a cursor before `start` or beyond `end`, or not a stream cursor).
    func page(for identity: SessionIdentity, after cursor: Cursor?, limit: Int, excluding replica: ReplicaID?) -> ChangesPage? {
        guard identity.tenant == tenant, identity.role.isPractice, limit > 0 else { return nil }
        let after: Int64
        if let cursor {
            guard let position = try? StreamCursor.position(of: cursor) else { return nil }
            after = position
        } else {
            after = 0
        }
        guard after >= start, after <= end else { return nil }
        let excluded = replica?.rawValue
        var texts: [String] = []
        var lastSeq: Int64?
        var more = false
        var budget = PageBudget()
        for row in rows[firstIndex(after: after)...]
        where row.cluster == identity.cluster && (row.practice == nil || row.practice == identity.practice) && row.replica != excluded {
            guard texts.count < limit, budget.take(row.text.utf8.count) else {
                more = true
                break
            }
            texts.append(row.text)
            lastSeq = row.seq
        }
        return StoredPage.page(texts: texts, lastSeq: lastSeq, more: more, after: after, askedWith: cursor,
                               excludingOwn: excluded != nil, end: end)
    }

    /// The index of the first row after `seq` (binary search: rows are in seq order).
    private func firstIndex(after seq: Int64) -> Int {
        var low = 0
        var high = rows.count
        while low < high {
            let middle = (low + high) / 2
            if rows[middle].seq <= seq { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func drop(through seq: Int64) {
        let count = firstIndex(after: seq)
        bytes -= rows[..<count].reduce(0) { $0 + $1.text.utf8.count }
        rows.removeFirst(count)
        start = max(start, seq)
    }

    private mutating func trim() {
        var count = max(0, rows.count - maxRows)
        var kept = bytes - rows[..<count].reduce(0) { $0 + $1.text.utf8.count }
        while kept > maxBytes, count < rows.count {
            kept -= rows[count].text.utf8.count
            count += 1
        }
        guard count > 0 else { return }
        drop(through: rows[count - 1].seq)
    }
}
