import ClusterSyncCore
import Foundation

/// What a CSV export remembers of each row, so that importing the file later leaves alone what
/// changed in the replica since. A practice exported its risks on Monday, the lead changed a
/// risk's owner on Wednesday, the practice changed another cell and imported the file on
/// Friday: the owner went back to Monday's, with no conflict and no word (the forty-fourth
/// session's import audit), since import compares each cell with the field as it stands.
///
/// The last column, `exported`, holds for each field column (in `Replica.csvColumns` order) five
/// characters: a checksum of the cell as exported, read as import reads a cell. For a row that
/// updates a record, import then tells, cell by cell, whether the file's cell is as exported
/// and whether the field is as exported: a cell left as exported never overwrites the field
/// changed since (it is kept, and the import says so), and a cell edited in the file over a
/// field changed since is refused, naming the field, rather than overwriting a change nobody
/// saw. A file without the column (an older export, a practice's own sheet) imports as before.
enum ExportFingerprint {
    static let column = "exported"
    /// Written before the checksums, so that a later layout is told from this one.
    static let layout = "1:"
    static let width = 5

    /// The `exported` cell of a row.
    static func cell(_ view: RecordView, columns: [FieldSpec], today: CalendarDate) -> String {
        layout + columns.map { checksum(Replica.csvCell(view, $0), spec: $0, today: today) }.joined()
    }

    /// An `exported` cell's checksums by field name; nil when it is not one written for these
    /// columns by this layout (another version's export, or a cell edited in the spreadsheet).
    static func checksums(_ cell: String?, columns: [FieldSpec]) -> [String: Substring]? {
        guard let cell = cell?.trimmingCharacters(in: .whitespaces), cell.hasPrefix(layout) else { return nil }
        let body = cell.dropFirst(layout.count)
        guard body.count == columns.count * width else { return nil }
        var result: [String: Substring] = [:]
        var start = body.startIndex
        for spec in columns {
            let end = body.index(start, offsetBy: width)
            result[spec.name] = body[start..<end]
            start = end
        }
        return result
    }

    /// A cell as import reads it, so that what a spreadsheet rewrote without a person's edit (a
    /// date saved as 15/12/2026, a score as 4X3, a choice as Open) is still the cell exported.
    static func reading(_ text: String, spec: FieldSpec, today: CalendarDate) -> String {
        let text = text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        switch spec.kind {
        case .date, .riskScore, .choice, .flag, .amount, .reference:
            if let value = try? FieldInput.value(text, for: spec, today: today) { return value.canonicalText }
        default:
            break
        }
        return text
    }

    /// 25 bits of FNV-1a (64) of the cell's reading, in Crockford base 32: a chance in 33
    /// million that an edited cell reads as exported.
    static func checksum(_ text: String, spec: FieldSpec, today: CalendarDate) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in reading(text, spec: spec, today: today).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String((0..<width).map { Character(UnicodeScalar(RecordID.alphabet[Int((hash >> UInt64($0 * 5)) & 31)])) })
    }

}
