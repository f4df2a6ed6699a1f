import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Collaborative lists: agendas, priorities, membership, plan objectives.",
        subcommands: [CreateList.self, AddItem.self, MoveItem.self, RemoveItem.self, SetItem.self, ShowList.self])
}

/// Finds a list item by its 1-based position or its id.
func requireItem(_ text: String, in items: [RecordView], list: RecordID) throws -> RecordView {
    if let n = Int(text) {
        guard n >= 1, n <= items.count else {
            throw ClusterSyncError(.unknownRecord, "\(list) has \(items.count) items; there is no item \(n)")
        }
        return items[n - 1]
    }
    guard let id = RecordID(typed: text), let item = items.first(where: { $0.id == id }) else {
        throw ClusterSyncError(.unknownRecord, "\(list) has no item \(text); give its number or its ITM- id")
    }
    return item
}

/// The position slot to insert after so that an item lands at 1-based `position` in `items`
/// (which must not contain the item being placed).
func anchor(forPosition position: Int?, in items: [RecordView]) throws -> ChangeID? {
    let target = position ?? items.count + 1
    guard target >= 1, target <= items.count + 1 else {
        throw ClusterSyncError(.invalidValue, "position must be 1 to \(items.count + 1)", field: "position")
    }
    return target == 1 ? nil : items[target - 2].writes["position"]?.first?.id
}

struct CreateList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a list; prints its id.",
                                                    discussion: "Fields:\n" + fieldsHelp(.list))

    @OptionGroup var replica: ReplicaOptions
    @Flag(name: .customLong("private"), help: "Keep the list private to this practice.")
    var isPrivate = false
    @Argument(help: "FIELD=VALUE pairs; title is required (kind: agenda, priorities, membership, objectives, other).")
    var fields: [String] = []

    func run() throws {
        let replica = try replica.open()
        let edits = try parseEdits(fields, type: .list, current: nil, today: replica.today)
        guard edits.contains(where: { if case .set("title", _) = $0 { true } else { false } }) else {
            throw ValidationError("a list needs a title: clustersync list create title=\"...\" kind=agenda")
        }
        Output.print(try replica.create(.list, private: isPrivate, edits: edits).rawValue)
    }
}

struct AddItem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an item to a list; prints its id.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The list's id.") var list: String
    @Argument(help: "The item's text.") var text: String
    @Option(help: "Insert at this 1-based position (default: at the end).") var at: Int?
    @Option(help: "Who is responsible.") var owner: String?

    func run() throws {
        let replica = try replica.open()
        let listView = try requireRecord(list, of: .list, in: replica)
        let items = try replica.items(of: listView.id)
        var edits: [Edit] = [.set("list", .string(listView.id.rawValue)), .set("text", .string(text))]
        if let owner { edits.append(.set("owner", .string(owner))) }
        edits.append(.place(after: try anchor(forPosition: at, in: items)))
        let id = try replica.create(.item, private: listView.scope.practice != nil, edits: edits)
        Output.print(id.rawValue)
    }
}

struct MoveItem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "move", abstract: "Move an item to a new position.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The list's id.") var list: String
    @Argument(help: "The item: its number or id.") var item: String
    @Option(help: "The 1-based position to move it to.") var to: Int

    func run() throws {
        let replica = try replica.open()
        let listView = try requireRecord(list, of: .list, in: replica)
        let items = try replica.items(of: listView.id)
        let moving = try requireItem(item, in: items, list: listView.id)
        let others = items.filter { $0.id != moving.id }
        try replica.edit(moving.id, .place(after: try anchor(forPosition: min(to, others.count + 1), in: others)))
    }
}

struct RemoveItem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an item from a list.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The list's id.") var list: String
    @Argument(help: "The item: its number or id.") var item: String

    func run() throws {
        let replica = try replica.open()
        let listView = try requireRecord(list, of: .list, in: replica)
        let target = try requireItem(item, in: try replica.items(of: listView.id), list: listView.id)
        try replica.edit(target.id, .delete)
    }
}

struct SetItem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Set an item's fields: text=, owner=, done=yes|no.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The list's id.") var list: String
    @Argument(help: "The item: its number or id.") var item: String
    @Argument(help: "FIELD=VALUE pairs.") var fields: [String]

    func run() throws {
        let replica = try replica.open()
        let listView = try requireRecord(list, of: .list, in: replica)
        let target = try requireItem(item, in: try replica.items(of: listView.id), list: listView.id)
        let edits = try parseEdits(fields, type: .item, current: target, today: replica.today)
        if edits.contains(where: { if case .set("list", _) = $0 { true } else { if case .set("position", _) = $0 { true } else { false } } }) {
            throw ValidationError("use `list move` to move an item")
        }
        try replica.edit(edits.map { (target.id, $0) })
    }
}

struct ShowList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a list and its items in order; without an id, all lists.")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The list's id.") var list: String?

    func run() throws {
        let replica = try replica.open()
        guard let list else {
            let lists = try replica.records(.list).filter { !$0.isDeleted }
            if output.json {
                Output.printJSON(.object(["records": .array(lists.map { $0.jsonValue(today: replica.today) })]))
            } else {
                Output.print(Output.table(["id", "kind", "title"], lists.map {
                    [$0.id.rawValue, $0.string("kind") ?? "", $0.string("title") ?? ""]
                }))
            }
            return
        }
        try ShowCommand.show(list, type: .list, replica: replica, json: output.json)
    }
}
