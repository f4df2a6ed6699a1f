import ClusterSyncClient
import Synchronization

/// How many records are in conflict, as every page's menu shows it: counted again only when the
/// replica file has changed since (`ReplicaVersion`, which sees this process's commits, a
/// watch's and another process's alike). Counting reads every live write, 30–60 ms a page on a
/// replica holding 44,000 (MEASUREMENTS.md, forty-first session), and most page views follow no
/// change.
final class ConflictCount: Sendable {
    private let replica: Replica
    private let version: ReplicaVersion
    private let counted = Mutex<(version: Int, records: Int)?>(nil)

    init(replica: Replica, version: ReplicaVersion) {
        self.replica = replica
        self.version = version
    }

    /// Records with a conflict now. The version is read before counting, so a commit made while
    /// counting moves it past what is kept, and the next page counts again.
    func records() -> Int {
        guard let now = try? version.current() else { return (try? replica.conflictCounts().records) ?? 0 }
        if let kept = counted.withLock({ $0 }), kept.version == now { return kept.records }
        let records = (try? replica.conflictCounts().records) ?? 0
        counted.withLock { $0 = (now, records) }
        return records
    }
}
