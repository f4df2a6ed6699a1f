import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Collaborative lists: agendas, priorities, membership, plan objectives.",
        subcommands: [CreateList.self, AddItem.self, MoveItem.self, RemoveItem.self, SetItem.self, ShowList.self])
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
        Output.print(try replica.add(.list, private: isPrivate, edits: edits).rawValue)
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
        let listView = try replica.requireRecord(typed: list, of: .list)
        let id = try replica.addItem(toList: listView, text: text, owner: owner, at: at)
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
        let listView = try replica.requireRecord(typed: list, of: .list)
        let items = try replica.items(of: listView.id)
        let moving = try Replica.requireItem(item, in: items, list: listView.id)
        try replica.move(moving.id, inList: listView.id, to: to)
    }
}

struct RemoveItem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an item from a list.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The list's id.") var list: String
    @Argument(help: "The item: its number or id.") var item: String

    func run() throws {
        let replica = try replica.open()
        let listView = try replica.requireRecord(typed: list, of: .list)
        let target = try Replica.requireItem(item, in: try replica.items(of: listView.id), list: listView.id)
        try replica.edit(target.id, .delete)
    }
}

struct SetItem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Set an item's fields: text=, owner=, measure= (a plan priority's), done=yes|no.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The list's id.") var list: String
    @Argument(help: "The item: its number or id.") var item: String
    @Argument(help: "FIELD=VALUE pairs.") var fields: [String]

    func run() throws {
        let replica = try replica.open()
        let listView = try replica.requireRecord(typed: list, of: .list)
        let target = try Replica.requireItem(item, in: try replica.items(of: listView.id), list: listView.id)
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
