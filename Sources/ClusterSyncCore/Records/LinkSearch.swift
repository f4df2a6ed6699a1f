/// Finding the record a link is to name, among those a link field offers, from what a person
/// typed beside a list too long to read (a cluster's 2,000 actions and 1,600 decisions after a
/// few years): the record's id, or words of its name. One rule, so every front end finds alike.
public enum LinkSearch {
    /// The offered records `typed` picks out, as indices into `ids` and `labels` (which pair up):
    /// the one whose id it is, in any capitals; else every one whose label holds each word typed,
    /// ignoring case, accents and quotes around words, in any order ("sian winter" finds
    /// "Winter plan, Siân Evans"). Nothing typed picks out nothing.
    public static func matches(_ typed: String, ids: [String], labels: [String]) -> [Int] {
        let words = RecordOrder.folded(typed).split(whereSeparator: \.isWhitespace).map(unquoted).filter { !$0.isEmpty }
        guard !words.isEmpty else { return [] }
        if words.count == 1, let index = ids.firstIndex(where: { $0.uppercased() == words[0].uppercased() }) {
            return [index]
        }
        return labels.indices.filter { index in
            let label = RecordOrder.folded(labels[index])
            return words.allSatisfy { label.contains($0) }
        }
    }

    private static let quotes: Set<Character> = ["\"", "'", "\u{201C}", "\u{201D}", "\u{2018}", "\u{2019}"]

    /// A word without the quotes around it (`"board 131"` typed as a phrase).
    private static func unquoted(_ word: Substring) -> Substring {
        var word = word
        while let first = word.first, quotes.contains(first) { word.removeFirst() }
        while let last = word.last, quotes.contains(last) { word.removeLast() }
        return word
    }

    /// What words typed beside a link field's list come to.
    public enum Outcome: Equatable, Sendable {
        /// The record to link.
        case chosen(String)
        /// The words pick out nothing offered.
        case none
        /// The words pick out these (indices).
        case several([Int])
    }

    /// The words decide: one record, none or several. An id not offered is taken as typed, so
    /// that the rules refusing it say why (a record deleted, private to a practice, of another
    /// type, already linked) rather than "nothing matches" (the scale audit).
    public static func choose(typed: String, ids: [String], labels: [String]) -> Outcome {
        let found = matches(typed, ids: ids, labels: labels)
        switch found.count {
        case 0:
            let word = typed.trimmingWhitespace.uppercased()
            if let id = RecordID(String(word)) { return .chosen(id.rawValue) }
            return .none
        case 1: return .chosen(ids[found[0]])
        default: return .several(found)
        }
    }
}
