import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

/// A register whose records the CLI edits with add/list/show/set/delete.
protocol RegisterKind: Sendable {
    static var type: RecordType { get }
    static var listColumns: [String] { get }
    static var abstract: String { get }
    /// The derived value shown as the last column of `list`.
    static var derivedColumn: String? { get }
    static var extraSubcommands: [any ParsableCommand.Type] { get }
}

extension RegisterKind {
    static var abstract: String { type == .risk ? "The cluster's risk register." : "The cluster's action tracker." }
    static var derivedColumn: String? { type == .risk ? "band" : "rag" }
    static var extraSubcommands: [any ParsableCommand.Type] { type == .action ? [AddNote.self] : [] }
}

/// "risk", "terms of reference record": one record of the type, in a sentence.
func recordNoun(_ type: RecordType) -> String {
    type == .terms ? "terms of reference record" : type.rawValue
}

/// "a risk", "an action".
func withArticle(_ type: RecordType) -> String {
    let word = recordNoun(type)
    return ("aeiou".contains(word.first!) ? "an " : "a ") + word
}

enum RiskKind: RegisterKind {
    static let type = RecordType.risk
    static let listColumns = ["title", "category", "owner", "score", "status", "escalation", "review_date"]
}

enum ActionKind: RegisterKind {
    static let type = RecordType.action
    static let listColumns = ["title", "owner", "due_date", "status"]
}

struct RecordCommand<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        var subcommands: [any ParsableCommand.Type] = [
            AddRecord<Kind>.self, ListRecords<Kind>.self, ShowRecord<Kind>.self, SetFields<Kind>.self,
            DeleteRecord<Kind>.self, RestoreRecord<Kind>.self,
        ]
        subcommands += Kind.extraSubcommands
        return CommandConfiguration(commandName: Kind.type.rawValue, abstract: Kind.abstract, subcommands: subcommands)
    }
}

/// Parses FIELD=VALUE arguments against a record type.
func parseEdits(_ arguments: [String], type: RecordType, current: RecordView?, today: CalendarDate) throws -> [Edit] {
    try FieldInput.parse(arguments, type: type, current: current, today: today)
}

func fieldsHelp(_ type: RecordType) -> String {
    type.schema.fields.filter { $0.kind != .position }.map { "\($0.name): \($0.helpText)" }.joined(separator: "\n")
}

struct AddRecord<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "add", abstract: "Add \(withArticle(Kind.type)); prints its id.",
                             discussion: "Fields:\n" + fieldsHelp(Kind.type))
    }

    @OptionGroup var replica: ReplicaOptions
    @Flag(name: .customLong("private"), help: "Keep the record private to this practice.")
    var isPrivate = false
    @Argument(help: ArgumentHelp("FIELD=VALUE pairs; \(Kind.type.schema.requiredText.joined(separator: ", ")) required.", valueName: "field=value"))
    var fields: [String] = []

    func run() throws {
        let replica = try replica.open()
        let today = replica.today
        let edits = try parseEdits(fields, type: Kind.type, current: nil, today: today)
        for required in Kind.type.schema.requiredText where !edits.contains(where: { if case .set(required, _) = $0 { true } else { false } }) {
            throw ValidationError("\(withArticle(Kind.type)) needs a \(required): clustersync \(Kind.type.rawValue) add \(required)=\"...\"")
        }
        let id = try replica.add(Kind.type, private: isPrivate, edits: edits)
        Output.print(id.rawValue)
    }
}

struct ListRecords<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "List the \(Kind.type == .terms ? "terms of reference" : Kind.type.rawValue + "s").")
    }

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Include deleted records.")
    var deleted = false
    @Option(help: ArgumentHelp("Sort by \(RecordOrder.Key.allCases.map(\.rawValue).joined(separator: ", ")) (highest score first, earliest date first, A to Z; ties by title).", valueName: "key"))
    var sort: String?
    @Flag(help: "Sort the other way round.") var reverse = false
    @Option(help: "Only records whose title, owner or category hold each of these words (ignoring case and accents).") var search: String?
    @Option(help: "Only this band: low, moderate, high, extreme (risks).") var band: String?
    @Option(help: "Only this status (\(Kind.type.schema.field("status").map { if case .choice(let w) = $0.kind { w.joined(separator: ", ") } else { "" } } ?? "none")).")
    var status: String?
    @Option(help: "Only records whose owner contains this text.") var owner: String?
    @Flag(help: "Only records overdue: review date passed (risks, terms) or due date passed (actions, BRAG red).") var overdue = false
    @Option(help: "Only this escalation level: practice, cluster, pcpg, health-board (risks).") var escalation: String?
    @Option(help: "Only records with this tag.") var tag: String?
    @Flag(name: .customLong("private"), help: "Only this practice's private records.") var onlyPrivate = false
    @Flag(help: "Only records shared with the cluster.") var shared = false

    // In validate, not run: a ValidationError from run is shown with the top-level usage.
    func validate() throws {
        if let sort, RecordOrder.Key(rawValue: sort) == nil {
            throw ValidationError("--sort must be one of \(RecordOrder.Key.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if sort == nil, reverse { throw ValidationError("--reverse needs --sort") }
        if onlyPrivate, shared { throw ValidationError("--private and --shared together match nothing: give one, or neither for both") }
    }

    func run() throws {
        let replica = try replica.open()
        let today = replica.today
        let filter = try RecordFilter(band: band, status: status, owner: owner, overdue: overdue, escalation: escalation, tag: tag,
                                      isPrivate: onlyPrivate ? true : shared ? false : nil, words: search, includeDeleted: deleted).checked(for: Kind.type)
        let order = sort.flatMap(RecordOrder.Key.init(rawValue:)).map { RecordOrder($0, descending: reverse ? !$0.descendingByDefault : nil) }
        let views = try replica.register(Kind.type, filter: filter, order: order)
        let governance = try replica.governance(listing: Kind.type)
        if output.json {
            Output.printJSON(.object(["records": .array(views.map { $0.jsonValue(today: today, governance: governance) })]))
            return
        }
        let derivedColumn = Kind.derivedColumn ?? ""
        let rows = views.map { view in
            let derived = view.derived(today: today, governance: governance)
            return [view.id.rawValue] + Kind.listColumns.map { column in
                Output.truncated(view.value(column).map { column == "score" ? "\(RiskScore($0)?.score ?? 0)" : Replica.plain($0) } ?? "", 40)
            } + [derived[derivedColumn].map(Replica.plain) ?? "", governance.isOverdue(view, today: today) ? "OVERDUE" : "",
                 view.scope.practice.map { "private (\($0))" } ?? "", view.conflicts.isEmpty ? "" : "CONFLICT"]
        }
        Output.print(Output.table(["id"] + Kind.listColumns + [derivedColumn, "overdue", "private", ""], rows))
    }
}

struct ShowRecord<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "show", abstract: "Show one \(recordNoun(Kind.type)) with its conflicts.")
    }

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument var id: String

    func run() throws {
        try ShowCommand.show(id, type: Kind.type, replica: replica.open(), json: output.json)
    }
}

/// Which dates of `type` may be emptied, and how, for `set --help`.
func emptiedHelp(_ type: RecordType) -> String {
    let names = type.schema.fields.filter(\.emptiable).map(\.name)
    guard let first = names.first else { return "" }
    return "\nGiven as nothing (\(first)=), \(names.joined(separator: ", ")) \(names.count == 1 ? "is" : "are") emptied."
}

struct SetFields<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "set", abstract: "Set fields of \(withArticle(Kind.type)): FIELD=VALUE, FIELD+=VALUE, FIELD-=VALUE.",
                             discussion: "Fields:\n" + fieldsHelp(Kind.type) + emptiedHelp(Kind.type))
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument var id: String
    @Argument(help: "FIELD=VALUE pairs.")
    var fields: [String]

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: Kind.type)
        let edits = try parseEdits(fields, type: Kind.type, current: view, today: replica.today)
        try replica.edit(edits.map { (view.id, $0) })
    }
}

struct DeleteRecord<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "delete", abstract: "Delete \(withArticle(Kind.type)) (kept as a tombstone; its history stays).")
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument var id: String

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: Kind.type)
        try replica.delete(view.id)
    }
}

struct RestoreRecord<Kind: RegisterKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "restore", abstract: "Undo the delete of \(withArticle(Kind.type)).")
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument var id: String

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: Kind.type)
        try replica.restore(view.id)
    }
}

struct AddNote: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Append a progress note to an action.")

    @OptionGroup var replica: ReplicaOptions
    @Argument var id: String
    @Argument(help: "The note.")
    var text: String

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: .action)
        try replica.addNote(view.id, text)
    }
}
