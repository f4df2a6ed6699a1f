import ClusterSyncClient
import ClusterSyncCore

/// A form for a risk or an action. Each field is named as the CLI names it (`likelihood`,
/// `review_date`), so what is typed goes through `FieldInput.parse` and the replica's own
/// validation: the same rules and the same messages as `clustersync risk add`.
struct RecordForm {
    struct Field {
        /// `record`: a link to a record of that type held here, chosen by its name.
        /// `records`: a link that may name a record of several types (an action's source),
        /// offered type by type, each named with its type.
        enum Kind { case text, textarea, date, choice([String]), level([String]), record(RecordType), records([RecordType]) }
        var name: String
        var kind: Kind
        /// For a link to a list, the kind of list it names: a plan's priorities, else an agenda.
        var listKind: String { name == "priorities" ? "priorities" : "agenda" }

        /// The types a reference field of `type` may name, as the schema has them.
        static func referenced(by field: String, of type: RecordType) -> [RecordType] {
            if case .reference(let types)? = type.schema.field(field)?.kind { return types }
            return []
        }
    }

    /// Whether a new record needs the field: the library's rule (`RecordSchema.requiredText`),
    /// asked here so the form marks it and names it beside its input.
    func isRequired(_ field: Field) -> Bool { type.schema.requiredText.contains(field.name) }

    struct Problem {
        var field: String
        var message: String
        /// The field changed under the form (a sync or another window) and was changed on it
        /// too: shown again with the value it has now as the form's baseline.
        var changedMeanwhile = false
    }

    /// The links a new record's form arrives with from the page that opened it (a meeting's
    /// "Record a decision at this meeting" gives `meeting=MTG-…`): this form's link fields only,
    /// and only records the field offers (`records`, as `data` takes it): a deleted record, one
    /// of another type or a private one a shared form may not name is left unchosen.
    func links(from query: FormBody, records: (RecordType, String) -> [LinkFinder.Option]) -> [String: String] {
        fields.reduce(into: [:]) { links, field in
            let types: [RecordType]
            switch field.kind {
            case .record(let type): types = [type]
            case .records(let all): types = all
            default: return
            }
            guard let id = query[field.name].flatMap({ RecordID($0) }), types.contains(id.type),
                  records(id.type, field.listKind).contains(where: { $0.id == id.rawValue }) else { return }
            links[field.name] = id.rawValue
        }
    }

    /// The box beside a link field's list that finds a record by its id or words of its name.
    static func finderName(_ field: String) -> String { "find-" + field }

    /// The words that found several records, kept beside a list drawn again to show them (the
    /// box itself empty, so that a choice among them is read as the choice).
    static func matchedName(_ field: String) -> String { "matched-" + field }

    /// The records a link field may name, as its list offers them (`records`, as `data` takes
    /// it): a field naming several types names each record with its type. Nil for a field that
    /// is not a link.
    func linkFinder(_ field: Field, records: (RecordType, String) -> [LinkFinder.Option], t: Catalogue) -> LinkFinder? {
        switch field.kind {
        case .record(let type): LinkFinder(groups: [records(type, field.listKind)])
        case .records(let types):
            LinkFinder(groups: types.map { type in records(type, field.listKind).map { (id: $0.id, name: "\(t["link_type_\(type.rawValue)"]): \($0.name)", owner: $0.owner) } })
        default: nil
        }
    }

    /// The form with each link field's box read (`LinkFinder`): the record its words pick out
    /// becomes the field's choice; words that pick out none, or several, are the field's
    /// problem. Several are listed when the form is drawn again, the box emptied and the words
    /// kept beside it (`matchedName`): what is then chosen in the list is the choice, and
    /// nothing chosen there is said again rather than saved without the link.
    private func readingFinders(_ form: FormBody, records: (RecordType, String) -> [LinkFinder.Option], t: Catalogue) -> (form: FormBody, problems: [Problem]) {
        var read = form
        var problems: [Problem] = []
        for field in fields {
            guard let finder = linkFinder(field, records: records, t: t) else { continue }
            let typed = form.trimmed(Self.finderName(field.name)), matched = form.trimmed(Self.matchedName(field.name))
            let label = t["field_\(field.name)"]
            let chosen = form.trimmed(field.name)
            let outcome: Result<String, LinkFinder.Refusal>
            if !typed.isEmpty {
                outcome = finder.read(typed, label: label, t: t)
            } else if chosen == LinkFinder.noneOfThese {
                outcome = .success("")
            } else if !matched.isEmpty, chosen.isEmpty, finder.stillMatches(matched) {
                outcome = .failure(LinkFinder.unchosen(matched, label: label, t: t))
            } else {
                read.set(Self.matchedName(field.name), "")
                continue
            }
            switch outcome {
            case .success(let id):
                read.set(field.name, id)
                read.set(Self.matchedName(field.name), "")
            case .failure(let refusal):
                problems.append(Problem(field: field.name, message: refusal.message))
                if refusal.several {
                    read.set(Self.finderName(field.name), "")
                    read.set(Self.matchedName(field.name), typed.isEmpty ? matched : typed)
                    // A new form's choice made before the words (a page's preset) is not kept
                    // beside the matches, where saving again would take it; an edit form keeps
                    // the link the record has, which saving as it is keeps.
                    if form[Self.baselineName(field.name)] == nil { read.set(field.name, "") }
                }
            }
        }
        return (read, problems)
    }

    /// `edits(from:current:today:t:)` of the form with its finders read (`readingFinders`), and
    /// that form, to draw again on a refusal: a finder's problem refuses the form too.
    func edits(from form: FormBody, current: RecordView?, today: CalendarDate, t: Catalogue,
               records: (RecordType, String) -> [LinkFinder.Option]) -> (read: FormBody, outcome: Outcome) {
        let (read, finding) = readingFinders(form, records: records, t: t)
        switch edits(from: read, current: current, today: today, t: t) {
        case .refused(let problems):
            // A field changed under the form is said too: its problem moves the form's baseline.
            return (read, .refused(finding + problems.filter { problem in problem.changedMeanwhile || !finding.contains { $0.field == problem.field } }))
        case .accepted where !finding.isEmpty:
            return (read, .refused(finding))
        case .accepted(let edits):
            return (read, .accepted(edits))
        }
    }

    /// The hidden input that carries what a field showed when the form was drawn.
    static func baselineName(_ field: String) -> String { "was-" + field }

    enum Outcome {
        case accepted([Edit])
        case refused([Problem])
    }

    var type: RecordType
    var fields: [Field]

    static let risk = RecordForm(type: .risk, fields: [
        Field(name: "title", kind: .text),
        Field(name: "description", kind: .textarea),
        Field(name: "cause", kind: .textarea),
        Field(name: "effect", kind: .textarea),
        Field(name: "category", kind: .choice(RecordSchema.riskCategories)),
        Field(name: "owner", kind: .text),
        Field(name: "likelihood", kind: .level(RiskScore.likelihoodWords)),
        Field(name: "consequence", kind: .level(RiskScore.consequenceWords)),
        Field(name: "controls", kind: .textarea),
        Field(name: "gaps", kind: .textarea),
        Field(name: "review_date", kind: .date),
        Field(name: "treatment", kind: .choice(RecordSchema.treatments)),
        Field(name: "status", kind: .choice(RecordSchema.riskStatuses)),
        // Written at a review or when the risk closes: the board report's lessons (guide §3.8);
        // shown but not editable here before (web app audit, forty-third session).
        Field(name: "lessons_learned", kind: .textarea),
        Field(name: "escalation", kind: .choice(RecordSchema.escalationLevels)),
        Field(name: "target_likelihood", kind: .level(RiskScore.likelihoodWords)),
        Field(name: "target_consequence", kind: .level(RiskScore.consequenceWords)),
    ])

    static let action = RecordForm(type: .action, fields: [
        Field(name: "title", kind: .text),
        Field(name: "description", kind: .textarea),
        Field(name: "owner", kind: .text),
        Field(name: "due_date", kind: .date),
        Field(name: "status", kind: .choice(RecordSchema.actionStatuses)),
        Field(name: "completed_date", kind: .date),
        // What the action came from (a risk, a meeting, a decision…), as `action add source=`
        // (web app audit: the app could not say).
        Field(name: "source", kind: .records(Field.referenced(by: "source", of: .action))),
    ])

    static let meeting = RecordForm(type: .meeting, fields: [
        Field(name: "title", kind: .text),
        Field(name: "body", kind: .choice(RecordSchema.bodies)),
        Field(name: "date", kind: .date),
        Field(name: "status", kind: .choice(RecordSchema.meetingStatuses)),
        Field(name: "location", kind: .text),
        Field(name: "chair", kind: .text),
        Field(name: "agenda", kind: .record(.list)),
        Field(name: "minutes", kind: .textarea),
    ])

    static let decision = RecordForm(type: .decision, fields: [
        Field(name: "title", kind: .text),
        Field(name: "meeting", kind: .record(.meeting)),
        Field(name: "description", kind: .textarea),
        Field(name: "date", kind: .date),
        Field(name: "method", kind: .choice(RecordSchema.decisionMethods)),
        // They decide the majority required (guide §3.7).
        Field(name: "financial_implications", kind: .choice(["yes", "no"])),
        Field(name: "amount", kind: .text),
        Field(name: "outcome", kind: .choice(RecordSchema.decisionOutcomes)),
        Field(name: "casting_vote", kind: .choice(RecordSchema.castingVotes)),
    ])

    /// The scalar fields of a terms of reference; members, practices, roles counted and
    /// signatories are sets, kept on the record's page (Names and links, `Pages.setForms`).
    static let terms = RecordForm(type: .terms, fields: [
        Field(name: "title", kind: .text),
        Field(name: "body", kind: .choice(RecordSchema.bodies)),
        Field(name: "date_agreed", kind: .date),
        Field(name: "review_date", kind: .date),
        Field(name: "quorum", kind: .text),
        Field(name: "majority", kind: .choice(RecordSchema.majorityRules)),
        Field(name: "financial_majority", kind: .choice(RecordSchema.majorityRules)),
        Field(name: "proxies", kind: .textarea),
        Field(name: "proxy_votes", kind: .choice(["yes", "no"])),
        Field(name: "chair_casting_vote", kind: .choice(["yes", "no"])),
        Field(name: "description", kind: .textarea),
    ])

    static let declaration = RecordForm(type: .declaration, fields: [
        Field(name: "member", kind: .text),
        Field(name: "organisation", kind: .text),
        Field(name: "nature", kind: .choice(RecordSchema.interestNatures)),
        Field(name: "description", kind: .textarea),
        Field(name: "date_declared", kind: .date),
        // The meeting it was declared at, as `declaration add meeting=` (web app audit: only the
        // meeting's page could link it).
        Field(name: "meeting", kind: .record(.meeting)),
        Field(name: "date_withdrawn", kind: .date),
        Field(name: "dispensation", kind: .textarea),
    ])

    /// The cluster plan's scalar fields; its linked risks, actions and decisions are sets, kept on
    /// its page.
    static let plan = RecordForm(type: .plan, fields: [
        Field(name: "title", kind: .text),
        Field(name: "period_start", kind: .date),
        Field(name: "period_end", kind: .date),
        Field(name: "status", kind: .choice(RecordSchema.planStatuses)),
        Field(name: "priorities", kind: .record(.list)),
        Field(name: "description", kind: .textarea),
    ])

    /// A practice's contribution to the plan (QAIF CND015W, CND016W).
    static let contribution = RecordForm(type: .contribution, fields: [
        Field(name: "plan", kind: .record(.plan)),
        Field(name: "contributor", kind: .text),
        Field(name: "year", kind: .text),
        Field(name: "date", kind: .date),
        Field(name: "summary", kind: .textarea),
        Field(name: "outcomes", kind: .textarea),
    ])

    /// A list's item, edited from its own page (the list's page links each item's text): an
    /// agenda item typed wrong or pasted by mistake is corrected or deleted there (web app audit:
    /// the list page only moved items). Items are added and moved on the list's page.
    static let item = RecordForm(type: .item, fields: [
        Field(name: "text", kind: .textarea),
        Field(name: "owner", kind: .text),
        Field(name: "measure", kind: .textarea),
        Field(name: "done", kind: .choice(["yes", "no"])),
    ])

    static func of(_ type: RecordType) -> RecordForm? {
        switch type {
        case .risk: risk
        case .action: action
        case .meeting: meeting
        case .decision: decision
        case .declaration: declaration
        case .terms: terms
        case .plan: plan
        case .contribution: contribution
        case .item: item
        default: nil
        }
    }

    /// A field's value as the form shows it for `record` (dates as 15/12/2026).
    func shown(_ name: String, of record: RecordView?) -> String {
        guard let record else { return "" }
        if let (scoreField, half) = FieldInput.scoreHalf(name) {
            guard let score = record.value(scoreField).flatMap(RiskScore.init) else { return "" }
            return String(half == "likelihood" ? score.likelihood : score.consequence)
        }
        // A flag as its choice, a quorum and an amount as they are typed.
        if let flag = record.value(name)?.boolValue { return flag ? "yes" : "no" }
        if let rule = record.value(name).flatMap(QuorumRule.init) { return rule.description }
        guard let text = record.string(name) else { return "" }
        if case .date = fields.first(where: { $0.name == name })?.kind { return WalesDates.typed(iso: text) }
        if name == "amount" { return Amount.shown(text) }
        return text
    }

    /// A field changed under the form (and on it, or beside it): what it reads now.
    private func changedMeanwhile(_ field: String, now: String, _ t: Catalogue) -> Problem {
        Problem(field: field, message: t.text("form_changed_meanwhile", now.isEmpty ? t["form_empty"] : now), changedMeanwhile: true)
    }

    /// The edits a submitted form asks for; on a refusal, the problems, field by field.
    ///
    /// A field is written only when the person changed it: what they submitted differs from what
    /// the form showed (its baseline, `baselineName`), not merely from the record as it is now.
    /// Else a form opened before a sync wrote back, unseen, the values the sync had replaced.
    /// A field changed both under the form and on it is refused, showing the value it has now.
    func edits(from form: FormBody, current: RecordView?, today: CalendarDate, t: Catalogue) -> Outcome {
        var arguments: [String] = []
        var problems: [Problem] = []
        // Fields that changed under the form and were left alone on it.
        var changedUnderneath: [String: String] = [:]
        var written: Set<String> = []
        for field in fields {
            let typed = form.trimmed(field.name)
            // Compared as the form trims what is typed: a value ending in a line break is unchanged.
            let now = shown(field.name, of: current).trimmingCharacters(in: .whitespacesAndNewlines)
            let baseline = form[Self.baselineName(field.name)].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? now
            // Only what the person changed is written: an untouched field makes no change to sync.
            if baseline != now, typed == baseline { changedUnderneath[field.name] = now }
            if typed == baseline || typed == now { continue }
            if baseline != now {
                problems.append(changedMeanwhile(field.name, now: now, t))
                continue
            }
            written.insert(field.name)
            if typed.isEmpty, current == nil { continue }
            // An emptied date box empties the date (`RecordView.emptiedDate`), written as `FIELD=`,
            // where the date may be emptied; otherwise the form says so in its words, and which
            // date stays.
            if typed.isEmpty, case .date = field.kind, type.schema.field(field.name)?.emptiable != true {
                problems.append(Problem(field: field.name, message: t.text("date_cannot_empty", t["field_\(field.name)"], WalesDates.parse(now).map { WalesDates.shown(iso: $0) } ?? now)))
                continue
            }
            if typed.isEmpty, case .choice = field.kind { continue }
            if typed.isEmpty, case .level = field.kind { continue }
            if typed.isEmpty, case .record = field.kind { continue }
            if typed.isEmpty, case .records = field.kind { continue }
            var value = typed
            if case .date = field.kind, !typed.isEmpty {
                guard let iso = WalesDates.parse(typed) else {
                    // A right form naming no day says why (`2026-02-31`: February has 28 days).
                    // A spreadsheet's date number pasted in (`46113`) names the day it stands for,
                    // as import and the CLI do; it is never taken as that day.
                    let label = t["field_\(field.name)"]
                    let message = CalendarDate.problem(typed: typed).map { t.text("date_no_such_day", label, $0, typed) }
                        ?? CalendarDate.spreadsheetDay(typed: typed).map { t.text("date_spreadsheet_number", label, typed, $0.dayFirst) }
                        ?? t.text("date_unreadable", label, typed)
                    problems.append(Problem(field: field.name, message: message))
                    continue
                }
                value = iso
            }
            arguments.append("\(field.name)=\(value)")
        }
        // A score's halves are one value: one half written over the other half changed under the
        // form would make a score nobody saw.
        for name in written {
            guard let (_, half) = FieldInput.scoreHalf(name) else { continue }
            let partner = name.replacingOccurrences(of: half, with: half == "likelihood" ? "consequence" : "likelihood")
            if let now = changedUnderneath[partner] {
                problems.append(changedMeanwhile(partner, now: now, t))
            }
        }
        for field in fields where isRequired(field) && current == nil && form.trimmed(field.name).isEmpty {
            problems.append(Problem(field: field.name, message: t.text("needs_field", t["type_\(type.rawValue)"], Catalogue.inSentence(t["field_\(field.name)"]))))
        }
        if problems.isEmpty {
            do {
                return .accepted(try FieldInput.parse(arguments, type: type, current: current, today: today))
            } catch {
                let each = problemsOneByOne(arguments, current: current, today: today, besides: [])
                return .refused(each.isEmpty ? [problem(error)] : each)
            }
        }
        return .refused(problems + problemsOneByOne(arguments, current: current, today: today, besides: Set(problems.map(\.field))))
    }

    /// Every value the shared rules refuse, each parsed on its own, so that one Save lists every
    /// problem of the form (web app audit: a wrong date was said, then at the next Save a wrong
    /// quorum). A score's halves are read together by the rules, so they are left to the whole
    /// form's parse; a field already refused here (`besides`) is not said twice.
    private func problemsOneByOne(_ arguments: [String], current: RecordView?, today: CalendarDate, besides: Set<String>) -> [Problem] {
        var found: [Problem] = []
        for argument in arguments {
            let name = String(argument.prefix { $0 != "=" })
            guard FieldInput.scoreHalf(name) == nil, !besides.contains(name) else { continue }
            do {
                _ = try FieldInput.parse([argument], type: type, current: current, today: today)
            } catch {
                let refused = problem(error)
                if !found.contains(where: { $0.field == refused.field && $0.message == refused.message }) { found.append(refused) }
            }
        }
        return found
    }

    /// A refusal from the shared rules, placed beside the field it names.
    func problem(_ error: ClusterSyncError) -> Problem {
        var field = error.field ?? ""
        switch field {
        case "score": field = "likelihood"
        case "target_score": field = "target_likelihood"
        default: break
        }
        if !fields.contains(where: { $0.name == field }) { field = fields[0].name }
        return Problem(field: field, message: error.message)
    }

    /// The template's data: every field with its label, what to show in it, and its problem.
    /// `records` lists the records a `record` field may link to: id and name.
    /// `baselines`: for an edit form, what each field showed when the form was first drawn.
    /// `hints`: a field's hint besides a date's, by field name (what the replica's role may not
    /// write there). `suggestions`: names a text field's box offers as one types (a declaration's
    /// member), by field name.
    func data(heading: String, action: String, cancel: String, values: (String) -> String, baselines: ((String) -> String)? = nil,
              problems: [Problem], t: Catalogue, hints: [String: String] = [:], suggestions: [String: [String]] = [:],
              records: (RecordType, String) -> [LinkFinder.Option]) -> [String: Any] {
        var focused = false
        let rows: [[String: Any]] = fields.map { field in
            var row: [String: Any] = ["name": field.name, "label": t["field_\(field.name)"], "value": values(field.name), "required": isRequired(field)]
            if let baselines {
                row["baseline"] = ["name": Self.baselineName(field.name), "value": baselines(field.name)]
            }
            var described: [String] = []
            if case .date = field.kind {
                row["hint"] = t["form_date_hint"]
                described.append("h-\(field.name)")
            } else if let hint = hints[field.name] {
                row["hint"] = hint
                described.append("h-\(field.name)")
            }
            if let problem = problems.first(where: { $0.field == field.name }) {
                row["error"] = Self.worded(problem, t: t)
                described.append("e-\(field.name)")
                // The first field to put right has the focus, so the keyboard starts there (no
                // script: the browser's own autofocus).
                if !focused {
                    row["autofocus"] = true
                    focused = true
                }
            }
            if !described.isEmpty { row["describedBy"] = described.joined(separator: " ") }
            switch field.kind {
            case .text, .date:
                row["isText"] = true
                if let names = suggestions[field.name], !names.isEmpty { row["suggestions"] = ["names": names.map { ["name": $0] }] }
            case .textarea: row["isTextarea"] = true
            case .choice(let options):
                row["isSelect"] = true
                row["options"] = [["optionValue": "", "optionLabel": t["form_choose"], "selected": values(field.name).isEmpty]]
                    + options.map { ["optionValue": $0, "optionLabel": $0.replacingOccurrences(of: "-", with: " "), "selected": values(field.name) == $0] }
            case .level(let words):
                row["isSelect"] = true
                row["options"] = [["optionValue": "", "optionLabel": t["form_choose"], "selected": values(field.name).isEmpty]]
                    + words.enumerated().map { offset, word in
                        ["optionValue": String(offset + 1), "optionLabel": "\(offset + 1) \(word)", "selected": values(field.name) == String(offset + 1)]
                    }
            case .record, .records:
                row["isSelect"] = true
                let finder = linkFinder(field, records: records, t: t)!
                let current = values(field.name)
                let typed = values(Self.finderName(field.name)).trimmingCharacters(in: .whitespacesAndNewlines)
                let matched = typed.isEmpty ? values(Self.matchedName(field.name)).trimmingCharacters(in: .whitespacesAndNewlines) : ""
                let (shown, hint) = finder.listing(typed.isEmpty ? matched : typed, t: t)
                let showsMatches = !matched.isEmpty && finder.stillMatches(matched)
                var listed = shown
                // The choice stays shown: one not among those listed by its name, a link to a
                // record no longer offered (deleted since) named so, rather than the box
                // showing "Choose…" as if there were none.
                if !current.isEmpty, !listed.contains(where: { $0.id == current }) {
                    let name = finder.offered.first { $0.id == current }?.name ?? t.text("form_link_not_offered", current)
                    listed.insert((current, name, nil), at: 0)
                }
                // Beside matches, "None of these" leaves the field without a link (a review: only
                // a match, other words or *Cancel* ended the form).
                let none: [[String: Any]] = showsMatches ? [["optionValue": LinkFinder.noneOfThese, "optionLabel": t["link_find_none_of_these"], "selected": false]] : []
                row["options"] = [["optionValue": "", "optionLabel": t["form_choose"], "selected": current.isEmpty]] + none
                    + listed.map { ["optionValue": $0.id, "optionLabel": $0.name, "selected": current == $0.id] }
                if let hint {
                    row["finder"] = [
                        "name": Self.finderName(field.name), "label": t["link_find"], "value": typed, "hint": hint,
                        "matchedName": Self.matchedName(field.name), "matched": showsMatches ? matched : "",
                    ]
                }
            }
            return row
        }
        return [
            "heading": heading, "action": action, "cancel": cancel, "fields": rows,
            "hasErrors": !problems.isEmpty,
            "errors": problems.map { ["field": $0.field, "message": Self.worded($0, t: t)] },
        ]
    }

    /// A refusal from the shared rules as the form says it: a message that opens with the
    /// field's stored name (`quorum must be…`, `completed_date must be…`) opens with the label
    /// the form shows instead, and its dates read as the form's do (chair's audit: the field
    /// named in lower case and in the CLI's spelling).
    static func worded(_ problem: Problem, t: Catalogue) -> String {
        var message = problem.message
        let label = t["field_\(problem.field)"]
        if message.hasPrefix(problem.field + " "), !label.isEmpty, !label.hasPrefix("field_") {
            message = label + message.dropFirst(problem.field.count)
        }
        return WalesDates.shown(inText: message)
    }
}
