/// Map fields (`FieldKind.choiceMap`): a map of registers in the one-field-per-change model.
/// Each entry is its own field, named `MAP:KEY` (`votes:Dr Siân Evans`), so entries merge
/// apart: two members voting concurrently never conflict, one member's vote changed on two
/// laptops does. The key is case-sensitive and taken as written.
extension FieldKind {
    public var isMap: Bool {
        if case .choiceMap = self { return true }
        return false
    }
}

public enum FieldMap {
    public static let maxKeyLength = 100
    /// The key's bound in UTF-8 bytes besides its characters: one character may hold any number
    /// of combining marks, and a key travels in page and snapshot cursors (three bytes a byte
    /// when escaped), which must stay far inside a line (`limits.maxLineBytes`).
    public static let maxKeyBytes = 400

    /// The value that takes an entry out: a vote recorded in error (the member did not vote) is
    /// withdrawn by writing it, and the map then reads as if the entry had never been written.
    /// A register write like any other, as an emptied date is (`RecordView.emptiedDate`): a
    /// withdrawal and a concurrent vote are in conflict, and history keeps the vote it replaced.
    public static let withdrawn = JSONValue.string("")

    /// The change field for an entry of a map field.
    public static func field(_ map: String, key: String) -> String { map + ":" + key }

    /// `("votes", "Dr Siân Evans")` for `votes:Dr Siân Evans`; nil for a field without a key.
    public static func split(_ field: String) -> (map: String, key: String)? {
        guard let colon = field.firstIndex(of: ":") else { return nil }
        return (String(field[..<colon]), String(field[field.index(after: colon)...]))
    }

    /// A key is 1 to 100 characters (and at most 400 bytes), without control characters or white
    /// space at either end, and holds no NHS number (it is free text, like a name).
    static func validateKey(_ key: String, field: String) throws(ClusterSyncError) {
        func refused() -> ClusterSyncError {
            ClusterSyncError(.invalidValue,
                "\(field) entries are named \(field):KEY with a key of 1 to \(maxKeyLength) characters (\(maxKeyBytes) bytes), "
                + "no control characters or spaces at either end; got a key of \(key.utf8.count) bytes",
                field: field)
        }
        // The bytes first: everything after reads the whole key.
        guard !key.isEmpty, key.utf8.count <= maxKeyBytes else { throw refused() }
        try PatientDataGuard.check(key, field: field)
        let bad = key.unicodeScalars.contains { $0.properties.generalCategory == .control }
        guard !bad, key.count <= maxKeyLength, key.first?.isWhitespace == false, key.last?.isWhitespace == false else { throw refused() }
    }
}

extension RecordView {
    /// The entries of a map field: key → its live writes (display order), keys sorted; an
    /// entry withdrawn (`FieldMap.withdrawn`) is listed, since its write may be in conflict.
    public func entries(ofMap map: String) -> [(key: String, writes: [FieldWrite])] {
        writes.compactMap { field, list in
            guard let (name, key) = FieldMap.split(field), name == map else { return nil }
            return (key, list)
        }.sorted { $0.key < $1.key }
    }

    /// The shown value of each entry of a map field; an entry whose shown value is withdrawn is
    /// not there.
    public func mapValues(_ map: String) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, writes) in entries(ofMap: map) {
            if let first = writes.first, first.value != FieldMap.withdrawn { result[key] = first.value }
        }
        return result
    }

    /// Conflicts of map entries (two live values for one key), in key order: these are listed
    /// after the record type's other register fields.
    var mapConflicts: [Conflict] {
        type.schema.fields.filter(\.kind.isMap).flatMap { spec in
            entries(ofMap: spec.name).filter { $0.writes.count > 1 && Set($0.writes.map(\.value)).count > 1 }.map {
                Conflict(field: FieldMap.field(spec.name, key: $0.key), kind: .concurrentValues, values: $0.writes)
            }
        }
    }
}
