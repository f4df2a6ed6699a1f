import Foundation

/// The author the server records on a change it accepts.
///
/// A change made by the pushing session's own replica gets the authenticated author. A change
/// the session relays for another replica (handed over offline with `merge`) cannot be
/// authenticated: it keeps the name it was made with, marked as relayed by the authenticated
/// author, so nobody can pass a change off as another practice's.
public enum AuthorStamp {
    public static func author(of change: Change, pushedBy identity: SessionIdentity, fromReplica replica: ReplicaID?) -> String {
        guard let replica, change.id.replica != replica else { return identity.author }
        var claimed = (change.author ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if claimed.isEmpty || claimed.count > 64 || claimed.unicodeScalars.contains(where: { $0.value < 0x20 })
            || PatientDataGuard.nhsNumber(in: claimed) != nil {
            claimed = "replica \(change.id.replica)"
        }
        return "\(claimed) via \(identity.author)"
    }
}
