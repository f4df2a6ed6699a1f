/// The cursor of a read-only session's page that has more to come (Protocol/PROTOCOL.md §7.1):
/// `o1:<end>/<after>/<cluster>/<record>/<replica>/<counter>`, the cluster escaped as a
/// snapshot cursor's field is (`CursorField`). A PCPG's or Health Board's page carries the
/// changes of escalated records cluster by cluster, record by record, each record's changes in
/// the order of their ids; a page full at `limit` changes or `PageBudget.maxBytes` of text ends
/// with this cursor, naming the last change sent. The next page goes on after it, with the same
/// `after` (the stream position the first page was asked from) and `end` (the stream position
/// the first page read, which the last page's cursor names), so changes stored meanwhile come
/// with the pull after the last page.
///
/// Before the twenty-fifth session the whole oversight page was one line, however much was
/// escalated: a practice that escalated a long history could make every page of its PCPG too
/// long for the replica to read, and the server build it in memory at every pull.
///
/// Clients treat it as opaque, like every cursor; servers read it only through here. A pull
/// with it is a pull (never a snapshot); `subscribe` refuses it as `malformed`, as every store's
/// practice pull does.
public struct OversightCursor: Sendable, Equatable {
    /// The stream position the paging read first, which the last page's cursor names.
    public var end: Int64
    /// The stream position the first page was asked from (0 for no cursor or a snapshot).
    public var after: Int64
    /// The last change sent: its cluster, record and id.
    public var cluster: String
    public var record: RecordID
    public var replica: ReplicaID
    public var counter: Int64

    public init(end: Int64, after: Int64, cluster: String, record: RecordID, replica: ReplicaID, counter: Int64) {
        self.end = end
        self.after = after
        self.cluster = cluster
        self.record = record
        self.replica = replica
        self.counter = counter
    }

    static let prefix = "o1:"

    public var cursor: Cursor {
        Cursor("\(Self.prefix)\(end)/\(after)/\(CursorField.escaped(cluster))/\(record.rawValue)/\(replica.rawValue)/\(counter)")
    }

    /// Whether `cursor` is spelled as an oversight cursor (it may still be malformed).
    public static func isOversightCursor(_ cursor: Cursor) -> Bool {
        cursor.rawValue.hasPrefix(prefix)
    }

    /// Reads an oversight cursor spelled exactly as a server writes it; `malformed` otherwise.
    public init(_ cursor: Cursor) throws(ClusterSyncError) {
        let text = cursor.rawValue
        guard text.hasPrefix(Self.prefix) else { throw StreamCursor.notIssued(cursor) }
        let parts = text.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        // The numbers as a stream cursor spells its position; the rest as the server wrote them.
        func position(_ part: Substring) -> Int64? { try? StreamCursor.position(of: Cursor("s1:\(part)")) }
        guard parts.count == 6, let end = position(parts[0]), let after = position(parts[1]), after <= end,
              let cluster = CursorField.unescaped(parts[2]), let record = RecordID(String(parts[3])),
              let replica = ReplicaID(parts[4]), replica.rawValue == parts[4],
              let counter = SnapshotCursor.number(parts[5])
        else { throw StreamCursor.notIssued(cursor) }
        self.init(end: end, after: after, cluster: cluster, record: record, replica: replica, counter: counter)
    }

    /// The stream position the last page's cursor names, as a cursor: what a server checks
    /// against its stream's end, as for any cursor.
    public var endCursor: Cursor { StreamCursor.cursor(at: end) }
}
