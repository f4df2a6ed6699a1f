/// A record with open conflicts, as `clustersync conflicts` and `clustersyncd conflicts` report
/// it: the record (its conflicts are `record.conflicts`) and, for a list item, its list.
public struct RecordConflictSummary: Sendable, Equatable {
    public var record: RecordView
    /// For a list item: the list it belongs to, when it is known here.
    public var list: RecordView?

    public init(record: RecordView, list: RecordView? = nil) {
        self.record = record
        self.list = list
    }

    public var conflicts: [RecordView.Conflict] { record.conflicts }

    /// What a person calls the record: a list item's text, any other record's title.
    public var title: String? { record.type == .item ? record.string("text") : record.string("title") }

    /// The record's identifying keys, shared by both JSON shapes below.
    func recordKeys() -> [String: JSONValue] {
        [
            "id": .string(record.id.rawValue),
            "type": .string(record.type.rawValue),
            "tenant": .string(record.scope.tenant),
            "cluster": .string(record.scope.cluster),
            "practice": record.scope.practice.map(JSONValue.string) ?? .null,
            "title": title.map(JSONValue.string) ?? .null,
            "list": record.type == .item
                ? .object([
                    "id": record.string("list").map(JSONValue.string) ?? .null,
                    "title": list?.string("title").map(JSONValue.string) ?? .null,
                ])
                : .null,
            "deleted": .bool(record.isDeleted),
        ]
    }

    /// One JSON object per conflicting field, the record's keys repeated in each: the shape of
    /// `clustersync conflicts --json` and `clustersyncd conflicts --json`. `time` turns a clock
    /// reading into the wall time shown to a person; `text`, if given, adds each value as the
    /// plain-text output shows it.
    public func entriesJSON(time: (HLCTimestamp) -> String, text: ((RecordView.Conflict, FieldWrite) -> String)? = nil) -> [JSONValue] {
        let keys = recordKeys()
        return conflicts.map { conflict in
            var o = keys
            for (key, value) in Self.conflictKeys(conflict, time: time, text: text) { o[key] = value }
            return .object(o)
        }
    }

    /// One JSON object for the record with its conflicts nested: `clustersync conflicts show --json`.
    public func jsonValue(time: (HLCTimestamp) -> String, text: ((RecordView.Conflict, FieldWrite) -> String)? = nil) -> JSONValue {
        var o = recordKeys()
        o["conflicts"] = .array(conflicts.map { .object(Self.conflictKeys($0, time: time, text: text)) })
        return .object(o)
    }

    static func conflictKeys(
        _ conflict: RecordView.Conflict, time: (HLCTimestamp) -> String, text: ((RecordView.Conflict, FieldWrite) -> String)?
    ) -> [String: JSONValue] {
        [
            "field": .string(conflict.field),
            "kind": .string(conflict.kind.rawValue),
            "count": .int(Int64(conflict.values.count)),
            "values": .array(conflict.values.enumerated().map { offset, write in
                guard case .object(var v) = write.jsonValue else { return write.jsonValue }
                v["number"] = .int(Int64(offset + 1))
                v["time"] = .string(time(write.hlc))
                if let text { v["text"] = .string(text(conflict, write)) }
                return .object(v)
            }),
        ]
    }
}
