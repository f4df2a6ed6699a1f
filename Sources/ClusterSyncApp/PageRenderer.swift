import Hummingbird
import Mustache
import NIOCore

/// Renders a page: its template's HTML inside the layout, with the catalogue as `t` and the
/// CSRF token as `csrf`. Mustache escapes every `{{value}}`; only the layout's `{{{body}}}`,
/// which is HTML this renderer made, goes in unescaped.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let t: Catalogue
    let csrf: String
    let practice: String
    /// A PCPG's or Health Board's replica: it changes nothing, so it offers no import and says so.
    let readOnly: Bool

    init(catalogue: Catalogue, csrf: String, practice: String, readOnly: Bool = false) throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all { try library.register(text, named: name) }
        self.library = library
        self.t = catalogue
        self.csrf = csrf
        self.practice = practice
        self.readOnly = readOnly
    }

    /// A navigation entry: which page of the top menu this is.
    /// The menu's sections a PCPG's or Health Board's replica has nothing in.
    static let notHeldReadOnly: Set<String> = ["lists", "meetings", "decisions", "declarations", "importing"]

    enum Section: String { case rollup, risks, actions, lists, meetings, decisions, declarations, plans, conflicts, sync, importing, export, none }

    /// `goTo`: a page of this app the browser goes on to at once (a same-site navigation).
    /// `refreshSeconds`: the page loads itself again after so long (the Sync page while a sync runs).
    func html(_ template: String, title: String, section: Section, data: [String: Any], flash: String? = nil,
              conflicts: Int = 0, status: HTTPResponse.Status = .ok, goTo: String? = nil, refreshSeconds: Int? = nil) -> Response {
        var data = data
        data["t"] = t.strings
        data["csrf"] = csrf
        // A read-only replica's pages offer no way to change anything (the library refuses it anyway).
        data["readOnly"] = readOnly
        let body = library.render(data, withTemplate: template) ?? ""
        let nav: [[String: Any]] = [
            ("rollup", "/rollup", "nav_rollup"), ("risks", "/risks", "nav_risks"), ("actions", "/actions", "nav_actions"), ("lists", "/lists", "nav_lists"),
            ("meetings", "/meetings", "nav_meetings"), ("decisions", "/decisions", "nav_decisions"),
            ("declarations", "/declarations", "nav_declarations"), ("plans", "/plans", "nav_plans"),
            ("conflicts", "/conflicts", "nav_conflicts"), ("sync", "/sync", "nav_sync"), ("importing", "/import", "nav_import"), ("export", "/export", "nav_export"),
        // A read-only replica holds roll-ups, escalated risks with their actions and cluster
        // plans past draft with their priorities (OversightReach), never a cluster's other
        // lists, meetings, decisions or declarations, and imports nothing: those are not
        // offered, rather than shown empty as if there were nothing to report.
        ].filter { key, _, _ in !(readOnly && Self.notHeldReadOnly.contains(key)) }.map { key, href, label in
            var entry: [String: Any] = ["href": href, "label": t[label], "current": key == section.rawValue]
            if key == "conflicts", conflicts > 0 { entry["badge"] = String(conflicts) }
            return entry
        }
        var layout: [String: Any] = [
            "t": t.strings, "lang": t.language, "title": title, "body": body, "nav": nav, "practice": practice,
            "footer": t[readOnly ? "footer_read_only" : "footer"],
        ]
        if let flash { layout["flash"] = flash }
        if let goTo { layout["goTo"] = goTo }
        if let refreshSeconds { layout["refreshSeconds"] = String(refreshSeconds) }
        if let live = LiveUpdate.page {
            layout["live"] = true
            layout["version"] = String(live.version)
            layout["reload"] = live.mayReload ? "auto" : "ask"
            layout["script"] = LiveUpdate.script
        }
        let page = library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    func message(status: HTTPResponse.Status, title: String, body: String) -> Response {
        html("message", title: title, section: .none, data: ["heading": title, "text": body], status: status)
    }
}
