/// The fields of a record type, with the words the governance guide uses.
public struct RecordSchema: Sendable {
    public var type: RecordType
    public var fields: [FieldSpec]

    public func field(_ name: String) -> FieldSpec? {
        if name == RecordSchema.deletedField.name { return RecordSchema.deletedField }
        if let spec = fields.first(where: { $0.name == name }) { return spec }
        // A map entry, `votes:KEY`, is read by its map's spec.
        guard let colon = name.firstIndex(of: ":"),
              let spec = fields.first(where: { $0.name == name[..<colon] }), spec.kind.isMap else { return nil }
        return spec
    }

    /// Every record type has this register; `true` is a tombstone.
    public static let deletedField = FieldSpec("deleted", .flag, "whether the record is deleted")

    static let shortText = FieldKind.text(maxLength: 200)
    static let longText = FieldKind.text(maxLength: 10_000)

    public static let riskCategories = [
        "clinical", "workforce", "financial", "service-delivery", "information-governance",
        "reputation", "partnership", "estates", "other",
    ]
    public static let treatments = ["treat", "tolerate", "transfer", "terminate"]
    public static let riskStatuses = ["open", "closed"]
    public static let escalationLevels = ["practice", "cluster", "pcpg", "health-board"]
    public static let actionStatuses = ["not-started", "in-progress", "complete", "closed", "cancelled"]
    public static let listKinds = ["agenda", "priorities", "membership", "objectives", "other"]

    public static let risk = RecordSchema(type: .risk, fields: [
        FieldSpec("title", shortText, "what the risk is"),
        FieldSpec("description", longText, "more detail"),
        FieldSpec("category", .choice(riskCategories), "the kind of risk"),
        FieldSpec("cause", longText, "what could make it happen"),
        FieldSpec("effect", longText, "what would follow"),
        FieldSpec("owner", shortText, "who owns the risk"),
        FieldSpec("score", .riskScore, "current likelihood and consequence (set as likelihood=, consequence=)"),
        FieldSpec("initial_score", .riskScore, setOnce: true, "the score when first assessed"),
        FieldSpec("target_score", .riskScore, "the score after planned actions (target_likelihood=, target_consequence=)"),
        FieldSpec("controls", longText, "controls in place"),
        FieldSpec("gaps", longText, "gaps in control"),
        FieldSpec("review_date", .date, emptiable: true, "when the risk is next reviewed"),
        FieldSpec("treatment", .choice(treatments), "treat, tolerate, transfer or terminate"),
        FieldSpec("status", .choice(riskStatuses), "open or closed"),
        FieldSpec("escalation", .choice(escalationLevels), "the level the risk is escalated to"),
        FieldSpec("linked_actions", .referenceSet([.action]), "actions that treat the risk"),
        FieldSpec("tags", .tagSet, "labels"),
        FieldSpec("lessons_learned", longText, "lessons from risk reviews"),
    ])

    public static let action = RecordSchema(type: .action, fields: [
        FieldSpec("title", shortText, "what is to be done"),
        FieldSpec("description", longText, "more detail"),
        FieldSpec("owner", shortText, "who does it"),
        FieldSpec("original_due_date", .date, setOnce: true, "the due date first agreed"),
        FieldSpec("due_date", .date, emptiable: true, "the current due date"),
        FieldSpec("status", .choice(actionStatuses), "not-started, in-progress, complete, closed or cancelled"),
        FieldSpec("source", .reference([.risk, .action, .list, .meeting, .decision, .plan]), "the record the action came from"),
        FieldSpec("completed_date", .date, emptiable: true, "when it was completed"),
        FieldSpec("tags", .tagSet, "labels"),
        FieldSpec("notes", .notes, "progress notes, append-only"),
    ])

    public static let list = RecordSchema(type: .list, fields: [
        FieldSpec("title", shortText, "the list's name"),
        FieldSpec("kind", .choice(listKinds), "agenda, priorities, membership, objectives or other"),
        FieldSpec("description", longText, "what the list is for"),
    ])

    public static let item = RecordSchema(type: .item, fields: [
        FieldSpec("list", .reference([.list]), setOnce: true, "the list the item belongs to"),
        FieldSpec("text", longText, "the item"),
        FieldSpec("owner", shortText, "who is responsible"),
        FieldSpec("measure", longText, "how progress is measured (a plan priority)"),
        FieldSpec("done", .flag, "whether it is done"),
        FieldSpec("position", .position, "where the item stands in its list"),
    ])
}
