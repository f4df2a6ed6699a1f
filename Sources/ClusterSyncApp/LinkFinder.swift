import ClusterSyncCore

/// A link field's records as a page offers them: a list of at most `listed`, and past that a box
/// that finds any other by its id or words of its name (`LinkSearch`; the scale audit: an
/// action's form offered a cluster's 4,051 records, 278 KB). A record form's link fields and a
/// record page's *Add* to a set of links share it.
///
/// Words in the box decide. Words that match several are moved out of the box when the list is
/// drawn again to show those (kept beside it, `matched`), so that what is then chosen in the
/// list is the choice, even the link an edited record already has.
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
    /// the box (`hint`: a form's, or a set's *Add*), nil when the list is short enough to need
    /// no box.
    func listing(_ words: String, hint: String = "link_find_hint", t: Catalogue) -> (records: [Option], hint: String?) {
        let offered = offered
        let found = LinkSearch.matches(Self.searched(words), ids: offered.map(\.id), labels: offered.map(\.name))
        if !found.isEmpty {
            let records = found.prefix(Self.listed).map { offered[$0] }
            return (records, t.text("link_find_found", String(records.count), String(found.count), words))
        }
        let records = Self.shares(of: groups)
        guard offered.count > Self.listed || !words.isEmpty else { return (records, nil) }
        return (records, t.text(hint, String(records.count), String(offered.count)))
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

    /// Words as the list's names read: a date typed as the app's forms take dates (24/12/2025)
    /// as the names show it (24 Dec 2025), a month's name as its short form (December, Dec).
    static func searched(_ words: String) -> String {
        words.split(whereSeparator: \.isWhitespace).map { word -> String in
            if let date = CalendarDate(typed: word) { return WalesDates.shown(date) }
            let folded = RecordOrder.folded(String(word))
            if folded.count > 3, let month = WalesDates.monthNames.first(where: { folded.hasPrefix(RecordOrder.folded($0)) }),
               Self.monthWords.contains(folded) {
                return month
            }
            return String(word)
        }.joined(separator: " ")
    }

    private static let monthWords: Set<String> = ["january", "february", "march", "april", "june", "july", "august", "september", "sept",
                                                  "october", "november", "december"]

    /// What the box's `words` come to (`LinkSearch.choose`): the record to link, or why none
    /// is, in the field's words.
    func read(_ words: String, label: String, t: Catalogue) -> Result<String, Refusal> {
        let offered = offered
        switch LinkSearch.choose(typed: Self.searched(words), ids: offered.map(\.id), labels: offered.map(\.name)) {
        case .chosen(let id): return .success(id)
        case .none: return .failure(Refusal(message: t.text("link_find_none", label, words), several: false))
        case .several(let found): return .failure(Refusal(message: t.text("link_find_several", label, String(found.count), words), several: true))
        }
    }

    /// Words that matched several, and nothing chosen among them since: said again.
    static func unchosen(_ matched: String, label: String, t: Catalogue) -> Refusal {
        Refusal(message: t.text("link_find_unchosen", label, matched), several: true)
    }

    struct Refusal: Error {
        var message: String
        /// Several matched: the list is to show them, the words kept beside it.
        var several: Bool
    }
}
