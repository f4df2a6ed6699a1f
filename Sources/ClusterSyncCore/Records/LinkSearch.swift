/// Finding the record a link is to name, among those a link field offers, from what a person
/// typed beside a list too long to read (a cluster's 2,000 actions and 1,600 decisions after a
/// few years): the record's id, or words of its name. One rule, so every front end finds alike.
public enum LinkSearch {
    /// The offered records `typed` picks out, as indices into `ids` and `labels` (which pair up):
    /// the one whose id it is, in any capitals; else every one whose label holds each word typed,
    /// ignoring case and accents, in any order ("sian winter" finds "Winter plan, Siân Evans").
    /// Nothing typed picks out nothing.
    public static func matches(_ typed: String, ids: [String], labels: [String]) -> [Int] {
        let words = RecordOrder.folded(typed).split(whereSeparator: \.isWhitespace)
        guard !words.isEmpty else { return [] }
        if words.count == 1, let index = ids.firstIndex(where: { $0.uppercased() == words[0].uppercased() }) {
            return [index]
        }
        return labels.indices.filter { index in
            let label = RecordOrder.folded(labels[index])
            return words.allSatisfy { label.contains($0) }
        }
    }

    /// What a link field's choice comes to once its finder's words are read.
    public enum Outcome: Equatable, Sendable {
        /// The record to link: the one the words pick out, or the one chosen in the list among
        /// those they pick out.
        case chosen(String)
        /// The words pick out nothing offered.
        case none
        /// The words pick out these (indices), and nothing among them was chosen in the list.
        case several([Int])
    }

    /// A choice changed in the list (from `baseline`, what it showed when the form was drawn) to
    /// a record offered is the person's, whatever the words say: shown several matches, or none,
    /// they choose in the list and save with the words still typed. Otherwise the words decide.
    public static func choose(typed: String, chosen: String, baseline: String, ids: [String], labels: [String]) -> Outcome {
        if chosen != baseline, ids.contains(chosen) { return .chosen(chosen) }
        let found = matches(typed, ids: ids, labels: labels)
        switch found.count {
        case 0: return .none
        case 1: return .chosen(ids[found[0]])
        default: return .several(found)
        }
    }
}
