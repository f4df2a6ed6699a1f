import ClusterSyncClient
import ClusterSyncCore
import Hummingbird

/// Collaborative lists (agendas, priorities): reordered with buttons and a position box, so
/// no dragging and no JavaScript is needed.
extension Pages {
    func registerListPages(on router: Router<BasicRequestContext>) {
        router.get("/lists") { _, _ in try self.listsPage(typedTitle: "", typedKind: "", problem: nil) }
        router.post("/lists") { request, _ in
            guard let form = try await self.posted(request) else { return self.expired() }
            return try self.once(request, form) {
                let title = form.trimmed("title")
                let kind = form.trimmed("kind")
                guard !title.isEmpty else { return try self.listsPage(typedTitle: title, typedKind: kind, problem: self.t.text("needs_title", "list")) }
                do {
                    let edits = try FieldInput.parse(["title=\(title)", "kind=\(form.trimmed("kind"))"], type: .list, current: nil, today: self.replica.today)
                    let id = try self.replica.add(.list, edits: edits)
                    return .redirect(to: "/lists/\(id.rawValue)")
                } catch let error as ClusterSyncError where error.isUserError {
                    return try self.listsPage(typedTitle: title, typedKind: kind, problem: error.message)
                }
            }
        }
        router.get("/lists/:id") { request, context in
            guard let list = try self.list(context) else { return self.notFound() }
            let query = self.query(request)
            return try self.listPage(list, flash: query["moved"] == "1" ? self.t["list_moved"] : query["removed"] == "1" ? self.t["list_removed"]
                : query["again"] == "1" ? self.t["form_sent_again"] : nil)
        }
        router.post("/lists/:id/items") { request, context in
            guard let form = try await self.posted(request) else { return self.expired() }
            guard let list = try self.list(context) else { return self.notFound() }
            let text = form.trimmed("text"), owner = form.trimmed("owner")
            return try self.once(request, form) {
                do {
                    guard !text.isEmpty else { throw ClusterSyncError(.invalidValue, self.t["item_needs_text"], field: "text") }
                    _ = try self.replica.addItem(toList: list, text: text, owner: owner.isEmpty ? nil : owner)
                    return .redirect(to: "/lists/\(list.id.rawValue)")
                } catch let error as ClusterSyncError where error.isUserError {
                    return try self.listPage(list, problem: error.message, typedText: text, typedOwner: owner, problemIsTheItems: true)
                }
            }
        }
        router.post("/lists/:id/move") { request, context in
            guard let form = try await self.posted(request) else { return self.expired() }
            guard let list = try self.list(context) else { return self.notFound() }
            do {
                let items = try self.replica.items(of: list.id)
                let item = try Replica.requireItem(form.trimmed("item"), in: items, list: list.id)
                guard let to = Int(form.trimmed("to")) else {
                    throw ClusterSyncError(.invalidValue, "position must be 1 to \(items.count)", field: "position")
                }
                try self.replica.move(item.id, inList: list.id, to: to)
                return .redirect(to: "/lists/\(list.id.rawValue)?moved=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.listPage(list, problem: error.message)
            }
        }
    }

    func list(_ context: BasicRequestContext) throws -> RecordView? {
        guard let view = try record(context), view.type == .list, !view.isDeleted else { return nil }
        return view
    }

    func listsPage(typedTitle: String, typedKind: String, problem: String?) throws -> Response {
        let lists: [[String: Any]] = try replica.records(.list).filter { !$0.isDeleted }.map { view in
            ["id": view.id.rawValue, "title": view.name, "kind": view.string("kind") ?? "other",
             "count": String(try replica.items(of: view.id).count)]
        }
        var data: [String: Any] = ["lists": lists, "typedTitle": typedTitle,
                                   "kinds": RecordSchema.listKinds.map { ["kind": $0, "selected": $0 == typedKind] as [String: Any] }]
        if let problem { data["hasErrors"] = true; data["errors"] = [["message": problem]] }
        return page.html("lists", title: t["lists_title"], section: .lists, data: data, conflicts: conflictCount(),
                         status: problem == nil ? .ok : .unprocessableContent)
    }

    /// `problemIsTheItems`: the problem is the new item's, and is shown beside its text too.
    func listPage(_ list: RecordView, flash: String? = nil, problem: String? = nil, typedText: String = "", typedOwner: String = "",
                  problemIsTheItems: Bool = false) throws -> Response {
        let items = try replica.items(of: list.id)
        let rows: [[String: Any]] = items.enumerated().map { offset, item in
            let number = offset + 1
            let text = item.string("text") ?? ""
            var row: [String: Any] = [
                "id": item.id.rawValue, "number": String(number), "text": text,
                "first": number == 1, "last": number == items.count,
                "up": String(number - 1), "down": String(number + 1),
                "upLabel": "\(t["list_up"]): \(text)", "downLabel": "\(t["list_down"]): \(text)",
                "toLabel": "\(t["list_to"]): \(text)", "moveLabel": "\(t["list_move"]): \(text)", "conflict": !item.conflicts.isEmpty,
                "openLabel": t.text("list_item_open", text), "done": item.value("done")?.boolValue == true,
            ]
            if let owner = item.string("owner") { row["owner"] = owner }
            return row
        }
        var data: [String: Any] = [
            "listID": list.id.rawValue, "title": list.name, "items": rows, "count": String(items.count),
            "typedText": typedText, "typedOwner": typedOwner,
        ]
        if let problem { data["hasErrors"] = true; data["errors"] = [["message": problem]] }
        if let problem, problemIsTheItems { data["itemError"] = problem }
        return page.html("list", title: list.name, section: .lists, data: data, flash: flash, conflicts: conflictCount(),
                         status: problem == nil ? .ok : .unprocessableContent)
    }
}
