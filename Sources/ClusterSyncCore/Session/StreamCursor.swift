/// The cursors a server issues (Protocol/PROTOCOL.md §7): `s1:<n>`, where n is a position in the
/// tenant's change stream (the sequence number of the last change the client has; 0 before the
/// first). Clients treat them as opaque; servers and their stores read them only through here, so
/// every store and both `pull` and `subscribe` accept exactly the same cursors.
///
/// A cursor is one the server could have issued when it is spelled exactly as the server writes
/// it (`s1:` and the number in decimal, without a sign or a leading zero) and its position is not
/// past the current end of the tenant's stream. Anything else is `malformed`: answering it with
/// an empty page would let a client store it and skip every change up to that position.
public enum StreamCursor {
    /// The cursor naming `position`.
    public static func cursor(at position: Int64) -> Cursor {
        Cursor("s1:\(position)")
    }

    /// The position `cursor` names, if it is spelled as a server spells it; `malformed` if not.
    public static func position(of cursor: Cursor) throws(ClusterSyncError) -> Int64 {
        let text = cursor.rawValue
        guard text.hasPrefix("s1:"), case let digits = text.utf8.dropFirst(3), !digits.isEmpty, digits.count <= 18,
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              digits.count == 1 || digits.first != UInt8(ascii: "0"),
              let position = Int64(String(decoding: digits, as: UTF8.self))
        else {
            throw notIssued(cursor)
        }
        return position
    }

    /// The position `cursor` names, if the server could have issued it given that `end` is the
    /// current end of the tenant's stream; `malformed` if not.
    public static func position(of cursor: Cursor, end: Cursor) throws(ClusterSyncError) -> Int64 {
        let position = try position(of: cursor)
        guard position <= (try self.position(of: end)) else { throw notIssued(cursor) }
        return position
    }

    static func notIssued(_ cursor: Cursor) -> ClusterSyncError {
        let text = cursor.rawValue
        let shown = text.count <= 40 && text.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\"" })
            ? "\"\(text)\"" : "the cursor sent"
        return ClusterSyncError(
            .malformed, "\(shown) is not a cursor this server issued; pull without a cursor to start again", field: "cursor")
    }
}
