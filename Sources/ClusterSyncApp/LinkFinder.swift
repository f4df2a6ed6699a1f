import ClusterSyncCore

/// A link field's records as a page offers them: a list of at most `listed`, and past that a box
/// that finds any other by its id or words of its name (`LinkSearch`; the scale audit: an
/// action's form offered a cluster's 4,051 records, 278 KB). A record form's link fields and a
/// record page's *Add* to a set of links share it.
struct LinkFinder {
    typealias Option = (id: String, name: String)

    /// How many records the list shows at most.
    static let listed = 50

    /// What the field may name: one group per type it names, each in its register's order
    /// (newest first for logs) and named as the list names it.
    var groups: [[Option]]

    var offered: [Option] { groups.flatMap { $0 } }

    /// What the list shows for `words` (typed in the box, or kept from a refusal): the first of
    /// the records they match, or else of every group a share (a field naming risks, actions,
    /// meetings and decisions lists some of each, not the first 50 risks); and the hint beside
    /// the box, nil when the list is short enough to need no box.
    func listing(_ words: String, t: Catalogue) -> (records: [Option], hint: String?) {
        let offered = offered
        let found = LinkSearch.matches(words, ids: offered.map(\.id), labels: offered.map(\.name))
        if !found.isEmpty {
            let records = found.prefix(Self.listed).map { offered[$0] }
            return (records, t.text("link_find_found", String(records.count), String(found.count), words))
        }
        let records = Self.shares(of: groups)
        guard offered.count > Self.listed || !words.isEmpty else { return (records, nil) }
        return (records, t.text("link_find_hint", String(records.count), String(offered.count)))
    }

    /// Up to `listed` records, each group given one in turn until they run out.
    static func shares(of groups: [[Option]]) -> [Option] {
        var taken = groups.map { _ in 0 }
        var total = 0, grew = true
        while total < listed, grew {
            grew = false
            for index in groups.indices where taken[index] < groups[index].count && total < listed {
                taken[index] += 1
                total += 1
                grew = true
            }
        }
        return zip(groups, taken).flatMap { $0.prefix($1) }
    }

    /// The field's choice once the box's `words` are read (`LinkSearch.choose`): the record
    /// chosen, or why none is, in the field's words.
    func read(_ words: String, chosen: String, baseline: String, label: String, t: Catalogue) -> Result<String, Refusal> {
        let offered = offered
        switch LinkSearch.choose(typed: words, chosen: chosen, baseline: baseline, ids: offered.map(\.id), labels: offered.map(\.name)) {
        case .chosen(let id): return .success(id)
        case .none: return .failure(Refusal(message: t.text("link_find_none", label, words), several: false))
        case .several(let found): return .failure(Refusal(message: t.text("link_find_several", label, String(found.count), words), several: true))
        }
    }

    struct Refusal: Error {
        var message: String
        /// Several matched: the list is to show them.
        var several: Bool
    }
}
