/// Checks and parses field values. Every write, local or remote, passes through `validate`.
extension RecordSchema {
    /// Throws if `value` may not be written to `field` of this record type.
    /// A nil value (a set remove) is valid only for set fields.
    public func validate(field name: String, value: JSONValue?) throws(ClusterSyncError) {
        try validate(field: name, spec: field(name), value: value)
    }

    /// `validate(field:value:)` with the field's spec already looked up (`field(name)`).
    func validate(field name: String, spec: FieldSpec?, value: JSONValue?) throws(ClusterSyncError) {
        guard let spec else {
            // The name comes from whoever wrote the change: quoted only when short and free of
            // anything like an NHS number (found by Fuzz/run.sh: a 3,000-byte name was echoed).
            let quoted = PatientDataGuard.quotable(name)
            throw ClusterSyncError(.unknownField,
                "\(type.withArticle) has no field \(quoted.map { "\"\($0)\"" } ?? "named with \(name.count) characters"); "
                    + "its fields are \(fields.map(\.name).joined(separator: ", "))",
                field: quoted)
        }
        if spec.kind.isMap {
            guard let (_, key) = FieldMap.split(name) else {
                throw ClusterSyncError(.invalidValue, "\(name) is a map: write one entry as \(name):KEY (e.g. \(name):Dr Siân Evans)", field: name)
            }
            try FieldMap.validateKey(key, field: spec.name)
        }
        guard let value else {
            if spec.kind.cardinality == .set { return }
            throw ClusterSyncError(.invalidValue, "\(name) needs a value", field: spec.name)
        }
        try spec.kind.validate(value, field: spec.name)
        if value == RecordView.emptiedDate, case .date = spec.kind, !spec.emptiable {
            throw ClusterSyncError(.invalidValue,
                "\(spec.name) cannot be emptied: the record is dated or in force by it, or it is set once; give the right date instead", field: spec.name)
        }
    }
}

extension FieldKind {
    /// Error messages name the field and what it accepts, and never repeat free text (text, tags,
    /// note text): for those they give the length. Other values are quoted only when
    /// `PatientDataGuard.quotable` allows it.
    func validate(_ value: JSONValue, field: String) throws(ClusterSyncError) {
        func fail(_ expected: String, got: String? = nil) -> ClusterSyncError {
            ClusterSyncError(.invalidValue, "\(field) must be \(expected); got \(got ?? value.quotedForError)", field: field)
        }
        switch self {
        case .text(let maxLength):
            guard let s = value.stringValue else { throw fail("text", got: value.typeDescription) }
            try PatientDataGuard.check(s, field: field)
            // A string's UTF-8 length bounds its character count: count characters only when needed.
            guard s.utf8.count <= maxLength || s.count <= maxLength else { throw fail("at most \(maxLength) characters", got: "\(s.count) characters") }
        case .choice(let words):
            guard let s = value.stringValue, words.contains(s) else { throw fail("one of \(words.joined(separator: ", "))") }
        case .date:
            // "" empties the field (`RecordView.emptiedDate`).
            guard let s = value.stringValue, s.isEmpty || CalendarDate(s) != nil else { throw fail("a date written YYYY-MM-DD, or \"\" for none") }
        case .riskScore:
            guard RiskScore(value) != nil, case .object(let o) = value, o.count == 2 else {
                throw fail("a likelihood and a consequence, each 1 to 5 ({\"likelihood\":4,\"consequence\":3})")
            }
        case .flag:
            guard value.boolValue != nil else { throw fail("true or false") }
        case .reference(let types), .referenceSet(let types):
            guard let s = value.stringValue, let id = RecordID(s), types.contains(id.type) else {
                throw fail("the id of a \(types.map(\.rawValue).joined(separator: " or ")), in capitals")
            }
        case .tagSet:
            guard let s = value.stringValue else { throw fail("a label of 1 to 50 characters", got: value.typeDescription) }
            try PatientDataGuard.check(s, field: field)
            guard !s.isEmpty, s.utf8.count <= 50 || s.count <= 50 else { throw fail("a label of 1 to 50 characters", got: "\(s.count) characters") }
        case .notes:
            let shape = "a note {\"date\":\"YYYY-MM-DD\",\"text\":\"...\"}"
            guard case .object(let o) = value else { throw fail(shape, got: value.typeDescription) }
            if let text = o["text"]?.stringValue { try PatientDataGuard.check(text, field: field) }
            guard o.count == 2, let date = o["date"], let text = o["text"] else {
                throw fail(shape, got: "an object with the keys \(o.keys.sorted().map { PatientDataGuard.quotable($0) ?? "…" }.joined(separator: ", "))")
            }
            guard let s = date.stringValue, CalendarDate(s) != nil else {
                throw fail("a note whose date is written YYYY-MM-DD", got: date.quotedForError)
            }
            guard let t = text.stringValue, !t.isEmpty, t.count <= 10_000 else {
                throw fail("a note whose text has 1 to 10000 characters", got: text.stringValue.map { "\($0.count) characters" } ?? text.typeDescription)
            }
        case .choiceMap(let words):
            // "" takes the entry out (`FieldMap.withdrawn`: a vote recorded in error).
            guard let s = value.stringValue, s.isEmpty || words.contains(s) else {
                throw fail("one of \(words.joined(separator: ", ")), or \"\" for none")
            }
        case .choiceSet(let words):
            guard let s = value.stringValue, words.contains(s) else { throw fail("one of \(words.joined(separator: ", "))") }
        case .attendeeSet:
            try Attendee.validate(value, field: field)
        case .quorumRule:
            guard QuorumRule(value) != nil else {
                throw fail("a quorum {\"count\":5} or a proportion {\"denominator\":2,\"numerator\":1}")
            }
        case .amount:
            guard let s = value.stringValue, Amount.isValid(s) else {
                throw fail(Amount.described)
            }
        case .position:
            guard case .object(let o) = value, o.count == 1, let after = o["after"],
                  after == .null || (after.stringValue.flatMap { ChangeID($0) } != nil)
            else { throw fail("a position {\"after\":null} or {\"after\":\"counter@replica\"}") }
        }
    }
}

extension JSONValue {
    /// The value as an error message may show it: its JSON text if `PatientDataGuard.quotable`
    /// allows, else only its type and size.
    var quotedForError: String {
        PatientDataGuard.quotable(canonicalText) ?? typeDescription
    }

    /// The value's type and size, never its contents: "text of 221 characters", "a number".
    var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string(let s): "text of \(s.count) characters"
        case .array(let a): "an array of \(a.count) values"
        case .object(let o): "an object with \(o.count) keys"
        }
    }
}

extension PatientDataGuard {
    static func check(_ text: String, field: String) throws(ClusterSyncError) {
        guard nhsNumber(in: text) != nil else { return }
        throw ClusterSyncError(.patientData,
            "\(field) contains a number that passes the NHS number check; patient-identifiable data must not be "
            + "entered in cluster registers (guide §14.9), and a synced history would copy it to every practice. "
            + "Remove it or refer to the patient another way.",
            field: field)
    }
}
