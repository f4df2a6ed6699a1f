import ClusterSyncCore

/// What every store answers a pull from before its compaction point (PROTOCOL.md §7.2), in one
/// place so the SQLite, PostgreSQL and in-memory stores say the same words.
public enum CompactedHistory {
    public static func cursorExpired(through: Int64, after: Int64) -> ClusterSyncError {
        ClusterSyncError(.cursorExpired,
            "this server compacted its history through position \(through), and the pull starts at \(after): "
            + "pull with \"snapshot\":true for the current state, then pull on from its cursor")
    }
}
