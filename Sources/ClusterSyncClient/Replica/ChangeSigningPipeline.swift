import ClusterSyncCore
import Dispatch
import Foundation

/// Signs a local edit session's changes on the other cores while the session goes on making
/// them, and hands them back signed, in the order they were made, as the session writes them.
///
/// An Ed25519 signature costs more than planning and writing a change (MEASUREMENTS.md,
/// twenty-second session). Signing a batch only once it was complete left the writing thread
/// idle while both cores signed and the other core idle while it planned and wrote; now the
/// signatures overlap both.
///
/// Workers are started only once `workerThreshold` changes wait unsigned, and each exits as
/// soon as nothing waits: none is left behind when a session is abandoned (an edit refused
/// halfway), and a small session is signed on its own thread as before.
final class ChangeSigningPipeline: @unchecked Sendable {
    /// Changes a worker claims at once.
    static let chunk = 32
    static let workerThreshold = 64

    private let key: ReplicaSigningKey
    private let maxWorkers: Int
    /// Guards everything below (a worker holds it only to claim or hand back a chunk).
    private let condition = NSCondition()
    private var unsigned: [Change] = []
    private var signed: [Change?] = []
    /// The first position no signer has claimed.
    private var claimed = 0
    /// The first position not yet handed to the writer.
    private var taken = 0
    /// Workers asked of Dispatch and not yet running, and those running: only a running one is
    /// ever waited for (a queued one may wait for a thread while every thread waits for it).
    private var queued = 0
    private var running = 0

    /// Read once: on Linux each read of `activeProcessorCount` reads the cgroup's files, and a
    /// pipeline is made for every transaction of edits.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    init(key: ReplicaSigningKey, cores: Int = ChangeSigningPipeline.cores) {
        self.key = key
        maxWorkers = max(0, cores - 1)
    }

    /// Queues a change to be signed (in order, after those submitted before it).
    func submit(_ change: Change) {
        let startWorker = condition.withLock {
            unsigned.append(change)
            signed.append(nil)
            guard queued + running < maxWorkers, unsigned.count - claimed >= Self.workerThreshold else { return false }
            queued += 1
            return true
        }
        if startWorker {
            DispatchQueue.global(qos: .userInitiated).async { self.work() }
        }
    }

    var isEmpty: Bool { condition.withLock { taken == unsigned.count } }

    /// Hands every submitted change, signed and in order, to `write`, in runs as they become
    /// ready; this thread signs too whenever nothing is ready to write. Returns once all are
    /// written and every worker has stopped, so the pipeline is empty for the next batch, also
    /// when `write` throws.
    func drain(_ write: ([Change]) throws -> Void) throws {
        defer { reset() }
        while true {
            enum Step { case write([Change]), sign(Range<Int>), done }
            let step: Step = condition.withLock {
                while true {
                    if taken == unsigned.count { return .done }
                    if signed[taken] != nil {
                        var run: [Change] = []
                        while taken < signed.count, let change = signed[taken] {
                            run.append(change)
                            taken += 1
                        }
                        return .write(run)
                    }
                    if claimed < unsigned.count { return .sign(claim()) }
                    condition.wait()
                }
            }
            switch step {
            case .done: return
            case .write(let run): try write(run)
            case .sign(let range): sign(range)
            }
        }
    }

    /// Claims the next chunk of unsigned positions; called holding the lock.
    private func claim() -> Range<Int> {
        let range = claimed..<min(unsigned.count, claimed + Self.chunk)
        claimed = range.upperBound
        return range
    }

    private func sign(_ range: Range<Int>) {
        let changes = condition.withLock { Array(unsigned[range]) }
        let done = changes.map { ChangeSignature.signed($0, with: key) }
        condition.withLock {
            for (offset, change) in done.enumerated() { signed[range.lowerBound + offset] = change }
            condition.broadcast()
        }
    }

    /// A worker: signs chunks until none is left to claim. One that starts late finds nothing,
    /// or helps with the next batch.
    private func work() {
        condition.withLock {
            queued -= 1
            running += 1
        }
        while true {
            let range: Range<Int>? = condition.withLock {
                guard claimed < unsigned.count else {
                    running -= 1
                    condition.broadcast()
                    return nil
                }
                return claim()
            }
            guard let range else { return }
            sign(range)
        }
    }

    /// Waits for the running workers to stop (each stops once nothing is left to claim:
    /// nothing is claimed after this begins), then empties the pipeline.
    private func reset() {
        condition.withLock {
            claimed = unsigned.count
            while running > 0 { condition.wait() }
            unsigned.removeAll(keepingCapacity: true)
            signed.removeAll(keepingCapacity: true)
            claimed = 0
            taken = 0
        }
    }
}
