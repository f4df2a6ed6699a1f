/// One edit of one field of one record: the unit of replication.
///
/// A change with a `value` adds that value to the field; every change also kills the earlier
/// writes it names in `supersedes` (the siblings its author saw). That one rule gives all of
/// ClusterSync's CRDTs (see `FieldWrites`):
/// - a register write supersedes the field's current values, so concurrent writes survive side
///   by side as a conflict and a later write that saw them replaces them all;
/// - a set add supersedes nothing; a set remove has no value and supersedes the adds it saw, so
///   a concurrent add wins;
/// - a list item's position is a register whose values are slots in a replicated tree.
public struct Change: Hashable, Sendable {
    public var id: ChangeID
    public var hlc: HLCTimestamp
    public var record: RecordID
    public var scope: RecordScope
    public var field: String
    /// The value written, or nil for a change that only supersedes (a set remove).
    public var value: JSONValue?
    /// Earlier writes of the same field that this change replaces.
    public var supersedes: [ChangeID]
    /// For a delete: the live writes of the record's other fields its author saw. A live write
    /// not in this list was made concurrently, and shows as an edit-against-delete conflict.
    public var seen: [ChangeID]
    /// Who made the change: the author's own name until a server stamps the authenticated one.
    public var author: String?
    /// The maker replica's Ed25519 signature of the change (`ChangeSignature`), 64 bytes in
    /// standard base64 (88 characters). Nil on changes made before changes were signed.
    public var sig: String?

    public init(
        id: ChangeID, hlc: HLCTimestamp, record: RecordID, scope: RecordScope, field: String,
        value: JSONValue?, supersedes: [ChangeID] = [], seen: [ChangeID] = [], author: String? = nil, sig: String? = nil
    ) {
        self.id = id
        self.hlc = hlc
        self.record = record
        self.scope = scope
        self.field = field
        self.value = value
        self.supersedes = supersedes
        self.seen = seen
        self.author = author
        self.sig = sig
    }

    public var recordType: RecordType { record.type }
}

extension Change {
    /// The content checks a receiver makes of every change (Protocol/changes.md §8): the field
    /// and value against the record type's schema, then the change's own structure, which no
    /// honest client can get wrong since a change's id is made after its value: a position does
    /// not name its own slot, and `sup` and `seen` name no change of the same replica that is
    /// this one or later (a replica can only have seen its own earlier changes).
    public func validate() throws(ClusterSyncError) {
        // A replica counts its changes from 1, one at a time: a counter past this is made up,
        // and a replica that received it as its own would count past what its counter holds.
        guard id.counter <= ChangeID.maxCounter else {
            throw ClusterSyncError(.invalidValue, "a change's counter is at most \(ChangeID.maxCounter); got \(id.counter)", field: "id")
        }
        let schema = recordType.schema
        if field == Redaction.field {
            try Redaction.validate(self)
            return
        }
        // Looked up once: every change received passes here (a long pull's hundred thousand).
        let spec = schema.field(field)
        let kind = spec?.kind
        // A value erased by a redaction is its marker, in any field that can be redacted.
        if Redaction.isMarker(value), let kind, Redaction.isRedactable(kind) {
        } else {
            try schema.validate(field: field, spec: spec, value: value)
        }
        if kind == .position, value?["after"]?.stringValue == id.description {
            throw ClusterSyncError(.invalidValue, "\(field) must name another slot or null, not the change's own id", field: field)
        }
        try checkNamed(supersedes, as: "sup", limit: Self.maxSupersedes)
        try checkNamed(seen, as: "seen", limit: Self.maxSeen)
        if !seen.isEmpty, field != RecordSchema.deletedField.name || value != .bool(true) {
            throw ClusterSyncError(.invalidValue, "seen is only for a delete (field deleted, value true), not a write of \(field)", field: "seen")
        }
    }

    /// `sup` or `seen` (`key`): at most `limit` ids, none twice, none of this change's replica
    /// but earlier changes.
    private func checkNamed(_ ids: [ChangeID], as key: String, limit: Int) throws(ClusterSyncError) {
        // Bounded first: each entry costs a receiver a write, and a list of a hundred thousand
        // made-up ids held a server's only writer for minutes (changes.md §8, item 7).
        guard ids.count <= limit else {
            throw ClusterSyncError(.invalidValue, "\(key) may name at most \(limit) changes; got \(ids.count)", field: key)
        }
        if ids.count > 1 {
            var named = Set<ChangeID>(minimumCapacity: ids.count)
            for entry in ids where !named.insert(entry).inserted {
                throw ClusterSyncError(.invalidValue, "\(key) names \(entry) twice", field: key)
            }
        }
        if let later = ids.first(where: { $0.replica == id.replica && $0.counter >= id.counter }) {
            throw ClusterSyncError(.invalidValue,
                "\(key) names \(later), which is not an earlier change of the replica that made \(id)", field: key)
        }
    }

    /// The most earlier writes one change may replace: a field's concurrent values, far fewer
    /// in any cluster.
    public static let maxSupersedes = 1_000
    /// The most writes a delete may list as seen: every live write of the record's other
    /// fields, a few dozen for most records, a few hundred for an action with years of notes.
    public static let maxSeen = 4_096
}
