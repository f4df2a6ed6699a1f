import ClusterSyncCore

/// A register's sorting as its page offers it: each column's heading a link that sorts by it
/// (the other way when it already does), and the same as a form's choices where headings are
/// not shown (a phone's cards) and for anyone who prefers a form. The risk register and the
/// action tracker share it.
struct SortableColumns {
    var keys: [RecordOrder.Key]
    /// Each key's column heading, as catalogue keys.
    var labels: [String]

    /// A select's choices for a template (value, label), the one `selected` marked.
    static func options(_ values: [(String, String)], selected: String) -> [[String: Any]] {
        values.map { ["optionValue": $0.0, "optionLabel": $0.1, "selected": $0.0 == selected] }
    }

    /// The order a page's query asks for (`sort`, `dir`), among these columns; `standard` when
    /// it names none. No direction (the form's "usual order") is the column's own.
    func order(_ query: FormBody, standard: RecordOrder.Key) -> (order: RecordOrder, direction: String?) {
        let key = RecordOrder.Key(rawValue: query["sort"] ?? "").flatMap { keys.contains($0) ? $0 : nil } ?? standard
        let direction = query["dir"].flatMap { $0.isEmpty ? nil : $0 }
        return (RecordOrder(key, descending: direction.map { $0 == "desc" }), direction)
    }

    /// The template's `columns`, `sortOptions` and `dirOptions`. `link` makes a heading's
    /// address from a column and a direction, keeping the page's filters.
    func data(_ order: RecordOrder, direction: String?, t: Catalogue, link: (String, Bool) -> String) -> [String: Any] {
        let columns: [[String: Any]] = zip(keys, labels).map { key, label in
            var entry: [String: Any] = [
                "label": t[label], "sortLabel": t.text("sort_by", Catalogue.inSentence(t[label])),
                "href": link(key.rawValue, key == order.key ? !order.descending : key.descendingByDefault),
            ]
            if key == order.key {
                entry["ariaSort"] = order.descending ? "descending" : "ascending"
                entry["arrow"] = order.descending ? "▼" : "▲"
            }
            return entry
        }
        return [
            "columns": columns,
            "sortOptions": Self.options(zip(keys, labels).map { ($0.rawValue, t[$1]) }, selected: order.key.rawValue),
            "dirOptions": Self.options([("", t["order_usual"]), ("asc", t["order_asc"]), ("desc", t["order_desc"])],
                                  selected: direction == nil ? "" : order.descending ? "desc" : "asc"),
        ]
    }
}
