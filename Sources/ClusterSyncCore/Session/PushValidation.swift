import Foundation

/// Why a push was refused: the first change at fault and what was wrong with it.
public struct PushRejection: Error, Sendable, Hashable {
    /// The change at fault, carried in the wire error's "change".
    public var change: ChangeID
    /// `forbiddenScope`, `clockSkew`, or a validation error (`unknownField`, `invalidValue`,
    /// `patientData`); its message names the change and what was wrong.
    public var error: ClusterSyncError

    public init(change: ChangeID, error: ClusterSyncError) {
        self.change = change
        self.error = error
    }
}

/// The checks a server makes on a push before storing it (Protocol/PROTOCOL.md, "push"): the
/// one admission rule (`ChangeAdmission`) on each change, with the limits announced in the
/// session's welcome. Pure: the clock is passed in.
public enum PushValidation {
    /// Checks each change in order with `ChangeAdmission(session:limits:)`: scope
    /// (`forbidden-scope`), clock (`clock-skew`), schema (`unknown-field`, `invalid-value`,
    /// `patient-data`) and structure (`invalid-value`). Throws for the first change that fails,
    /// so the batch is refused whole.
    ///
    /// The number of changes is the state machine's concern (`batch-too-large`); whether a
    /// record already lives in another scope, and whose a replica id is, are the store's
    /// (`ChangeAdmission.recordScope(_:existing:)`, `ReplicaOwnership`).
    ///
    /// Then, last (it is the costliest check), each change's signature against its maker's
    /// registered key (`ChangeSignature.verify`, `bad-signature`): `keys` holds the keys the
    /// server has registered for the makers (the replica of each change id) in the session's
    /// tenant and cluster; a maker missing from it has registered none.
    ///
    /// `inParallel` runs a large batch's runs of signatures (each on its own thread, returning
    /// once all have ended); by default on every core at the caller's priority.
    public static func validate(
        _ push: Push, for identity: SessionIdentity, nowMillis: Int64, limits: WireLimits, keys: [ReplicaID: ReplicaPublicKey],
        inParallel: ParallelRuns = onEveryCore
    ) throws(PushRejection) {
        if let refusal = identity.role.writeRefusal, let first = push.changes.first {
            throw PushRejection(change: first.id, error: refusal)
        }
        let rule = ChangeAdmission(session: identity, limits: limits)
        // The signatures are checked first, on every core; the outcome is as if each change
        // were checked whole in order: admission, then its signature.
        let badSignature = firstBadSignature(push.changes, keys: keys, inParallel: inParallel)
        for (index, change) in push.changes.enumerated() {
            do throws(ClusterSyncError) {
                try rule.check(change, nowMillis: nowMillis)
                if let badSignature, badSignature.index == index { throw badSignature.error }
            } catch {
                throw PushRejection(change: change.id, error: error)
            }
        }
    }

    /// Runs `body(run)` for each run in `0..<runs`, each on its own thread where it can, and
    /// returns once every run has ended.
    public typealias ParallelRuns = @Sendable (_ runs: Int, _ body: @escaping @Sendable (_ run: Int) -> Void) -> Void

    /// One thread per run, on every core (Dispatch's `concurrentPerform`).
    public static let onEveryCore: ParallelRuns = { runs, body in DispatchQueue.concurrentPerform(iterations: runs, execute: body) }

    /// Read once: on Linux each read of `activeProcessorCount` reads the cgroup's files, a cost
    /// a one-change push would pay on every push.
    static let coreCount = ProcessInfo.processInfo.activeProcessorCount

    /// The first change (in batch order) whose signature does not verify, and why. A large
    /// batch is split in one run of changes per core: an Ed25519 check costs far more than the
    /// other checks and than storing the change, and a session's push would otherwise keep the
    /// server on one core. A merge of two replica files checks what each receives with it too.
    public static func firstBadSignature(
        _ changes: [Change], keys: [ReplicaID: ReplicaPublicKey], minimumPerWorker: Int = 64, inParallel: ParallelRuns = onEveryCore
    ) -> (index: Int, error: ClusterSyncError)? {
        @Sendable func firstBad(in range: Range<Int>) -> (index: Int, error: ClusterSyncError)? {
            for index in range {
                do throws(ClusterSyncError) {
                    try ChangeSignature.verify(changes[index], key: keys[changes[index].id.replica])
                } catch {
                    return (index, error)
                }
            }
            return nil
        }
        let perWorker = max(1, minimumPerWorker)
        let workers = changes.count < 2 * perWorker ? 1 : min(coreCount, changes.count / perWorker)
        guard workers > 1 else { return firstBad(in: changes.indices) }
        let chunk = (changes.count + workers - 1) / workers
        // Each worker writes only its own slot.
        var found = [(index: Int, error: ClusterSyncError)?](repeating: nil, count: workers)
        found.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let slots = buffer
            inParallel(workers) { worker in
                let start = min(changes.count, worker * chunk)
                slots[worker] = firstBad(in: start..<min(changes.count, start + chunk))
            }
        }
        // The workers' runs are in batch order: the first run with a bad change holds the first.
        return found.lazy.compactMap { $0 }.first
    }
}
