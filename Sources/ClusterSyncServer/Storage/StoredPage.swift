import ClusterSyncCore
import Foundation

/// The rules every store's stored-text page follows (`pullStored` on SQLite and PostgreSQL, and
/// the shared tail woken subscriptions are cut from), written once so that they cannot drift.
enum StoredPage {
    /// The page of `texts` read after stream position `after` (asked with `cursor`), whose last
    /// row is `lastSeq`, with `end` the stream's end read in the same snapshot as the rows.
    ///
    /// Leaving out the session's own changes, a page that ends the stream moves the cursor to
    /// `end`, not to the last change sent: otherwise a busy practice's subscription would read
    /// its own changes again at every push. Only an end of the rows' own snapshot may be used:
    /// an end read later would step over pushes committed in between.
    static func page(texts: [String], lastSeq: Int64?, more: Bool, after: Int64, askedWith cursor: Cursor?,
                     excludingOwn: Bool, end: Int64?) -> ChangesPage {
        var position = lastSeq ?? after
        if excludingOwn, !more, let end { position = max(position, end) }
        return ChangesPage(storedTexts: texts, cursor: position > after ? StreamCursor.cursor(at: position) : cursor ?? StreamCursor.cursor(at: 0),
                           more: more)
    }

    /// `pull`'s page of `rows` (sequence number, stored text; the query fetched `limit + 1` to
    /// know whether more follow), each text decoded. A row this version cannot read (stored by an
    /// older server, or damaged) goes out as it is: replicas set it aside and carry on, instead
    /// of every sync of the cluster stopping here (Protocol/changes.md §8).
    static func decoded(_ rows: [(Int64, String)], limit: Int, askedWith cursor: Cursor?) -> ChangesPage {
        let page = rows.prefix(PageBudget.rows(rows.lazy.map(\.1.utf8.count), limit: limit))
        var changes: [Change] = []
        changes.reserveCapacity(page.count)
        var unreadable: [UnreadableChange] = []
        for row in page {
            do throws(ClusterSyncError) {
                changes.append(try Change(jsonText: row.1))
            } catch {
                let text = (try? JSONValue(parsing: row.1).canonicalText) ?? JSONValue.string(row.1).canonicalText
                unreadable.append(UnreadableChange(text: text, error: error))
            }
        }
        return ChangesPage(
            changes: changes,
            cursor: page.last.map { StreamCursor.cursor(at: $0.0) } ?? cursor ?? StreamCursor.cursor(at: 0),
            more: rows.count > page.count, unreadable: unreadable)
    }

    /// A stored text as a page sends it: as it is when it can go out as one line of one JSON
    /// object; otherwise (a row damaged in the database) as a JSON string, which replicas set
    /// aside (Protocol/changes.md §8), as `pull` does.
    static func outgoing(_ text: String, sendableAsIs: Bool) -> String {
        sendableAsIs ? text : JSONValue.string(text).canonicalText
    }

    /// SQLite's part of `outgoingFromSQLite`'s check, read with the row: valid JSON.
    static let sqliteValidJSON = "json_valid(change_json)"

    /// `outgoing` with SQLite's check: valid JSON (`sqliteValidJSON`) on one line. The line
    /// breaks are looked for here: SQLite's `instr` walks a text character by character, and
    /// cost as much as the JSON check on every row of every page.
    static func outgoingFromSQLite(_ text: String, validJSON: Bool) -> String {
        outgoing(text, sendableAsIs: validJSON && !hasLineBreak(text))
    }

    /// `outgoing` with PostgreSQL's check, `isOneJSONLine`.
    static func outgoingByShape(_ text: String) -> String {
        outgoing(text, sendableAsIs: isOneJSONLine(text))
    }

    /// PostgreSQL's check for `outgoing`: one line, one object. PostgreSQL 15 has no JSON check
    /// that does not throw, and pushes store nothing but canonical text, so only a row altered in
    /// the database could pass this and fail the full check.
    static func isOneJSONLine(_ text: String) -> Bool {
        let bytes = text.utf8
        return bytes.first == UInt8(ascii: "{") && bytes.last == UInt8(ascii: "}") && !hasLineBreak(text)
    }

    /// Whether `text` holds a "\n" or "\r" (`memchr`, a word or a vector at a time).
    static func hasLineBreak(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, 10, bytes.count) != nil || memchr(base, 13, bytes.count) != nil
        }
    }
}
