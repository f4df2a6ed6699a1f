/// How far a pushed change may reach into other replicas' changes: it may supersede (`sup`) or
/// have seen (`seen`) another replica's change only when the server holds that change, stored
/// before the push or accepted earlier in it (PROTOCOL.md §6, step 10).
///
/// A store keeps a supersession of a change it has not received, and stores the change already
/// superseded when it arrives (a replica merged it from a file, edited over it, and its maker
/// pushes it later); a delete's `seen` likewise takes a later edit for one the deleter saw.
/// Without this rule a practice could name a change its lead has not made yet (a replica's
/// counter goes up by one a change but after a restore, and every pulled id shows it), or one held back at the lead
/// (a gap below the lead's latest), and so cancel the lead's escalation, closure or agreed plan
/// before it was made: no lead power is judged against a value nobody holds (the forty-sixth
/// session's security review, and its review of the first fix, which bounded ids by each
/// replica's highest counter only).
///
/// An honest client supersedes only changes it holds, and holds only what the server sent it or
/// what it merged from another replica's file. The second case is refused here until the
/// merged change's maker syncs it; the reference client holds the change back and pushes it
/// again at its next sync (`ClusterSyncError.Code.supersedesUnsynced`). A replica's own changes
/// are never checked: superseding one's own unpushed change is the ordinary case.
///
/// A change of a retired replica (`ReplicaKeys.admitNew`) may be superseded whether the store
/// holds it or not: the store will never take it, so nothing can arrive to be cancelled, and a
/// practice that merged a lost laptop's file must be able to write over what it brought
/// (retirement cannot be undone, so no later change of that replica is reached either).
///
/// Pure: the store passes in which of `idsToRead` it holds and which of `makersToAsk` are
/// retired, and `admit` follows the push's accepted changes.
public struct SupersessionReach: Sendable {
    private var held: Set<ChangeID>
    private let retired: Set<ReplicaID>

    /// `held`: those of `idsToRead` the store holds in the pushing cluster (a compacted change's
    /// log row counts: it was received); `retired`: those of `makersToAsk` that are retired.
    public init(held: Set<ChangeID>, retired: Set<ReplicaID> = []) {
        self.held = held
        self.retired = retired
    }

    /// The makers of the ids the store does not hold: only they are asked whether they are
    /// retired, so a push that reaches only held changes (nearly every one) reads nothing more.
    public static func makersToAsk(_ ids: Set<ChangeID>, held: Set<ChangeID>) -> Set<ReplicaID> {
        Set(ids.subtracting(held).map(\.replica))
    }

    /// The ids `check` asks about: other replicas' changes the changes supersede or have seen.
    public static func idsToRead(_ changes: some Sequence<Change>) -> Set<ChangeID> {
        var ids = Set<ChangeID>()
        for change in changes {
            for id in change.supersedes where id.replica != change.id.replica { ids.insert(id) }
            for id in change.seen where id.replica != change.id.replica { ids.insert(id) }
        }
        return ids
    }

    /// Refuses `change` when it supersedes or has seen another replica's change the store does
    /// not hold, stored or accepted earlier in the push.
    public func check(_ change: Change) throws(ClusterSyncError) {
        for id in change.supersedes + change.seen where id.replica != change.id.replica && !held.contains(id) && !retired.contains(id.replica) {
            throw ClusterSyncError(.supersedesUnsynced, """
                change \(change.id) \(change.supersedes.contains(id) ? "supersedes" : "has seen") \(id), which this server has not \
                been given; nothing of this push was stored. The change waits until replica \(id.replica) syncs that one: the \
                reference client holds it back, pushes the rest again without it, and pushes it once that change has reached \
                the server.
                """, field: change.field)
        }
    }

    /// `change` as the lead's powers judge it (`LeadPowers`): without the retired replicas'
    /// changes the store does not hold, which will never arrive, so superseding them decides
    /// nothing. (Judged as another practice's values the store cannot read, an edit over a lost
    /// laptop's retitling, which also replaces the title it replaced, looked like settling a
    /// conflict.)
    public func judged(_ change: Change) -> Change {
        guard !retired.isEmpty else { return change }
        func arrives(_ id: ChangeID) -> Bool { held.contains(id) || !retired.contains(id.replica) }
        var judged = change
        judged.supersedes = change.supersedes.filter(arrives)
        judged.seen = change.seen.filter(arrives)
        return judged
    }

    /// Notes a change the push stores: later changes of the push may supersede it.
    public mutating func admit(_ change: Change) {
        held.insert(change.id)
    }
}
