import ClusterSyncCore
import ClusterSyncStorage
import GRDB

extension Replica {
    /// Applies a page of a snapshot (PROTOCOL.md §5.7) and stores its cursor, in one transaction.
    ///
    /// The first page (`first`) replaces the materialised state: every record, change and
    /// redaction goes, except the changes this replica still owes the server (its outbox) or
    /// holds back, which are written again before the page. The state a snapshot carries is
    /// what a replica that replayed the history holds live (and the list slots and redactions
    /// beside it), so the result exports the same bytes. The later pages add to it; the last
    /// one's cursor is a stream cursor from which pulls go on.
    public func applySnapshot(_ page: Snapshot, first: Bool) throws -> ApplyOutcome {
        let cursor = page.more ? nil : page.cursor
        let outcome = try apply(page.changes, unreadable: page.unreadable, origin: .server, cursor: page.cursor,
                                retrySetAside: !page.more, oversight: page.oversight, more: page.more) { db in
            if first { try Self.replaceState(db) }
            // The last page's cursor is the stream position the whole snapshot stands for.
            if let cursor { try db.execute(sql: "UPDATE remote SET snapshot_cursor = ?", arguments: [cursor.rawValue]) }
        }
        try forgetHeldBack(page.changes)
        // A snapshot holds live writes only: a change an edit held back waited for may have been
        // superseded since, and never come. After the last page every such edit goes again, as
        // at the start of a sync run (the session's machine lets each be refused once more).
        if !page.more { try releaseHeldBack(coded: .supersedesUnsynced) }
        return outcome
    }

    /// Where the state was last replaced by a snapshot; nil if this replica replayed its history.
    public func snapshotCursor() throws -> ClusterSyncCore.Cursor? {
        try database.read { db in
            try String.fetchOne(db, sql: "SELECT snapshot_cursor FROM remote").map(ClusterSyncCore.Cursor.init)
        }
    }

    /// A record's history as `clustersync history` shows it: on a replica that took a snapshot
    /// (`snapshotCursor()` not nil), the server's copy of the record's changes joined with this
    /// replica's (its unpushed edits), each change once (as the server stamped it), in clock
    /// order; elsewhere this replica's own. `compacted`: the server no longer keeps changes
    /// superseded before its compaction horizon. Throws only when asking the server fails.
    public func fullHistory(of record: RecordID, asking server: (RecordID) async throws -> (changes: [Change], compacted: Bool))
        async throws -> (changes: [Change], fromServer: Bool, compacted: Bool)
    {
        let local = try history(of: record)
        guard try snapshotCursor() != nil else { return (local, false, false) }
        let fetched = try await server(record)
        var byID: [ChangeID: Change] = [:]
        for change in local { byID[change.id] = change }
        for change in fetched.changes { byID[change.id] = change }
        let ordered = byID.values.sorted {
            ($0.hlc.packed, $0.id.replica.rawValue, $0.id.counter) < ($1.hlc.packed, $1.id.replica.rawValue, $1.id.counter)
        }
        return (ordered, true, fetched.compacted)
    }

    /// The changes in the outbox or held back, read from those two tables (`outboxChanges`
    /// says why so).
    static let owedChanges = """
        (SELECT replica, counter FROM outbox UNION SELECT replica, counter FROM held_back) o
        CROSS JOIN change c ON c.replica = o.replica AND c.counter = o.counter
        """

    static func replaceState(_ db: Database) throws {
        // Unacknowledged and held-back changes are this replica's to keep whatever the server says.
        let owed = try ChangeReader.changes(db, from: owedChanges)
        try db.execute(sql: """
            DELETE FROM change;
            DELETE FROM orphan_supersede;
            DELETE FROM record;
            DELETE FROM redaction;
            UPDATE identity SET supersessions_in_changes = 1;
            UPDATE remote SET state_partial = 1;
            """)
        // Each change of the snapshot names the writes it superseded, which the snapshot leaves
        // out: those names are read from the changes, not copied into a row each.
        var writer = try Self.changeWriter(db)
        _ = try writer.apply(owed)
    }
}
