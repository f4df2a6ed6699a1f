/// The stable JSON shape of a record, used by `--json` output and `export --format json`.
/// Documented in the README; add keys, never rename them.
extension RecordView {
    public func jsonValue(today: CalendarDate, items: [RecordView]? = nil) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        for spec in type.schema.fields {
            switch spec.kind.cardinality {
            case .register:
                if spec.kind == .position { continue }
                if spec.kind.isMap {
                    fields[spec.name] = .object(mapValues(spec.name))
                    continue
                }
                if let v = value(spec.name) { fields[spec.name] = v }
            case .set:
                fields[spec.name] = .array(members(spec.name))
            case .log:
                fields[spec.name] = .array((writes[spec.name] ?? []).map { write in
                    var note: [String: JSONValue] = ["change": .string(write.id.description)]
                    if case .object(let o) = write.value { note.merge(o) { a, _ in a } }
                    note["author"] = write.author.map(JSONValue.string) ?? .null
                    return .object(note)
                })
            }
        }
        var o: [String: JSONValue] = [
            "id": .string(id.rawValue),
            "type": .string(type.rawValue),
            "tenant": .string(scope.tenant),
            "cluster": .string(scope.cluster),
            "practice": scope.practice.map(JSONValue.string) ?? .null,
            "deleted": .bool(isDeleted),
            "fields": .object(fields),
            "derived": .object(derived(today: today)),
            "conflicts": .array(conflicts.map(\.jsonValue)),
        ]
        if let items { o["items"] = .array(items.map { $0.jsonValue(today: today) }) }
        return .object(o)
    }
}

extension RecordView.Conflict {
    public var jsonValue: JSONValue {
        .object([
            "field": .string(field),
            "kind": .string(kind.rawValue),
            "values": .array(values.map(\.jsonValue)),
        ])
    }
}

extension FieldWrite {
    public var jsonValue: JSONValue {
        .object([
            "field": .string(field),
            "value": value,
            "change": .string(id.description),
            "replica": .string(id.replica.rawValue),
            "hlc": .string(hlc.text),
            "author": author.map(JSONValue.string) ?? .null,
        ])
    }
}
