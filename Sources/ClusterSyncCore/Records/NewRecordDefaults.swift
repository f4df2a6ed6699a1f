/// What a new record gets besides what was typed (a status to start from, the set-once copies
/// of a risk's initial score and an action's original due date, the day an interest was
/// declared, a decision's date), and what it cannot be made without (`RecordSchema.requiredText`). The one place
/// these are written: `Replica.add` and the import apply them, so a record starts the same
/// way whichever front end made it (the CLI, the web app, a spreadsheet).
public enum NewRecordDefaults {
    /// `meetingDate` reads a meeting's date: a decision is dated by the meeting that took it.
    public static func edits(for type: RecordType, given edits: [Edit], today: CalendarDate,
                             meetingDate: (RecordID) -> CalendarDate? = { _ in nil }) -> [Edit] {
        func has(_ field: String) -> Bool { edits.contains { if case .set(field, _) = $0 { true } else { false } } }
        func value(_ field: String) -> JSONValue? { edits.lazy.compactMap { if case .set(field, let v) = $0 { v } else { nil } }.last }
        var extra: [Edit] = []
        if !has("status"), let status = startingStatus(of: type) {
            // An action added with the day it was done is complete: many trackers mark completion
            // by that date alone (the import audit: such a row came in not started, and overdue).
            let done = type == .action && !(value("completed_date")?.stringValue ?? "").isEmpty
            extra.append(.set("status", .string(done ? "complete" : status)))
        }
        switch type {
        case .risk:
            if !has("initial_score"), let score = value("score") { extra.append(.set("initial_score", score)) }
        case .action:
            if !has("original_due_date"), let due = value("due_date") { extra.append(.set("original_due_date", due)) }
        case .decision:
            // Dated by its meeting, else the day it is recorded: registers, the board report and
            // the roll-up count decisions by their date, and one without is in no period.
            if !has("date") {
                let meeting = value("meeting")?.stringValue.flatMap { RecordID($0) }
                extra.append(.set("date", .string((meeting.flatMap(meetingDate) ?? today).description)))
            }
        case .declaration:
            // Declared today unless said otherwise: a declaration in force is what meetings and
            // decisions check interests against.
            if !has("date_declared") { extra.append(.set("date_declared", .string(today.description))) }
        default:
            break
        }
        return extra
    }

    /// The field `edits` dates by today (a decision with no dated meeting to date it, a declaration):
    /// right when a person records it as it happens, wrong for a register's history brought in
    /// from a spreadsheet, which the import refuses instead (the import audit: a decision log's
    /// rows without a date were counted in the year of the import).
    public static func datedToday(_ type: RecordType, given edits: [Edit],
                                  meetingDate: (RecordID) -> CalendarDate? = { _ in nil }) -> String? {
        func has(_ field: String) -> Bool { edits.contains { if case .set(field, _) = $0 { true } else { false } } }
        func value(_ field: String) -> JSONValue? { edits.lazy.compactMap { if case .set(field, let v) = $0 { v } else { nil } }.last }
        switch type {
        case .decision where !has("date") && value("meeting")?.stringValue.flatMap({ RecordID($0) }).flatMap(meetingDate) == nil:
            return "date"
        case .declaration where !has("date_declared"): return "date_declared"
        default: return nil
        }
    }

    /// The status a new record starts from, for the types that have one.
    public static func startingStatus(of type: RecordType) -> String? {
        switch type {
        case .risk: "open"
        case .action: "not-started"
        case .meeting: "scheduled"
        default: nil
        }
    }

    /// Refuses a new record without a field it needs (`invalid-value`, naming the field).
    public static func requireFields(_ type: RecordType, in edits: [Edit]) throws(ClusterSyncError) {
        for required in type.schema.requiredText where !edits.contains(where: { if case .set(required, _) = $0 { true } else { false } }) {
            throw ClusterSyncError(.invalidValue, "a new \(type.rawValue) needs a \(required)", field: required)
        }
    }
}
