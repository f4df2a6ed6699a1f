/// The author the server records on a change it accepts (Protocol/PROTOCOL.md §6.1).
///
/// A change made by the pushing session's own replica gets the authenticated author. A change
/// the session relays for another replica (handed over offline with `merge`) cannot be
/// authenticated: it keeps the name it was made with, sanitised by ``AuthorName`` (so it holds no
/// "via" of its own), followed by " via " and the authenticated author. A stored author therefore
/// has at most one "via", and what follows it is always a practice the server authenticated: a
/// client cannot make a change read "A via B", nor stack relays. A claimed name with nothing
/// usable left, or one that looks like an NHS number, is replaced by `replica <id>`.
///
/// The client applies the same function to its copies with the `author` of the `ack`, so both
/// ends hold the same bytes without the ack listing every change.
public enum AuthorStamp {
    public static func author(of change: Change, pushedBy identity: SessionIdentity, fromReplica replica: ReplicaID?) -> String {
        author(of: change, stampedAs: identity.author, fromReplica: replica)
    }

    /// The author stored for `change`, pushed by the replica `replica` (nil: the session named no
    /// replica, and every change counts as its own) of a session whose authenticated author is
    /// `author` (the `ack`'s `author`).
    public static func author(of change: Change, stampedAs author: String, fromReplica replica: ReplicaID?) -> String {
        guard let replica, change.id.replica != replica else { return author }
        return "\(relayedName(change)) via \(author)"
    }

    /// The maker's name of a relayed change, as it is shown before " via ".
    static func relayedName(_ change: Change) -> String {
        guard let claimed = change.author.flatMap(AuthorName.sanitised), PatientDataGuard.nhsNumber(in: claimed) == nil else {
            return "replica \(change.id.replica)"
        }
        return claimed
    }
}
