/// Redaction: erasing one written value from every store and history, keeping the change itself
/// (Protocol/changes.md §10). A redaction is a change of its own, on the record whose value it
/// erases, that travels through sync like any other:
///
///     field "redact", value {"change": "<id>", "field": "<field>", "reason": "<why>"}
///
/// Every store that holds (or later receives) the named change replaces its value by the marker
/// `{"redacted": "<id of the redaction>"}`. The redaction's stamped author, clock and reason say
/// who, when and why; the server's chain keeps the erased change's content hash, so `verify`
/// still passes and lists the redaction. Pure: stores decide with these functions.
public enum Redaction {
    /// The reserved field a redaction writes. Like `deleted`, every record type has it.
    public static let field = "redact"
    public static let markerKey = "redacted"
    public static let maxReasonLength = 500

    /// What a redaction asks.
    public struct Request: Sendable, Hashable {
        /// The change whose value is erased.
        public var change: ChangeID
        /// Its field (checked against the change where it is held).
        public var field: String
        public var reason: String

        public init(change: ChangeID, field: String, reason: String) {
            self.change = change
            self.field = field
            self.reason = reason
        }

        public var value: JSONValue {
            .object(["change": .string(change.description), "field": .string(field), "reason": .string(reason)])
        }
    }

    /// Only free text can hold what a redaction is for (a name, an address typed by mistake);
    /// choices, dates, scores and references cannot, and erasing them would break the record.
    public static func isRedactable(_ kind: FieldKind) -> Bool {
        switch kind {
        case .text, .tagSet, .notes, .attendeeSet: true
        default: false
        }
    }

    /// The marker that replaces an erased value.
    public static func marker(by redaction: ChangeID) -> JSONValue {
        .object([markerKey: .string(redaction.description)])
    }

    /// Whether a value is a redaction marker (exactly one key, `redacted`, naming a change id).
    public static func isMarker(_ value: JSONValue?) -> Bool {
        guard case .object(let object)? = value, object.count == 1, let id = object[markerKey]?.stringValue else { return false }
        return ChangeID(id) != nil
    }

    /// The redaction that erased a marked value.
    public static func redaction(ofMarker value: JSONValue?) -> ChangeID? {
        guard isMarker(value) else { return nil }
        return value?[markerKey]?.stringValue.flatMap { ChangeID($0) }
    }

    /// What a change asks, if it is a redaction with a well-formed value.
    public static func request(of change: Change) -> Request? {
        guard change.field == field, case .object(let object)? = change.value, object.count == 3,
              let id = object["change"]?.stringValue.flatMap({ ChangeID($0) }),
              let target = object["field"]?.stringValue, let reason = object["reason"]?.stringValue
        else { return nil }
        return Request(change: id, field: target, reason: reason)
    }

    /// The change as it is kept once its value is erased by `redaction`. A change without a
    /// value, or already erased, is kept as it is.
    public static func erased(_ change: Change, by redaction: ChangeID) -> Change {
        guard change.value != nil, !isMarker(change.value) else { return change }
        var erased = change
        erased.value = marker(by: redaction)
        return erased
    }

    /// The checks of a redaction change alone (part of `Change.validate()`): the value's shape,
    /// a field of the record type that holds free text, a reason of 1 to 500 characters without
    /// an NHS number, no `sup` or `seen`, and not naming itself.
    public static func validate(_ change: Change) throws(ClusterSyncError) {
        guard let request = request(of: change) else {
            throw ClusterSyncError(.invalidValue,
                "redact must be {\"change\": a change id, \"field\": a field name, \"reason\": text}", field: field)
        }
        guard change.supersedes.isEmpty, change.seen.isEmpty else {
            throw ClusterSyncError(.invalidValue, "a redaction supersedes nothing and has seen nothing", field: field)
        }
        guard request.change != change.id else {
            throw ClusterSyncError(.invalidValue, "a redaction cannot name itself", field: field)
        }
        guard let kind = change.recordType.schema.field(request.field)?.kind, request.field != RecordSchema.deletedField.name else {
            throw ClusterSyncError(.unknownField,
                "redact names field \"\(request.field.prefix(64))\", which a \(change.recordType.rawValue) does not have", field: field)
        }
        guard isRedactable(kind) else {
            throw ClusterSyncError(.invalidValue,
                "only free text can be redacted (text, tags, notes, attendees); \(request.field) is not", field: field)
        }
        if PatientDataGuard.nhsNumber(in: request.reason) != nil {
            throw ClusterSyncError(.patientData, "the reason of a redaction holds an NHS number", field: field)
        }
        let length = request.reason.trimmingWhitespace.count
        guard length >= 1, request.reason.count <= maxReasonLength else {
            throw ClusterSyncError(.invalidValue,
                "the reason of a redaction must be 1 to \(maxReasonLength) characters; got \(request.reason.count)", field: field)
        }
    }

    /// Whether `redaction` may erase `target`, a change the store holds: the same record, the
    /// field it names, and a value to erase.
    public static func check(_ request: Request, of redaction: Change, target: Change) throws(ClusterSyncError) {
        guard target.record == redaction.record, target.field == request.field else {
            throw ClusterSyncError(.invalidValue,
                "redaction \(redaction.id) names change \(request.change), which writes \(target.record) field \(target.field), "
                + "not \(redaction.record) field \(request.field)", field: field)
        }
        guard target.value != nil else {
            throw ClusterSyncError(.invalidValue, "change \(request.change) removes a member and holds no value to redact", field: field)
        }
    }
}

extension String {
    /// Without leading and trailing white space (spaces, tabs, line breaks).
    var trimmingWhitespace: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return Substring(String(scalars[first...last]))
    }
}
