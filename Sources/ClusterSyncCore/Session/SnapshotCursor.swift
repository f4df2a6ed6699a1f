/// The cursor of a snapshot page that has more to come (Protocol/PROTOCOL.md §5.7):
/// `s1:<end>/<record>/<field>/<replica>/<counter>`. `end` is the stream position the snapshot
/// stands for (the `StreamCursor` a client continues from once the snapshot is whole); the rest
/// is where in the server's materialised state the next page starts (the last row sent: record
/// id, field, the store's number for the replica id, counter). Clients treat it as opaque, like
/// every cursor; servers read it only through here, so every store pages snapshots alike.
///
/// A pull whose cursor has this form continues a snapshot and is answered with `snapshot`; any
/// other use of it (`subscribe`) is `malformed`, as for a cursor the server did not issue.
public struct SnapshotCursor: Sendable, Equatable {
    /// The stream position the snapshot stands for.
    public var end: Int64
    /// The last row sent.
    public var record: RecordID
    public var field: String
    public var replica: Int64
    public var counter: Int64

    public init(end: Int64, record: RecordID, field: String, replica: Int64, counter: Int64) {
        self.end = end
        self.record = record
        self.field = field
        self.replica = replica
        self.counter = counter
    }

    public var cursor: Cursor {
        Cursor("\(StreamCursor.cursor(at: end).rawValue)/\(record.rawValue)/\(field)/\(replica)/\(counter)")
    }

    /// Whether `cursor` is spelled as a snapshot cursor (it may still be malformed).
    public static func isSnapshotCursor(_ cursor: Cursor) -> Bool {
        cursor.rawValue.hasPrefix("s1:") && cursor.rawValue.contains("/")
    }

    /// Reads a snapshot cursor spelled exactly as a server writes it; `malformed` otherwise.
    public init(_ cursor: Cursor) throws(ClusterSyncError) {
        let parts = cursor.rawValue.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].utf8.count <= 21,
              let record = RecordID(String(parts[1])),
              (1...64).contains(parts[2].utf8.count),
              parts[2].utf8.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_") }),
              let replica = Self.number(parts[3]), let counter = Self.number(parts[4])
        else { throw StreamCursor.notIssued(cursor) }
        end = try StreamCursor.position(of: Cursor(String(parts[0])))
        self.record = record
        field = String(parts[2])
        self.replica = replica
        self.counter = counter
    }

    /// A decimal number without sign or leading zero, as a server writes one.
    private static func number(_ text: Substring) -> Int64? {
        let digits = text.utf8
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
        return Int64(text)
    }
}

/// The cursor of a `history-page` with more to come: `h1:<field>/<replica>/<counter>`, the last
/// row sent of the record, in the server's storage order. Opaque to clients.
public struct HistoryCursor: Sendable, Equatable {
    public var field: String
    public var replica: Int64
    public var counter: Int64

    public init(field: String, replica: Int64, counter: Int64) {
        self.field = field
        self.replica = replica
        self.counter = counter
    }

    public var cursor: Cursor { Cursor("h1:\(field)/\(replica)/\(counter)") }

    /// Reads a history cursor spelled exactly as a server writes it; `malformed` otherwise.
    public init(_ cursor: Cursor) throws(ClusterSyncError) {
        // The same spelling as a snapshot cursor's tail: reuse its checks.
        let parts = cursor.rawValue.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("h1:"),
              let probe = try? SnapshotCursor(Cursor("s1:0/RSK-7K3M9Q2X1A/\(parts[0].dropFirst(3))/\(parts[1])/\(parts[2])"))
        else { throw StreamCursor.notIssued(cursor) }
        field = probe.field
        replica = probe.replica
        counter = probe.counter
    }
}
