/// Whose a replica id is, inside one cluster, and what a store does with a pushed change
/// because of it (Protocol/PROTOCOL.md §6, "Replica ids are bound to a practice").
///
/// A change id (`counter@replica`) is unique only within its tenant and cluster: every store
/// keys change ids, replica ids and record ids there, so nothing one tenant or cluster pushes
/// touches another's. Inside a cluster, the first practice that pushes as a replica (the replica
/// id of its `hello`) owns that replica id. Another practice may relay that replica's changes
/// (handed over offline with `merge`) only as the server already has them; anything else claiming
/// the replica is refused, so no practice can suppress another's genuine later changes by pushing
/// their ids first. A change of a replica no practice owns yet is stored as a relay, as before.
///
/// Pure, and the same for every store: a store looks up the owner and, when the decision needs
/// it, its stored copy of the change, then does what the decision says.
public enum ReplicaOwnership {
    public enum Decision: Sendable, Equatable {
        /// Store the change unless the store already has its id, which makes it a duplicate. If
        /// `bindTo` is set, first record that practice as the owner of the change's replica id.
        case store(bindTo: String?)
        /// The server already has this very change: count it as a duplicate, store nothing.
        case duplicate
        /// Refuse the push (`forbidden-scope`).
        case refuse(ClusterSyncError)
    }

    /// Whether `decide` needs the store's copy of a change with the same id: only when the
    /// replica is owned by another practice than the pusher's.
    public static func needsStoredCopy(owner: String?, pushedBy practice: String) -> Bool {
        owner != nil && owner != practice
    }

    /// - Parameters:
    ///   - change: the pushed change.
    ///   - practice: the pushing session's practice.
    ///   - sessionReplica: the replica id of the session's `hello` (nil: every change is the
    ///     session's own, as for changes stored by an administrator's tool).
    ///   - owner: the practice that owns `change.id.replica` in the change's cluster, if any.
    ///   - stored: the store's change with the same id in that cluster, when
    ///     `needsStoredCopy(owner:pushedBy:)`; ignored otherwise.
    public static func decide(_ change: Change, pushedBy practice: String, sessionReplica: ReplicaID?,
                              owner: String?, stored: Change?) -> Decision {
        if let owner, owner != practice {
            if let stored, sameChange(stored, change) { return .duplicate }
            return .refuse(ClusterSyncError(.forbiddenScope,
                "change \(change.id) claims replica \(change.id.replica), which is another practice's replica in this cluster; "
                + "a practice may pass on another's changes only exactly as the server already has them"))
        }
        let own = sessionReplica == nil || change.id.replica == sessionReplica
        return .store(bindTo: owner == nil && own ? practice : nil)
    }

    /// A change whose id the store already holds, pushed again: a duplicate when it is the same
    /// change (a resend whose `ack` was lost, a relay: `isResend`); refused when its contents
    /// differ. Two files of one replica id number their changes alike (a replica file copied to
    /// a second laptop and both edited, a replica restored from a backup that made changes
    /// before it synced), and the second of each pair was counted a duplicate and dropped
    /// without a word: its practice's edit never reached anyone. `stored` nil: the store no
    /// longer has the text (compacted), and a duplicate is all it can say.
    public static func checkResent(_ pushed: Change, stored: Change?) throws(ClusterSyncError) {
        guard let stored, !isResend(pushed, of: stored) else { return }
        throw ClusterSyncError(.invalidValue,
            "change \(pushed.id) was received before with other contents: this replica file and another number their changes alike "
            + "(a copy of it, or a backup it was restored from, made changes too). Nothing of the batch was stored. Keep this file's "
            + "changes by making a new replica (`clustersync init`) and entering them there", field: "id")
    }

    /// `checkResent` for a store's push: a refusal names the change, and nothing of the push is stored.
    public static func refuseAlteredResend(_ pushed: Change, stored: Change?) throws(PushRejection) {
        do throws(ClusterSyncError) {
            try checkResent(pushed, stored: stored)
        } catch {
            throw PushRejection(change: pushed.id, error: error)
        }
    }

    /// Whether two changes under one id are the same change: `sameChange`, whatever their
    /// `sig` (a change signed after it was first stored, by a replica upgraded to signing, is
    /// still the change). Where a store or a replica meets two copies of one id, this decides.
    public static func isResend(_ a: Change, of b: Change) -> Bool {
        var a = a, b = b
        a.sig = nil
        b.sig = nil
        return sameChange(a, b)
    }

    /// The same change byte for byte, but for `author`, which the server stamps (a relayed copy
    /// carries the stamped author or the one it was made with).
    /// A stored copy whose value a redaction erased matches a copy that still carries the value
    /// (a replica that had not heard of the redaction): the server keeps its erased copy.
    public static func sameChange(_ a: Change, _ b: Change) -> Bool {
        var a = a, b = b
        a.author = nil
        b.author = nil
        if Redaction.isMarker(a.value) || Redaction.isMarker(b.value) {
            a.value = nil
            b.value = nil
        }
        return a.jsonText == b.jsonText
    }
}
