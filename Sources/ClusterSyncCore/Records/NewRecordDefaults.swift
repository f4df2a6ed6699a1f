/// What a new record gets besides what was typed (a status to start from, the set-once copies
/// of a risk's initial score and an action's original due date, the day an interest was
/// declared, a decision's date), and what it cannot be made without (`RecordSchema.requiredText`). The one place
/// these are written: `Replica.add` and the import apply them, so a record starts the same
/// way whichever front end made it (the CLI, the web app, a spreadsheet).
public enum NewRecordDefaults {
    /// `meetingDate` reads a meeting's date: a decision is dated by the meeting that took it.
    public static func edits(for type: RecordType, given edits: [Edit], today: CalendarDate,
                             meetingDate: (RecordID) -> CalendarDate? = { _ in nil }) -> [Edit] {
        var extra: [Edit] = []
        if !has("status", in: edits), let status = startingStatus(of: type) {
            // An action added with the day it was done is complete: many trackers mark completion
            // by that date alone (the import audit: such a row came in not started, and overdue).
            let done = type == .action && !(value("completed_date", in: edits)?.stringValue ?? "").isEmpty
            extra.append(.set("status", .string(done ? "complete" : status)))
        }
        switch type {
        case .risk:
            if !has("initial_score", in: edits), let score = value("score", in: edits) { extra.append(.set("initial_score", score)) }
        case .action:
            if !has("original_due_date", in: edits), let due = value("due_date", in: edits) { extra.append(.set("original_due_date", due)) }
        case .decision where !has("date", in: edits):
            // Dated by its meeting: registers, the board report and the roll-up count decisions by
            // their date, and one without is in no period.
            if let date = datedMeeting(in: edits, meetingDate) { extra.append(.set("date", .string(date.description))) }
        default:
            break
        }
        // A decision with no dated meeting, or a declaration: dated the day it is recorded. A
        // declaration in force is what meetings and decisions check interests against.
        if let field = datedToday(type, given: edits, meetingDate: meetingDate) {
            extra.append(.set(field, .string(today.description)))
        }
        return extra
    }

    /// The field `edits` dates by today (a decision with no dated meeting to date it, a declaration):
    /// right when a person records it as it happens, wrong for a register's history brought in
    /// from a spreadsheet, which the import refuses instead (the import audit: a decision log's
    /// rows without a date were counted in the year of the import).
    public static func datedToday(_ type: RecordType, given edits: [Edit],
                                  meetingDate: (RecordID) -> CalendarDate? = { _ in nil }) -> String? {
        switch type {
        case .decision where !has("date", in: edits) && datedMeeting(in: edits, meetingDate) == nil: "date"
        case .declaration where !has("date_declared", in: edits): "date_declared"
        default: nil
        }
    }

    private static func has(_ field: String, in edits: [Edit]) -> Bool {
        edits.contains { if case .set(field, _) = $0 { true } else { false } }
    }

    /// The last value `edits` sets `field` to: a later `set` of one field wins, as it does when applied.
    private static func value(_ field: String, in edits: [Edit]) -> JSONValue? {
        edits.lazy.compactMap { if case .set(field, let v) = $0 { v } else { nil } }.last
    }

    /// The date of the meeting a new decision names, when that meeting has one.
    private static func datedMeeting(in edits: [Edit], _ meetingDate: (RecordID) -> CalendarDate?) -> CalendarDate? {
        value("meeting", in: edits)?.stringValue.flatMap { RecordID($0) }.flatMap(meetingDate)
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
        for required in type.schema.requiredText where !has(required, in: edits) {
            throw ClusterSyncError(.invalidValue, "a new \(type.rawValue) needs a \(required)", field: required)
        }
    }
}
