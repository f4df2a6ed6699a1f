import ClusterSyncCore
import Synchronization

/// Each cluster's listed records (`ServerOversight.visible`: what a read-only role may hold) as
/// a store last found them, by the cluster's version, so that a read-only session's pull does not
/// search a cluster nothing was pushed to since. Finding them was a fifth of a PCPG's pull in
/// `perf` once the roll-up was kept (MEASUREMENTS.md, thirty-fourth session), and on PostgreSQL
/// it loads the escalated records' histories into a scratch database.
///
/// What lists a record is a change stored in its own cluster (PROTOCOL.md §7.1), and every
/// change stored there moves the cluster's version, the sequence number of its newest log row,
/// which never returns (`ClusterRollupCache`, whose argument this is): a listing made at a
/// version stands while the version does. The version is read from the database in the pull's
/// own transaction, so a push another node took counts too.
///
/// Memory: per cluster and read-only role, the listed records' views (a few hundred bytes each).
final class ListedRecordsCache: Sendable {
    private struct Key: Hashable {
        let tenant: String
        let cluster: String
        let role: CredentialRole
    }

    private let entries = Mutex<[Key: (version: Int64, listed: ServerOversight.ListedRecords)]>([:])

    /// The listing of `cluster` for `role` made at `version`; nil when there is none to reuse.
    func listed(tenant: String, cluster: String, role: CredentialRole, version: Int64) -> ServerOversight.ListedRecords? {
        entries.withLock { entries in
            entries[Key(tenant: tenant, cluster: cluster, role: role)].flatMap { $0.version == version ? $0.listed : nil }
        }
    }

    /// Keeps a listing made at `version`, unless one made at a later version is kept already.
    func keep(_ listed: ServerOversight.ListedRecords, tenant: String, cluster: String, role: CredentialRole, version: Int64) {
        entries.withLock { entries in
            let key = Key(tenant: tenant, cluster: cluster, role: role)
            if let current = entries[key], current.version > version { return }
            entries[key] = (version, listed)
        }
    }
}
