/// What a new record gets besides what was typed: a status to start from, and the set-once
/// copies (a risk's initial score, an action's original due date). The CLI's `add` and the web
/// app's forms both call it, so a record starts the same way whichever made it.
public enum NewRecordDefaults {
    public static func edits(for type: RecordType, given edits: [Edit]) -> [Edit] {
        switch type {
        case .risk: risk(edits)
        case .action: action(edits)
        default: []
        }
    }

    static func risk(_ edits: [Edit]) -> [Edit] {
        var extra: [Edit] = []
        if !edits.contains(where: { if case .set("status", _) = $0 { true } else { false } }) {
            extra.append(.set("status", .string("open")))
        }
        if !edits.contains(where: { if case .set("initial_score", _) = $0 { true } else { false } }),
           let score = edits.lazy.compactMap({ if case .set("score", let v) = $0 { v } else { nil } }).last {
            extra.append(.set("initial_score", score))
        }
        return extra
    }

    static func action(_ edits: [Edit]) -> [Edit] {
        var extra: [Edit] = []
        if !edits.contains(where: { if case .set("status", _) = $0 { true } else { false } }) {
            extra.append(.set("status", .string("not-started")))
        }
        if !edits.contains(where: { if case .set("original_due_date", _) = $0 { true } else { false } }),
           let due = edits.lazy.compactMap({ if case .set("due_date", let v) = $0 { v } else { nil } }).last {
            extra.append(.set("original_due_date", due))
        }
        return extra
    }
}
