/// Turns what a person types (`likelihood=4`, `tags+=estates`, `due_date=2026-12-01`) into edits.
public enum FieldInput {
    /// Parses `FIELD=VALUE`, `FIELD+=VALUE` and `FIELD-=VALUE` arguments for a record of `type`.
    /// The halves of a risk score (`likelihood=4 consequence=3`) make one pair; a half given
    /// alone takes the other half from `current`.
    /// A field's name as typed: dashes read as underscores (`review-date`), but a map entry's
    /// key is kept as typed (`votes:Lloyd-Jones`).
    public static func fieldName(_ typed: String) -> String {
        if let (map, key) = FieldMap.split(typed) {
            return FieldMap.field(map.replacingOccurrences(of: "-", with: "_"), key: key)
        }
        return typed.replacingOccurrences(of: "-", with: "_")
    }

    public static func parse(
        _ arguments: [String], type: RecordType, current: RecordView?, today: CalendarDate
    ) throws(ClusterSyncError) -> [Edit] {
        var edits: [Edit] = []
        var halves: [String: (likelihood: Int?, consequence: Int?, at: Int)] = [:]
        for argument in arguments {
            guard let eq = argument.firstIndex(of: "=") else {
                let quoted = PatientDataGuard.quotable(argument).map { "\"\($0)\"" } ?? "an argument"
                throw ClusterSyncError(.invalidValue, "\(quoted) is not FIELD=VALUE, FIELD+=VALUE or FIELD-=VALUE")
            }
            var name = String(argument[..<eq])
            let text = String(argument[argument.index(after: eq)...])
            var op: Character = "="
            if let last = name.last, last == "+" || last == "-" {
                op = last
                name.removeLast()
            }
            name = fieldName(name)

            if type == .risk, let (scoreField, half) = scoreHalf(name) {
                guard op == "=" else { throw ClusterSyncError(.invalidValue, "\(name) takes \(name)=N", field: name) }
                let n = try level(text, half: half, field: name)
                var entry = halves[scoreField] ?? (nil, nil, edits.count)
                if half == "likelihood" { entry.likelihood = n } else { entry.consequence = n }
                if halves[scoreField] == nil { edits.append(.set(scoreField, .null)) }
                halves[scoreField] = entry
                continue
            }

            guard let spec = type.schema.field(name) else {
                try type.schema.validate(field: name, value: nil)
                throw ClusterSyncError(.unknownField, "unknown field \(name)")
            }
            if name == RecordSchema.deletedField.name {
                // deleted=yes is a delete, which lists the writes it saw; deleted=no a restore.
                guard op == "=" else { throw ClusterSyncError(.invalidValue, "\(name) takes \(name)=yes or \(name)=no", field: name) }
                edits.append(try Self.value(text, for: spec, today: today) == .bool(true) ? .delete : .restore)
                continue
            }
            let value = try value(text, for: spec, today: today)
            switch op {
            case "+": edits.append(.add(name, value))
            case "-": edits.append(.remove(name, value))
            default:
                if spec.kind.cardinality != .register {
                    throw ClusterSyncError(.invalidValue, "\(name) holds several values; use \(name)+=VALUE or \(name)-=VALUE", field: name)
                }
                edits.append(.set(name, value))
            }
        }
        for (scoreField, entry) in halves {
            edits[entry.at] = .set(scoreField, try score(scoreField, likelihood: entry.likelihood, consequence: entry.consequence, current: current).jsonValue)
        }
        return edits
    }

    /// A score from its halves, a half not given taken from the record's score (`current`); one
    /// half of a score the record does not have yet is refused, naming the other.
    public static func score(
        _ scoreField: String, likelihood: Int?, consequence: Int?, current: RecordView?
    ) throws(ClusterSyncError) -> RiskScore {
        let existing = current?.value(scoreField).flatMap(RiskScore.init)
        guard let l = likelihood ?? existing?.likelihood, let c = consequence ?? existing?.consequence else {
            let prefix = scoreField == "score" ? "" : scoreField.replacingOccurrences(of: "score", with: "")
            let missing = likelihood == nil ? "likelihood" : "consequence"
            throw ClusterSyncError(.invalidValue,
                "\(prefix)\(missing) is needed too: likelihood and consequence are one value, set together the first time",
                field: prefix + missing)
        }
        return RiskScore(likelihood: l, consequence: c)!
    }

    /// One half of a score as typed or as a register's sheet writes it: 1 to 5, the matrix's word
    /// for it ("possible", "Almost certain"), or both ("3 - Possible", "Possible (3)") when
    /// they agree. `half` is `likelihood` or `consequence`; `field` names it in a refusal.
    public static func level(_ text: String, half: String, field: String) throws(ClusterSyncError) -> Int {
        let words = half == "likelihood" ? RiskScore.likelihoodWords : RiskScore.consequenceWords
        let tokens = text.lowercased().split { $0.isWhitespace || "-–:()".contains($0) }.map(String.init)
        let numbers = tokens.compactMap { Int($0) }
        let word = tokens.filter { Int($0) == nil }.joined(separator: " ")
        let byWord = words.firstIndex(of: word).map { $0 + 1 }
        let level: Int? = switch (numbers.count, byWord) {
        case _ where Int(text.trimmingWhitespace) != nil: Int(text.trimmingWhitespace)
        case (0, let n?): n
        case (1, nil) where word.isEmpty: numbers[0]
        case (1, let n?) where n == numbers[0]: n
        default: nil
        }
        guard let level, (1...5).contains(level) else {
            throw ClusterSyncError(.invalidValue,
                "\(field) must be 1 to 5 (\(words.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: ", "))); got \(typed(text))",
                field: field)
        }
        return level
    }

    /// `likelihood` → (score, likelihood); `target_consequence` → (target_score, consequence).
    public static func scoreHalf(_ name: String) -> (String, String)? {
        switch name {
        case "likelihood", "consequence": ("score", name)
        case "target_likelihood": ("target_score", "likelihood")
        case "target_consequence": ("target_score", "consequence")
        case "initial_likelihood": ("initial_score", "likelihood")
        case "initial_consequence": ("initial_score", "consequence")
        default: nil
        }
    }

    /// The JSON value of typed text for a field; validation proper happens when the edit is planned.
    public static func value(_ text: String, for spec: FieldSpec, today: CalendarDate) throws(ClusterSyncError) -> JSONValue {
        switch spec.kind {
        case .flag:
            // "Yes " as a spreadsheet cell may hold it, as choices are read.
            switch text.trimmingWhitespace.lowercased() {
            case "true", "yes", "y", "1": return .bool(true)
            case "false", "no", "n", "0": return .bool(false)
            default: throw ClusterSyncError(.invalidValue, "\(spec.name) must be yes or no; got \(typed(text))", field: spec.name)
            }
        case .riskScore:
            // 4x3 as typed or as spreadsheets write it: 4X3, 4 x 3, 4×3.
            let parts = String(text.lowercased().filter { !$0.isWhitespace }.map { $0 == "×" ? "x" : $0 }).split(separator: "x")
            guard parts.count == 2, let l = Int(parts[0]), let c = Int(parts[1]), let score = RiskScore(likelihood: l, consequence: c) else {
                // A product alone ("12") is refused: 3x4 and 4x3 sit in different cells of the matrix.
                let product = parts.count == 1 && Int(parts[0]) != nil ? " (a score alone does not say which: 12 may be 3x4 or 4x3)" : ""
                throw ClusterSyncError(.invalidValue, "\(spec.name) must be LIKELIHOODxCONSEQUENCE, each 1 to 5 (4x3)\(product); got \(typed(text))", field: spec.name)
            }
            return score.jsonValue
        case .reference(let types), .referenceSet(let types):
            // Ids may be typed in small letters; the value is always the canonical id.
            let trimmed = String(text.trimmingWhitespace)
            guard !trimmed.isEmpty else { return .string(text) }
            guard let id = RecordID(typed: trimmed), types.contains(id.type) else {
                let what = types.map { "\($0.withArticle) (\($0.prefix)-…)" }.joined(separator: " or ")
                let several = spec.kind.cardinality == .set ? ", several separated by \"; \"" : ""
                throw ClusterSyncError(.invalidValue, "\(spec.name) must be the id of \(what)\(several); got \(typed(text))", field: spec.name)
            }
            return .string(id.rawValue)
        case .choice(let words), .choiceSet(let words):
            // As typed, as a spreadsheet capitalised it ("Open", " workforce "), or as the app
            // shows it, with spaces for hyphens ("Not started", "service delivery"): a CSV
            // typed from the screen was refused (web app audit, forty-third session).
            let trimmed = String(text.trimmingWhitespace)
            func shown(_ word: String) -> String {
                word.lowercased().replacingOccurrences(of: "-", with: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }
            return .string(words.first { $0 == trimmed } ?? words.first { $0.lowercased() == trimmed.lowercased() }
                ?? words.first { shown($0) == shown(trimmed) } ?? text)
        case .choiceMap(let words):
            // A vote typed as nothing (`votes:Ceri Lloyd=`) would withdraw it without the
            // proxy and interest marks `decision unvote` takes away with it (this session's review).
            let trimmed = String(text.trimmingWhitespace)
            guard !trimmed.isEmpty else {
                throw ClusterSyncError(.invalidValue, "\(spec.name) takes \(words.joined(separator: ", ")); a vote recorded by mistake is withdrawn with "
                    + "`clustersync decision unvote DEC NAME`", field: spec.name)
            }
            return .string(words.first { $0.lowercased() == trimmed.lowercased() } ?? trimmed)
        case .notes:
            return .object(["date": .string(today.description), "text": .string(text)])
        case .quorumRule:
            guard let rule = QuorumRule(typed: text) else {
                throw ClusterSyncError(.invalidValue, "\(spec.name) must be a number of members (5) or a proportion of them (1/2); got \(typed(text))", field: spec.name)
            }
            return rule.jsonValue
        case .date:
            // `review_date=` empties the date.
            if text.trimmingWhitespace.isEmpty { return RecordView.emptiedDate }
            guard let date = CalendarDate(typed: text) else {
                if let problem = CalendarDate.problem(typed: text) {
                    throw ClusterSyncError(.invalidValue, "\(spec.name) must be a day that exists: \(problem); got \(typed(text))", field: spec.name)
                }
                // A spreadsheet's date column saved unformatted (the import audit: "46113" was
                // refused without a word of what it was): the day it stands for, and what to do.
                if let note = CalendarDate.spreadsheetNote(typed: text) {
                    throw ClusterSyncError(.invalidValue, "\(spec.name) must be a date written YYYY-MM-DD or DD/MM/YYYY; got \(typed(text)), \(note)",
                                           field: spec.name)
                }
                throw ClusterSyncError(.invalidValue, "\(spec.name) must be a date written YYYY-MM-DD or DD/MM/YYYY; got \(typed(text))", field: spec.name)
            }
            return .string(date.description)
        case .amount:
            // Refused here, quoting what was typed (`£12,000.50p`), not what it was read as
            // (`12000.50p`), which the person never wrote (chair's audit).
            let read = Amount.typed(text)
            guard Amount.isValid(read) else {
                throw ClusterSyncError(.invalidValue, "\(spec.name) must be \(Amount.described); got \(typed(text))", field: spec.name)
            }
            return .string(read)
        case .attendeeSet:
            guard let value = try? JSONValue(parsing: text) else {
                throw ClusterSyncError(.invalidValue,
                    "\(spec.name) takes an attendee as JSON {\"name\":\"...\",\"role\":\"member\",\"practice\":\"...\"}; "
                    + "`clustersync meeting attend` is easier", field: spec.name)
            }
            return value
        default:
            // "  Dr Siân Evans  " from a spreadsheet's cell is Dr Siân Evans.
            return .string(String(text.trimmingWhitespace))
        }
    }

    /// Typed text as an error message may repeat it (see `PatientDataGuard.quotable`).
    static func typed(_ text: String) -> String {
        PatientDataGuard.quotable(text) ?? "text of \(text.count) characters"
    }
}
