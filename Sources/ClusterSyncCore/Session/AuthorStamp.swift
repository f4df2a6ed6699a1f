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

/// The practice and the person a stored author names, read from the form the server stamps
/// (PROTOCOL.md §6.1): `<practice> (<label>)` for a token's session, `<practice>` for a
/// certificate's. An author stamped before signed changes as `<maker> via <relayer>` names the
/// maker as it claimed to be, and no practice; a name that is not a stamp (a change not yet
/// synced, made under the replica's `--name`) is a person without a practice.
public struct AuthorParts: Sendable, Equatable {
    public var practice: String?
    public var person: String?

    public init(practice: String?, person: String?) {
        self.practice = practice
        self.person = person
    }

    public init(author: String?) {
        guard let author else {
            self.init(practice: nil, person: nil)
            return
        }
        if let via = author.range(of: " \(AuthorName.relayWord) ") {
            self.init(practice: nil, person: String(author[..<via.lowerBound]))
            return
        }
        if author.hasSuffix(")"), let open = author.range(of: " (") {
            let practice = String(author[..<open.lowerBound])
            let label = String(author[open.upperBound..<author.index(before: author.endIndex)])
            if Self.isPracticeName(practice), !label.isEmpty {
                self.init(practice: practice, person: label)
                return
            }
        }
        if Self.isPracticeName(author) {
            self.init(practice: author, person: nil)
            return
        }
        self.init(practice: nil, person: author)
    }

    /// The server's rule for practice names: 1 to 64 of A-Z a-z 0-9 . _ -, starting with a
    /// letter or digit.
    static func isPracticeName(_ name: String) -> Bool {
        let utf8 = Array(name.utf8)
        func isAlnum(_ c: UInt8) -> Bool {
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
        }
        guard (1...64).contains(utf8.count), isAlnum(utf8[0]) else { return false }
        return utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}
