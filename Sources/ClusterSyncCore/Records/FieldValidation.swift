/// Checks and parses field values. Every write, local or remote, passes through `validate`.
extension RecordSchema {
    /// Throws if `value` may not be written to `field` of this record type.
    /// A nil value (a set remove) is valid only for set fields.
    public func validate(field name: String, value: JSONValue?) throws(ClusterSyncError) {
        guard let spec = field(name) else {
            throw ClusterSyncError(.unknownField,
                "a \(type.rawValue) has no field \"\(name)\"; its fields are \(fields.map(\.name).joined(separator: ", "))",
                field: name)
        }
        guard let value else {
            if spec.kind.cardinality == .set { return }
            throw ClusterSyncError(.invalidValue, "\(name) needs a value", field: name)
        }
        try spec.kind.validate(value, field: name)
    }
}

extension FieldKind {
    func validate(_ value: JSONValue, field: String) throws(ClusterSyncError) {
        func fail(_ expected: String) -> ClusterSyncError {
            ClusterSyncError(.invalidValue, "\(field) must be \(expected); got \(value.canonicalText.prefix(60))", field: field)
        }
        switch self {
        case .text(let maxLength):
            guard let s = value.stringValue else { throw fail("text") }
            guard s.count <= maxLength else { throw fail("at most \(maxLength) characters (it has \(s.count))") }
            try PatientDataGuard.check(s, field: field)
        case .choice(let words):
            guard let s = value.stringValue, words.contains(s) else { throw fail("one of \(words.joined(separator: ", "))") }
        case .date:
            guard let s = value.stringValue, CalendarDate(s) != nil else { throw fail("a date written YYYY-MM-DD") }
        case .riskScore:
            guard RiskScore(value) != nil, case .object(let o) = value, o.count == 2 else {
                throw fail("a likelihood and a consequence, each 1 to 5 ({\"likelihood\":4,\"consequence\":3})")
            }
        case .flag:
            guard value.boolValue != nil else { throw fail("true or false") }
        case .reference(let types), .referenceSet(let types):
            guard let s = value.stringValue, let id = RecordID(s), types.contains(id.type) else {
                throw fail("the id of a \(types.map(\.rawValue).joined(separator: " or "))")
            }
        case .tagSet:
            guard let s = value.stringValue, !s.isEmpty, s.count <= 50 else { throw fail("a label of 1 to 50 characters") }
            try PatientDataGuard.check(s, field: field)
        case .notes:
            guard case .object(let o) = value, o.count == 2, let date = o["date"]?.stringValue, CalendarDate(date) != nil,
                  let text = o["text"]?.stringValue, !text.isEmpty, text.count <= 10_000
            else { throw fail("a note {\"date\":\"YYYY-MM-DD\",\"text\":\"...\"}") }
            try PatientDataGuard.check(text, field: field)
        case .position:
            guard case .object(let o) = value, o.count == 1, let after = o["after"],
                  after == .null || (after.stringValue.flatMap { ChangeID($0) } != nil)
            else { throw fail("a position {\"after\":null} or {\"after\":\"counter@replica\"}") }
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
