import ClusterSyncCore
import Synchronization

/// Each cluster's roll-up as a store last aggregated it, so that a read-only (`pcpg`,
/// `health-board`) session's pull decodes only the contributions of clusters that changed
/// since. Aggregating a cluster means decoding every one of its kept contributions; a PCPG of
/// 20 clusters of 1,500 records did that 30,000 times at every pull, whatever had changed.
///
/// A cluster's roll-up can only change when a push to it stores changes (contributions are
/// rewritten in that push's transaction) or when the day moves on (overdue counts). So the
/// store reads the cluster's version, the sequence number of its newest log row, in the pull's
/// own transaction, and uses an entry only when the version and the day are the ones it was
/// aggregated at. Log rows are never removed (compaction blanks superseded rows' text and
/// keeps their numbers), so a version never returns once passed. It comes from the database,
/// not from this process, so a push another server node sharing a PostgreSQL store took
/// counts too.
final class ClusterRollupCache: Sendable {
    private struct Key: Hashable {
        let tenant: String
        let cluster: String
    }

    private struct Entry {
        let version: Int64
        let rollup: ClusterRollup
    }

    /// One entry per cluster read by a read-only session: a few kilobytes each, bounded by the
    /// clusters the store holds.
    private let entries = Mutex<[Key: Entry]>([:])

    /// The roll-up of a cluster aggregated at `version` on `today`, if one is kept.
    func rollup(tenant: String, cluster: String, version: Int64, today: CalendarDate) -> ClusterRollup? {
        entries.withLock { entries in
            guard let entry = entries[Key(tenant: tenant, cluster: cluster)], entry.version == version, entry.rollup.today == today else {
                return nil
            }
            return entry.rollup
        }
    }

    /// Keeps `rollup`, aggregated from the cluster's contributions as they were at `version`.
    func keep(_ rollup: ClusterRollup, version: Int64) {
        entries.withLock { entries in
            entries[Key(tenant: rollup.tenant, cluster: rollup.cluster)] = Entry(version: version, rollup: rollup)
        }
    }
}
