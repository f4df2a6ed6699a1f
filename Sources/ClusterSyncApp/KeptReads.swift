import ClusterSyncClient
import Synchronization

/// What pages read from the replica that costs them most of their time at a cluster's size,
/// kept while the replica file stays as it was (`ReplicaVersion`, which sees this process's
/// commits, a watch's and another process's alike): most page views follow no change.
/// - Counting conflicts reads every live write: 30–60 ms a page on a replica holding 44,000
///   (MEASUREMENTS.md, forty-first session).
/// - The governance records (every meeting, decision, declaration and terms) and the records a
///   link field may name (a meeting's page offers every action, decision and declaration) were
///   four fifths of a meeting's page on a cluster of 2,000 actions and 1,600 decisions
///   (`perf`, fifty-second session).
///
/// The version is read before what it keeps, so a commit made meanwhile moves it past what is
/// kept, and the next page reads again.
final class KeptReads: Sendable {
    private let version: ReplicaVersion
    private let kept = Mutex<(version: Int, values: [String: any Sendable])?>(nil)

    init(version: ReplicaVersion) {
        self.version = version
    }

    /// The value kept under `key`, if one is and the version still stands; nothing is read.
    func kept<Value: Sendable>(_ key: String, as: Value.Type = Value.self) -> Value? {
        guard let now = try? version.current() else { return nil }
        return held(key, at: now)
    }

    /// The value kept under `key` while the version stands, or `read`'s, then kept.
    func value<Value: Sendable>(_ key: String, read: () throws -> Value) throws -> Value {
        guard let now = try? version.current() else { return try read() }
        if let value: Value = held(key, at: now) { return value }
        let value = try read()
        kept.withLock { kept in
            // A page that began before a later one saw a newer version keeps nothing of its own.
            if let was = kept?.version, was > now { return }
            if kept?.version != now { kept = (now, [:]) }
            kept?.values[key] = value
        }
        return value
    }

    private func held<Value: Sendable>(_ key: String, at version: Int) -> Value? {
        kept.withLock { $0?.version == version ? $0?.values[key] as? Value : nil }
    }
}
