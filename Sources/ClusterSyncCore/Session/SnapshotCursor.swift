/// The cursor of a snapshot page that has more to come (Protocol/PROTOCOL.md §5.7):
/// `s1:<end>/<record>/<field>/<replica>/<counter>`, the field escaped (`CursorField`: a map
/// entry's field, `votes:Dr Evans/Smith`, holds any character). `end` is the stream position
/// the snapshot stands for (the `StreamCursor` a client continues from once the snapshot is
/// whole); the rest is where in the server's materialised state the next page starts (the last
/// row sent: record id, field, the store's number for the replica id, counter). Clients treat
/// it as opaque, like every cursor; servers read it only through here, so every store pages
/// snapshots alike.
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
        Cursor("\(StreamCursor.cursor(at: end).rawValue)/\(record.rawValue)/\(CursorField.escaped(field))/\(replica)/\(counter)")
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
              let field = CursorField.unescaped(parts[2]),
              let replica = Self.number(parts[3]), let counter = Self.number(parts[4])
        else { throw StreamCursor.notIssued(cursor) }
        end = try StreamCursor.position(of: Cursor(String(parts[0])))
        self.record = record
        self.field = field
        self.replica = replica
        self.counter = counter
    }

    /// A decimal number without sign or leading zero, as a server writes one: up to
    /// `Int64.max`, a counter a replica may use.
    static func number(_ text: Substring) -> Int64? {
        let digits = text.utf8
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
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

    public var cursor: Cursor { Cursor("h1:\(CursorField.escaped(field))/\(replica)/\(counter)") }

    /// The `h1:` a page with nothing after the start answers with.
    public static let start = Cursor("h1:")

    /// Where a `history` request starts: nil for none, or for `start`, which a server issues
    /// for an empty page and so must read back; `malformed` for what no server writes.
    public static func after(_ cursor: Cursor?) throws(ClusterSyncError) -> HistoryCursor? {
        guard let cursor, cursor != start else { return nil }
        return try HistoryCursor(cursor)
    }

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

/// A field as a cursor spells it: `a`–`z` and `_` as they are, every other byte of its UTF-8 as
/// `%` and two capital hex digits, so `/` never appears and each field has one spelling. A
/// plain field (`title`) reads as itself, as in cursors issued before map fields were escaped.
///
/// No length of its own: a map entry's key is 100 characters, but a character may be many bytes
/// (combining marks), and whatever field the store holds must read back. The line it comes in
/// bounds it.
enum CursorField {
    static func escaped(_ field: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.utf8.count)
        for byte in field.utf8 {
            if isPlain(byte) {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// The field a cursor names, or nil when the text is not spelled as `escaped` writes one.
    static func unescaped(_ text: Substring) -> String? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if isPlain(byte) {
                bytes.append(byte)
                index += 1
                continue
            }
            guard byte == UInt8(ascii: "%"), index + 2 < utf8.count, let high = hexValue(utf8[index + 1]),
                  let low = hexValue(utf8[index + 2]) else { return nil }
            let decoded = high << 4 | low
            // A byte that has a plain spelling must be written plain: one spelling per field.
            guard !isPlain(decoded) else { return nil }
            bytes.append(decoded)
            index += 3
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
