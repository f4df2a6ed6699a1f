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
    /// A record to link: its id, its name as the list shows it, and its owner, whose words find
    /// it too (a chair looks for "the action Gareth took on").
    typealias Option = (id: String, name: String, owner: String?)

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
        let found = words.isEmpty ? [] : Self.matches(words, in: offered)
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

    /// Words as they are searched: a day typed as the forms take it (5/1/2026, 2026-01-05) as
    /// `searchText` writes days, 05/01/2026, one word, so it finds that day and no other.
    static func searched(_ words: String) -> String {
        words.split(whereSeparator: \.isWhitespace).map { word in CalendarDate(typed: word)?.dayFirst ?? String(word) }.joined(separator: " ")
    }

    /// What each record is found by: its name as `searchText` writes it, and its owner.
    static func searchTexts(_ options: [Option]) -> [String] {
        options.map { option in option.owner.map { searchText(option.name) + "\n" + $0 } ?? searchText(option.name) }
    }

    /// A name as it is searched: as shown, and each day in it ("24 Dec 2025") also written as
    /// the forms take it and with its month in full ("24/12/2025 December"), so that either
    /// finds it. Added to the name, never taken from the words, so "December" finds no
    /// "Decision" (a review).
    static func searchText(_ name: String) -> String {
        var text = name
        for match in name.matches(of: /(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})/) {
            guard let month = WalesDates.monthNames.firstIndex(of: String(match.output.2)),
                  let day = Int(match.output.1), let year = Int(match.output.3) else { continue }
            text += " " + CalendarDate(year: year, month: month + 1, day: day).dayFirst + " " + Self.fullMonths[month]
        }
        return text
    }

    private static let fullMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                                     "November", "December"]

    /// What the box's `words` come to (`LinkSearch.choose`): the record to link, or why none
    /// is, in the field's words.
    func read(_ words: String, label: String, t: Catalogue) -> Result<String, Refusal> {
        let offered = offered
        switch LinkSearch.choose(typed: Self.searched(words), ids: offered.map(\.id), labels: Self.searchTexts(offered)) {
        // A list is offered by its kind (a meeting's agenda, a plan's priorities), which the
        // core does not check: one typed by its id and not offered is of another kind, deleted
        // or private (a review wrote a priorities list as a meeting's agenda).
        case .chosen(let id) where RecordID(id)?.type == .list && !offered.contains(where: { $0.id == id }):
            return .failure(Refusal(message: t.text("link_find_list_not_offered", label, id), several: false))
        case .chosen(let id): return .success(id)
        case .none: return .failure(Refusal(message: t.text("link_find_none", label, words), several: false))
        case .several(let found): return .failure(Refusal(message: t.text("link_find_several", label, String(found.count), words), several: true))
        }
    }

    /// Whether words kept from a refusal still match any record offered (a sync or another tab
    /// may have changed them since).
    func stillMatches(_ words: String) -> Bool {
        !Self.matches(words, in: offered).isEmpty
    }

    /// The indexes in `offered` of the records `words` match (`LinkSearch.matches`).
    private static func matches(_ words: String, in offered: [Option]) -> [Int] {
        LinkSearch.matches(searched(words), ids: offered.map(\.id), labels: searchTexts(offered))
    }

    /// The choice in a list showing several matches that says "none of these": no link.
    static let noneOfThese = "-"

    /// Words that matched several, and nothing chosen among them since: said again.
    /// `forSet`: a set's *Add*, which offers no "None of these" (nothing chosen adds nothing).
    static func unchosen(_ matched: String, label: String, forSet: Bool = false, t: Catalogue) -> Refusal {
        Refusal(message: t.text(forSet ? "link_find_unchosen_set" : "link_find_unchosen", label, matched), several: true)
    }

    struct Refusal: Error {
        var message: String
        /// Several matched: the list is to show them, the words kept beside it.
        var several: Bool
    }
}
