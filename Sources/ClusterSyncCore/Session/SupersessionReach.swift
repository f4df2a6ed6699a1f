/// How far a pushed change may reach when it supersedes another replica's changes: no further
/// than the latest change of that replica the server holds (PROTOCOL.md §6, step 10).
///
/// A store keeps a supersession of a change it has not received as an orphan, and the change is
/// stored already superseded when it arrives (a replica merged it from a file, edited over it,
/// and its maker pushes it later). Without a bound a practice could name a change its lead has
/// not made yet (a replica's counter goes up by one a change, and every pulled id shows it) and
/// so cancel the lead's next escalation, closure or agreed plan before it was made: no lead
/// power is checked against a value nobody holds (a security review, forty-sixth session).
///
/// An honest client supersedes only changes it holds, and holds only what the server sent it or
/// what it merged from another replica's file. The second case is refused here until the
/// merged change's maker syncs it; the reference client holds the change back and pushes it
/// again at its next sync (`ClusterSyncError.Code.supersedesUnsynced`). A replica's own changes
/// are never bounded: superseding one's own unpushed change is the ordinary case.
///
/// Pure: the store passes in the highest counter it holds of each replica `replicasToRead`
/// names, and `admit` follows the push's accepted changes.
public struct SupersessionReach: Sendable {
    private var highest: [ReplicaID: Int64]

    /// `highestStored`: of each replica in `replicasToRead`, the highest counter of a change the
    /// store holds in the pushing cluster (a compacted change's row counts: it was received).
    /// A replica absent from it has nothing stored.
    public init(highestStored: [ReplicaID: Int64]) {
        highest = highestStored
    }

    /// The replicas whose highest stored counter `check` reads: those the changes supersede,
    /// other than each change's own maker.
    public static func replicasToRead(_ changes: some Sequence<Change>) -> Set<ReplicaID> {
        var replicas = Set<ReplicaID>()
        for change in changes {
            for id in change.supersedes where id.replica != change.id.replica { replicas.insert(id.replica) }
        }
        return replicas
    }

    /// Refuses `change` when it supersedes another replica's change later than any the store
    /// holds of that replica, stored or accepted earlier in the push.
    public func check(_ change: Change) throws(ClusterSyncError) {
        for id in change.supersedes where id.replica != change.id.replica {
            guard let held = highest[id.replica], id.counter <= held else {
                throw ClusterSyncError(.supersedesUnsynced, """
                    change \(change.id) supersedes \(id), which this server has not been given yet: \
                    it waits until replica \(id.replica) syncs that change (the reference client holds it back \
                    and pushes it again at its next sync)
                    """, field: change.field)
            }
        }
    }

    /// Notes a change the push stores: later changes of the push may supersede it.
    public mutating func admit(_ change: Change) {
        if change.id.counter > highest[change.id.replica, default: 0] { highest[change.id.replica] = change.id.counter }
    }
}
