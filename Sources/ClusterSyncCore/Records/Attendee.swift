/// One member of a meeting's `attendees` set: who attended, in what capacity, for which
/// practice. Being a set member it is added and removed whole (add wins); to correct an
/// attendee, remove the entry and add the corrected one.
public struct Attendee: Hashable, Sendable {
    public var name: String
    /// One of `RecordSchema.attendeeRoles`.
    public var role: String
    /// One of `RecordSchema.attendeeCapacities`, when recorded (records made before the
    /// thirty-eighth session have none, and a member without one counts as a clinician).
    public var capacity: String?
    /// The practice (its id) the attendee comes from or attends for.
    public var practice: String?
    /// For a buddy: the practice represented by the buddying arrangement.
    public var represents: String?
    /// For a substitute: the member they stand in for (their name, as the terms of reference
    /// list it). The substitute votes and counts in that member's place, never beside them.
    public var replaces: String?
    /// For a substitute or buddy: who agreed the arrangement before the meeting (QAIF CND014W
    /// counts such attendance only when the Health Board agreed it in advance).
    public var agreedBy: String?
    /// The day it was agreed, when recorded: an arrangement agreed after the meeting is not
    /// "agreed in advance" and does not count.
    public var agreedOn: CalendarDate?

    public init(name: String, role: String, capacity: String? = nil, practice: String? = nil, represents: String? = nil,
                replaces: String? = nil, agreedBy: String? = nil, agreedOn: CalendarDate? = nil) {
        self.name = name
        self.role = role
        self.capacity = capacity
        self.practice = practice
        self.represents = represents
        self.replaces = replaces
        self.agreedBy = agreedBy
        self.agreedOn = agreedOn
    }

    /// An attendee as a person typed one, for every front end: surrounding spaces trimmed, an
    /// empty answer taken as not given, the day agreed read as dates are typed (`14/11/2026` or
    /// `2026-11-14`). The replica validates the rest when it is recorded.
    public static func typed(name: String, role: String, capacity: String? = nil, practice: String? = nil, represents: String? = nil,
                             replaces: String? = nil, agreedBy: String? = nil, agreedOn: String? = nil) throws(ClusterSyncError) -> Attendee {
        func given(_ text: String?) -> String? {
            guard let trimmed = text?.trimmingCharacters(in: .whitespaces), !trimmed.isEmpty else { return nil }
            return trimmed
        }
        var day: CalendarDate?
        if let typed = given(agreedOn) {
            guard let parsed = CalendarDate(typed: typed) else {
                // A right form naming no day says why, as every other date does (web app audit).
                let why = CalendarDate.problem(typed: typed).map { "must be a day that exists: \($0)" }
                    ?? "must be a date written DD/MM/YYYY or YYYY-MM-DD"
                let note = CalendarDate.spreadsheetNote(typed: typed).map { ", \($0)" } ?? ""
                throw ClusterSyncError(.invalidValue,
                    "the day it was agreed (agreed_on) \(why); got \(PatientDataGuard.quotable(typed) ?? "…")\(note)",
                    field: "agreed_on")
            }
            day = parsed
        }
        // Said plainly here, before the value's shape check words it for whoever wrote the JSON.
        guard given(name) != nil else { throw ClusterSyncError(.invalidValue, "an attendee needs a name", field: "name") }
        return Attendee(name: given(name) ?? "", role: given(role) ?? "member", capacity: given(capacity), practice: given(practice),
                        represents: given(represents), replaces: given(replaces), agreedBy: given(agreedBy), agreedOn: day)
    }

    public init?(_ value: JSONValue) {
        guard (try? Self.validate(value, field: "attendees")) != nil, case .object(let o) = value else { return nil }
        self.init(name: o["name"]!.stringValue!, role: o["role"]!.stringValue!, capacity: o["capacity"]?.stringValue,
                  practice: o["practice"]?.stringValue,
                  represents: o["represents"]?.stringValue, replaces: o["replaces"]?.stringValue, agreedBy: o["agreed_by"]?.stringValue,
                  agreedOn: o["agreed_on"]?.stringValue.flatMap(CalendarDate.init))
    }

    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "role": .string(role)]
        if let capacity { o["capacity"] = .string(capacity) }
        if let practice { o["practice"] = .string(practice) }
        if let represents { o["represents"] = .string(represents) }
        if let replaces { o["replaces"] = .string(replaces) }
        if let agreedBy { o["agreed_by"] = .string(agreedBy) }
        if let agreedOn { o["agreed_on"] = .string(agreedOn.description) }
        return .object(o)
    }

    /// How a person reads it: `Dr Siân Evans (substitute, clinician, prestatyn, agreed by BCUHB)`.
    public var text: String {
        var parts = [role]
        if let capacity { parts.append(capacity.replacingOccurrences(of: "-", with: " ")) }
        if let practice { parts.append(practice) }
        if let represents { parts.append("for \(represents)") }
        if let replaces { parts.append("replacing \(replaces)") }
        if let agreedBy { parts.append("agreed by \(agreedBy)\(agreedOn.map { " on \($0)" } ?? "")") }
        return "\(name) (\(parts.joined(separator: ", ")))"
    }

    static let keys: Set<String> = ["name", "role", "capacity", "practice", "represents", "replaces", "agreed_by", "agreed_on"]

    /// Whether a substitute's or buddy's arrangement counts at a meeting on `date`: agreed, and
    /// (when the day is recorded) on or before the meeting. nil when it counts, else why not.
    public func arrangementRefusal(meetingOn date: CalendarDate) -> String? {
        guard agreedBy != nil else { return "not agreed in advance" }
        if let agreedOn, agreedOn > date { return "agreed after the meeting (\(agreedOn))" }
        return nil
    }

    /// Whether a member or buddy counts for their own practice at a meeting on `date`: a
    /// clinician does (as does a member whose capacity was not recorded); a practice manager or
    /// a senior administrator only by an arrangement agreed in advance (seed 003: the practice is
    /// represented by a clinical partner or senior clinician, senior administrators "may also
    /// attend", and another representative needs the Health Board's prior agreement). nil when
    /// it counts, else why not.
    public func ownPracticeRefusal(meetingOn date: CalendarDate) -> String? {
        let words = ["practice-manager": "practice manager", "senior-administrator": "senior administrator"]
        guard let capacity, let who = words[capacity] else { return nil }
        return arrangementRefusal(meetingOn: date).map { "\(who) \($0)" }
    }

    static let shape = "an attendee {\"name\":\"...\",\"role\":\"member\"} with optional capacity, practice, represents, replaces, agreed_by, agreed_on"

    /// A refusal of an attendee as a form shows it: what is wrong, without the JSON shape that
    /// follows it for whoever wrote the JSON (web app audit: the app showed the JSON).
    public static func formMessage(_ message: String) -> String {
        guard let note = message.range(of: " (attendees must each be \(shape))") else { return message }
        return String(message[..<note.lowerBound]) + message[note.upperBound...]
    }

    static func validate(_ value: JSONValue, field: String) throws(ClusterSyncError) {
        // What is wrong first, in the words a person filling in a form reads; the shape after,
        // for whoever wrote the JSON.
        func fail(_ why: String) -> ClusterSyncError { ClusterSyncError(.invalidValue, "\(why) (\(field) must each be \(shape))", field: field) }
        guard case .object(let o) = value else { throw fail("got \(value.typeDescription)") }
        for text in o.values.compactMap(\.stringValue) { try PatientDataGuard.check(text, field: field) }
        guard Set(o.keys).isSubset(of: keys) else {
            throw fail("unknown keys \(Set(o.keys).subtracting(keys).sorted().map { PatientDataGuard.quotable($0) ?? "…" }.joined(separator: ", "))")
        }
        guard let name = o["name"]?.stringValue, !name.isEmpty, name.count <= 200 else { throw fail("name must be 1 to 200 characters") }
        guard let role = o["role"]?.stringValue, RecordSchema.attendeeRoles.contains(role) else {
            throw fail("role must be one of \(RecordSchema.attendeeRoles.joined(separator: ", "))")
        }
        if let v = o["capacity"] {
            guard let s = v.stringValue, RecordSchema.attendeeCapacities.contains(s) else {
                throw fail("capacity must be one of \(RecordSchema.attendeeCapacities.joined(separator: ", "))")
            }
        }
        for key in ["practice", "represents"] {
            guard let v = o[key] else { continue }
            guard let s = v.stringValue, PracticeName.isValid(s) else {
                let given = v.stringValue.flatMap(PatientDataGuard.quotable).map { "; got \"\($0)\"" } ?? ""
                throw fail("\(key) must be a practice's id as the cluster registered it (such as prestatyn): 1 to 64 of A-Z, a-z, 0-9, '.', '_' or '-', starting with a letter or digit\(given)")
            }
        }
        if let v = o["agreed_by"] {
            guard let s = v.stringValue, !s.isEmpty, s.count <= 200 else { throw fail("agreed_by must be 1 to 200 characters") }
        }
        if let v = o["replaces"] {
            // A name as a vote's key is one (FieldMap.validateKey): it is shown in checks and
            // the board report, so no line breaks, no blank, no spaces at either end.
            guard let s = v.stringValue, !s.isEmpty, s.count <= 200, !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
                  s.first?.isWhitespace == false, s.last?.isWhitespace == false else {
                throw fail("replaces must be the member's name: 1 to 200 characters, no line breaks or control characters, no spaces at either end")
            }
            guard role == "substitute" else { throw fail("only a substitute replaces a member; this attendee's role is \(role)") }
            guard GovernanceRecords.nameKey(s) != GovernanceRecords.nameKey(name) else { throw fail("a substitute cannot replace themselves") }
        }
        if let v = o["agreed_on"] {
            guard let s = v.stringValue, CalendarDate(s) != nil else { throw fail("agreed_on must be a date, YYYY-MM-DD") }
            guard o["agreed_by"] != nil else { throw fail("agreed_on needs agreed_by: who agreed it") }
        }
    }
}

/// The names of tenants, regions, clusters and practices: 1 to 64 of A-Z, a-z, 0-9, '.', '_' or
/// '-', starting with a letter or digit. One rule for the server (which registers them) and the
/// replica (which is initialised with them): ASCII only, because these names travel in
/// certificate URIs and file paths, and a replica named otherwise could never be registered.
public enum PracticeName {
    public static func isValid(_ s: String) -> Bool {
        let utf8 = s.utf8
        func isAlnum(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        guard (1...64).contains(utf8.count), let first = utf8.first, isAlnum(first) else { return false }
        return utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Throws `invalid-value` naming the kind of name (`tenant`, `cluster`, …) and what it must be.
    public static func check(_ name: String, _ kind: String) throws(ClusterSyncError) {
        guard isValid(name) else {
            throw ClusterSyncError(.invalidValue,
                "a \(kind) name must be 1 to 64 of A-Z, a-z, 0-9, '.', '_' or '-', starting with a letter or digit; got \"\(name.prefix(80))\"",
                field: kind)
        }
    }
}
