import Foundation
import GRDB
import Synchronization

/// Group commit for the SQLite server store: the writes of concurrent sessions (pushes, the
/// session log and a credential's last use at hello, key registrations) are committed together,
/// in one transaction and so one fsync, by one writer.
///
/// SQLite has a single writer and the store commits with `synchronous = FULL`, so each write
/// transaction costs an fsync of the write-ahead log; under load (thousands of sessions starting
/// at once, each writing at hello and pushing) the sessions queued behind each other's fsyncs.
/// Here a write waits in a queue while the writer is busy; when the writer is free it takes
/// every waiting write (up to `maxGroup`) and runs them in one transaction, each inside its own
/// savepoint: a write that throws (a refused push, a name that exists already) is rolled back
/// alone and gets its error, the others commit. Each caller is answered only after the commit,
/// so an `ack` still means the changes are on disk. Each write sees the ones before it in its
/// group (the sequence, the chain head), so sequences stay gap-free and the chain unbroken.
///
/// If SQLite itself abandons the transaction (a full disk, an I/O error), every write of the
/// group fails with that error: what the earlier ones wrote is gone with the transaction.
final class GroupCommit: Sendable {
    private let database: DatabasePool
    private let maxGroup: Int

    private struct Job: Sendable {
        /// Runs the write inside the group's transaction (inside its savepoint); keeps its result.
        let run: @Sendable (Database) throws -> Void
        /// Answers the caller once the group has committed (nil) or failed.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct Queue: ~Copyable {
        var waiting: [Job] = []
        var writing = false
        /// Groups committed (for tests: how many transactions the writes took).
        var groups = 0
    }

    private let queue = Mutex(Queue())

    /// At most 32 writes a group (256 before the fifteenth session). Every write of a group is
    /// answered at its commit, and a client pulls as soon as its push is acknowledged: with 1,000
    /// practices pushing at once, groups of 256 answered 256 pushes together and the pulls that
    /// followed queued behind each other (pull p99 120–595 ms, against 163–288 ms with 32;
    /// MEASUREMENTS.md, fifteenth session). An fsync per 32 writes costs a few milliseconds a
    /// thousand.
    static let defaultMaxGroup = 32

    init(database: DatabasePool, maxGroup: Int = defaultMaxGroup) {
        self.database = database
        self.maxGroup = maxGroup
    }

    /// Runs `updates` in the next group's transaction and returns its result once that
    /// transaction has committed. Throws what `updates` threw (its savepoint rolled back, the
    /// rest of the group unaffected), or the commit's error.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = ResultSlot<T>()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let job = Job(run: { db in result.set(try updates(db)) }, finish: { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            })
            let startWriter = queue.withLock { queue -> Bool in
                queue.waiting.append(job)
                if queue.writing { return false }
                queue.writing = true
                return true
            }
            if startWriter { database.asyncWriteWithoutTransaction { db in self.drain(db) } }
        }
        return result.take()
    }

    /// How many writes wait for the writer, and how many groups have committed (tests use these
    /// to wait, with a deadline, until writes have queued behind a busy writer).
    var waiting: Int { queue.withLock { $0.waiting.count } }
    var groupsCommitted: Int { queue.withLock { $0.groups } }

    /// The writer, on the database's writer queue: commits the waiting writes as one group, then
    /// comes back for the next one behind whatever else the queue holds (a checkpoint waits one
    /// group, not until pushes stop). Run there rather than in a task that awaits each
    /// transaction, which took two more thread hand-overs per commit (to the task, and to the
    /// writer queue and back).
    private func drain(_ db: Database) {
        let group = queue.withLock { queue -> [Job] in
            let taken = Array(queue.waiting.prefix(maxGroup))
            queue.waiting.removeFirst(taken.count)
            if taken.isEmpty { queue.writing = false }
            return taken
        }
        if group.isEmpty { return }
        commit(group, db)
        database.asyncWriteWithoutTransaction { db in self.drain(db) }
    }

    private func commit(_ group: [Job], _ db: Database) {
        var outcomes: [(any Error)?] = []
        outcomes.reserveCapacity(group.count)
        do {
            try db.inTransaction(.immediate) {
                for job in group {
                    do {
                        try db.inSavepoint {
                            try job.run(db)
                            return .commit
                        }
                        outcomes.append(nil)
                    } catch {
                        // SQLite rolled the whole transaction back (an I/O error, a full disk):
                        // the group's earlier writes are gone too.
                        guard db.isInsideTransaction else { throw error }
                        outcomes.append(error)
                    }
                }
                return .commit
            }
        } catch {
            queue.withLock { $0.groups += 1 }
            for job in group { job.finish(error) }
            return
        }
        queue.withLock { $0.groups += 1 }
        for (job, outcome) in zip(group, outcomes) { job.finish(outcome) }
    }
}

/// One write's result, set on the writer's thread before its caller resumes.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?

    func set(_ newValue: T) { lock.withLock { value = newValue } }
    func take() -> T { lock.withLock { value! } }
}
