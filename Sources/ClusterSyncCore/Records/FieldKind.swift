/// What a field holds, which decides how its writes are read (register, set or log) and which
/// values it accepts.
public enum FieldKind: Sendable, Equatable {
    /// Free text, checked for patient data. `multiline` fields may be long.
    case text(maxLength: Int)
    /// One of a fixed list of words.
    case choice([String])
    /// A calendar date, `YYYY-MM-DD` (typed also as `DD/MM/YYYY`: `CalendarDate(typed:)`).
    case date
    /// A likelihood and consequence pair on the NHS 5x5 matrix, held together as one value.
    case riskScore
    /// A yes/no flag.
    case flag
    /// The id of another record of one of these types.
    case reference([RecordType])
    /// An add-wins set of record ids.
    case referenceSet([RecordType])
    /// An add-wins set of short labels.
    case tagSet
    /// An append-only log of dated, authored notes.
    case notes
    /// A list item's place in its list: a slot in the list's replicated tree.
    case position
    /// A map from a key (a member's name) to one of these words, each key its own register:
    /// written as field `NAME:KEY` (`votes:Dr Siân Evans`), so two keys never conflict and one
    /// key written twice concurrently does.
    case choiceMap([String])
    /// An add-wins set of meeting attendees: `{"name", "role", "capacity"?, "practice"?, "represents"?, "replaces"?, "agreed_by"?, "agreed_on"?}`.
    case attendeeSet
    /// An add-wins set of words from a fixed list.
    case choiceSet([String])
    /// A quorum rule: `{"count": N}` members, or `{"numerator": A, "denominator": B}` of the members.
    case quorumRule
    /// An amount of money in pounds: digits, optionally with two decimal places (`12000`, `350.50`).
    case amount

    /// How the live writes of such a field are read.
    public var cardinality: Cardinality {
        switch self {
        case .referenceSet, .tagSet, .attendeeSet, .choiceSet: .set
        case .notes: .log
        default: .register
        }
    }

    public enum Cardinality: Sendable {
        /// Live writes are competing values: one is a value, more are a conflict.
        case register
        /// Live writes are members; removing needs the adds it saw.
        case set
        /// Every write is kept, in clock order.
        case log
    }
}

public struct FieldSpec: Sendable {
    public var name: String
    public var kind: FieldKind
    /// Set once: a replica refuses to overwrite it (concurrent first writes still conflict).
    public var setOnce: Bool
    /// A date that may be emptied (`RecordView.emptiedDate`): one that may be set by mistake
    /// and is not what the record is dated or in force by (a review, a due or withdrawal date).
    public var emptiable: Bool
    public var summary: String

    public init(_ name: String, _ kind: FieldKind, setOnce: Bool = false, emptiable: Bool = false, _ summary: String) {
        self.name = name
        self.kind = kind
        self.setOnce = setOnce
        self.emptiable = emptiable
        self.summary = summary
    }
}

extension FieldSpec {
    /// The summary with what the field accepts, for help texts and forms: the allowed values of a
    /// choice, the date format, the score's range. Said once here so every front end says the same.
    public var helpText: String {
        switch kind {
        case .choice(let values), .choiceSet(let values), .choiceMap(let values):
            let allowed = values.joined(separator: ", ")
            return values.allSatisfy(summary.contains) ? summary : "\(summary) (one of: \(allowed))"
        case .date:
            return summary.contains("YYYY-MM-DD") ? summary : "\(summary) (a date, YYYY-MM-DD or DD/MM/YYYY)"
        case .riskScore:
            return "\(summary); likelihood and consequence are 1 to 5 each"
        case .flag:
            return "\(summary) (yes or no)"
        default:
            return summary
        }
    }
}
