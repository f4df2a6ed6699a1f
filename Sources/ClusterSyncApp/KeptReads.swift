import ClusterSyncClient
import Dispatch
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
/// - The registers' records, which the risk register and the action tracker filter and sort
///   at every view (a cluster's 2,000 actions were read whole at each).
///
/// The version is read before what it keeps, so a commit made meanwhile moves it past what is
/// kept, and the next page reads again.
///
/// One read of a key at a time: after a change every open tab reloads at once (live updates),
/// and each read the same records beside the others, on two cores as long as all of them took
/// together. A page asking for what another is reading at the same version waits for it and
/// takes its value.
final class KeptReads: Sendable {
    private let version: ReplicaVersion
    private let state = Mutex(State())

    /// How long a page waits for another's read before reading for itself: far past any read
    /// measured, so only a read stuck for some other reason is stepped around.
    static let longestWait: DispatchTimeInterval = .seconds(20)

    private struct State {
        var version = 0
        var values: [String: any Sendable] = [:]
        /// The keys being read at `version`, each by one page; the group is left once its value
        /// is kept, or its read failed.
        var reading: [String: DispatchGroup] = [:]
    }

    private enum Claim {
        case kept(any Sendable)
        case readBy(DispatchGroup)
        case read(DispatchGroup)
        /// A later page already saw a newer version: read, and keep nothing.
        case readAlone
    }

    init(version: ReplicaVersion) {
        self.version = version
    }

    /// The value kept under `key`, if one is and the version still stands; nothing is read.
    func kept<Value: Sendable>(_ key: String, as: Value.Type = Value.self) -> Value? {
        guard let now = try? version.current() else { return nil }
        return held(key, at: now)
    }

    /// The value kept under `key` while the version stands, or `read`'s, then kept. `read` must
    /// not ask for `key` again at the same version (it would wait for itself until
    /// `longestWait`).
    func value<Value: Sendable>(_ key: String, read: () throws -> Value) throws -> Value {
        guard let now = try? version.current() else { return try read() }
        switch claim(key, at: now) {
        case .kept(let value):
            if let value = value as? Value { return value }
            return try read()
        case .readAlone:
            return try read()
        case .readBy(let group):
            if group.wait(timeout: .now() + Self.longestWait) == .success, let value: Value = held(key, at: now) { return value }
            // Its read failed, took too long, or the replica changed meanwhile: read here.
            let value = try read()
            keep(value, key, at: now)
            return value
        case .read(let group):
            defer { finish(key, group) }
            let value = try read()
            keep(value, key, at: now)
            return value
        }
    }

    private func claim(_ key: String, at now: Int) -> Claim {
        state.withLock { state in
            if state.version < now { state = State(version: now) }
            guard state.version == now else { return .readAlone }
            if let value = state.values[key] { return .kept(value) }
            if let group = state.reading[key] { return .readBy(group) }
            let group = DispatchGroup()
            group.enter()
            state.reading[key] = group
            return .read(group)
        }
    }

    private func keep(_ value: some Sendable, _ key: String, at now: Int) {
        state.withLock { state in
            // A page that began before a later one saw a newer version keeps nothing of its own.
            if state.version > now { return }
            if state.version < now { state = State(version: now) }
            state.values[key] = value
        }
    }

    private func finish(_ key: String, _ group: DispatchGroup) {
        state.withLock { state in
            if state.reading[key] === group { state.reading[key] = nil }
        }
        group.leave()
    }

    private func held<Value: Sendable>(_ key: String, at version: Int) -> Value? {
        state.withLock { $0.version == version ? $0.values[key] as? Value : nil }
    }
}
