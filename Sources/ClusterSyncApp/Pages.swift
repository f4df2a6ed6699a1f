import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Hummingbird
import NIOCore

/// The app's routes. Each handler reads the request, calls the replica library, and renders.
struct Pages: Sendable {
    let replica: Replica
    /// The replica's file, which *Back up now* copies.
    let replicaPath: String
    let page: PageRenderer
    let session: AppSession
    /// The watch run by `clustersync app --sync`, if any.
    let watch: AppSyncWatch?
    /// Reads kept while the replica stands as it was: conflicts counted, governance records,
    /// link choices.
    let kept: KeptReads
    /// *Sync now*'s sync, run beside the page.
    let syncRun = AppSyncRun()
    /// *Back up now*'s copies, one at a time.
    let backups = AppBackups()

    var t: Catalogue { page.t }

    /// The largest form the app accepts; a register entry's longest field is 10,000 characters.
    static let maxFormBytes = 256 * 1024

    func register(on router: Router<BasicRequestContext>) {
        router.get("/start") { request, _ in self.start(request) }
        router.get("/") { _, _ in Response.redirect(to: self.home) }
        router.get("/style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Stylesheet.css)))
        }
        registerRiskPages(on: router)
        registerRecordPages(on: router)
        registerListPages(on: router)
        registerGovernancePages(on: router)
        registerImportPages(on: router)
        registerRollupPage(on: router)
        registerReportPage(on: router)
        router.get("/conflicts") { _, _ in try self.conflictsPage() }
        router.get("/sync") { _, _ in try self.syncPage(failure: nil, flash: nil) }
        router.post("/sync") { request, _ in
            guard (try await self.posted(request)) != nil else { return self.expired() }
            return try await self.syncNow()
        }
        registerExportPage(on: router)
    }

    /// The one-time link: sets the session cookie and sends the browser on to the register.
    ///
    /// Not by a redirect: the link is often clicked in another site (webmail, Teams), and a
    /// browser does not send a `SameSite=Strict` cookie on a redirect that site started, so the
    /// register answered "open the link again" with the key already spent. A page of this app
    /// that moves on to the register (and links to it) is a same-site navigation.
    func start(_ request: Request) -> Response {
        let query = FormBody(request.uri.query ?? "")
        guard let key = query["key"], session.redeem(key) else {
            return page.message(status: .forbidden, title: t["denied_title"], body: t["denied_body"])
        }
        var response = page.html("message", title: t["started_title"], section: .none, data: [
            "heading": t["started_title"], "text": t["started_body"], "link": ["href": home, "label": t["started_link"]],
        ], goTo: home)
        response.setCookie(Cookie(name: AppSession.cookieName, value: session.sessionSecret, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    /// The submitted form, or nil when its CSRF token is missing or wrong.
    func posted(_ request: Request) async throws -> FormBody? {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxFormBytes)
        let form = FormBody(String(buffer: buffer))
        return session.isCSRF(form["csrf"]) ? form : nil
    }

    func expired() -> Response {
        page.message(status: .forbidden, title: t["csrf_title"], body: t["csrf_body"])
    }

    func notFound() -> Response {
        page.message(status: .notFound, title: t["not_found_title"], body: t["not_found"])
    }

    func query(_ request: Request) -> FormBody { FormBody(request.uri.query ?? "") }

    /// What a link option shows and is chosen by: a record's name (`RecordView.name`), its
    /// day, a declaration's organisation, a list's kind.
    static let linkOptionFields: Set<String> = ["title", "text", "member", "contributor", "year", "date", "date_declared", "organisation", "kind",
                                                "owner"]

    /// The records a form's link field may name, newest first for logs: id and name. Only shared
    /// ones from a shared record (a shared record may not link a private one:
    /// `LocalEditRules.checkLink`), the practice's private ones too from a private record, and
    /// among the lists only those of `listKind` (a meeting's agendas, a plan's priorities).
    func linkable(_ type: RecordType, fromPrivate: Bool = false, listKind: String = "agenda") -> [LinkFinder.Option] {
        (try? kept.value("linkable \(type.rawValue) \(fromPrivate) \(type == .list ? listKind : "")") {
            try readLinkable(type, fromPrivate: fromPrivate, listKind: listKind)
        }) ?? []
    }

    private func readLinkable(_ type: RecordType, fromPrivate: Bool, listKind: String) throws -> [LinkFinder.Option] {
        let filter = RecordFilter(isPrivate: fromPrivate ? nil : false)
        let views: [RecordView]
        if let held = keptGovernance(type) {
            // Not read again when the page holds them whole already: a meeting's page offers
            // the decisions and declarations its quorum and interests were worked out from.
            // As the read of the option fields alone, a record holding none of them is left out.
            let today = replica.today
            views = RecordOrder(.date).sorted(held.filter { view in
                filter.matches(view, today: today) && !Self.linkOptionFields.isDisjoint(with: view.writes.keys)
            })
        } else {
            views = try replica.register(type, filter: filter, order: RecordOrder(.date), fields: Self.linkOptionFields)
        }
        let options = views
            .filter { type != .list || $0.string("kind") == listKind }
            .map { view -> LinkFinder.Option in (view.id.rawValue, Self.linkName(view), view.string("owner")) }
        // Two alike (a meeting made twice) are told apart by their ids (web app audit: the
        // choice showed the same words twice).
        var seen: [String: Int] = [:]
        for option in options { seen[option.name, default: 0] += 1 }
        return options.map { seen[$0.name, default: 0] > 1 ? ($0.id, "\($0.name) (\($0.id))", $0.owner) : $0 }
    }

    /// A record as a link names it: its name and day; a declaration by its member, organisation
    /// and day, since a member may declare several.
    static func linkName(_ view: RecordView) -> String {
        let parts = view.type == .declaration
            ? [view.name, view.string("organisation"), view.date("date_declared").map(WalesDates.shown)]
            : [view.name, view.date("date").map(WalesDates.shown)]
        return parts.compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// A field's name on a page; a map entry (`votes:Ceri Lloyd`) as its map's name and key.
    /// `lowercased` lowers the field's name only, never the key (a person's name), and only its
    /// first letter when the word is not an acronym ("QAIF year" stays; history read "qaif year").
    func fieldLabel(_ field: String, lowercased: Bool = false) -> String {
        let parts = field.split(separator: ":", maxSplits: 1)
        // An empty name (a `?settled=` typed into the address bar) has no parts.
        guard let first = parts.first else { return field }
        let name = t["field_\(first)"]
        let shown = lowercased ? Catalogue.inSentence(name) : name
        return parts.count == 2 ? t.text("field_map_entry", shown, String(parts[1])) : shown
    }

    /// A register's live records, whole and in no order, kept while the replica stands as it
    /// was: the risk register and the action tracker filter and sort them at each view.
    func register(_ type: RecordType) throws -> [RecordView] {
        try kept.value("register \(type.rawValue)") { try replica.register(type) }
    }

    func conflictCount() -> Int { (try? kept.value("conflicts") { try replica.conflictCounts().records }) ?? 0 }

    /// The governance records as of today (`Replica.governance`); a decision log's with each
    /// meeting's quorum worked out once (`listing`).
    func governance(listing: RecordType? = nil) throws -> GovernanceRecords {
        try kept.value(Self.governanceKey(listing: listing, today: replica.today)) {
            try listing.map { try replica.governance(listing: $0) } ?? replica.governance()
        }
    }

    private static func governanceKey(listing: RecordType?, today: CalendarDate) -> String {
        "governance \(listing?.rawValue ?? "") \(today)"
    }

    /// The live records of a governance type, when a page has kept the governance records since
    /// the replica last changed; nil otherwise, or for another type.
    private func keptGovernance(_ type: RecordType) -> [RecordView]? {
        let today = replica.today
        guard let governance = kept.kept(Self.governanceKey(listing: nil, today: today), as: GovernanceRecords.self)
            ?? kept.kept(Self.governanceKey(listing: .decision, today: today), as: GovernanceRecords.self) else { return nil }
        switch type {
        case .meeting: return governance.meetings
        case .decision: return governance.decisions
        case .declaration: return governance.declarations
        case .terms: return governance.terms
        default: return nil
        }
    }

    func download(_ text: String, type: String, name: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: "\(type); charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\"",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Conflicts and sync

    func conflictsPage() throws -> Response {
        let summaries = try replica.conflicts()
        let records: [[String: Any]] = summaries.map { summary in
            [
                "id": summary.record.id.rawValue, "title": summary.title ?? summary.record.name,
                "fields": summary.conflicts.map { fieldLabel($0.field) }.joined(separator: ", "),
            ]
        }
        return page.html("conflicts", title: t["conflicts_title"], section: .conflicts, data: ["records": records, "hasRecords": !records.isEmpty], conflicts: summaries.count)
    }

    func syncPage(failure: String?, flash: String?) throws -> Response {
        let remote = try replica.remote()
        let state = try replica.syncState()
        var data: [String: Any] = [
            "server": remote.map { "\($0.host):\($0.port)" } ?? t["sync_no_server"],
            "lastSync": state.lastSyncMillis.map(WalesDates.moment) ?? t["sync_never"],
            "pending": String(try replica.pendingCount()),
            "conflicts": String(conflictCount()),
            "setAside": String(try replica.setAsideCount()),
            "hasServer": remote != nil,
            "watch": watchText(),
        ]
        if let watch, watch.current.applied > 0 {
            data["watchApplied"] = t.text("sync_watch_applied", String(watch.current.applied),
                                          watch.current.lastAppliedMillis.map(WalesDates.moment) ?? "")
        }
        let heldBack = try heldBackRows()
        data["heldBack"] = heldBack
        data["hasHeldBack"] = !heldBack.isEmpty
        data["heldBackCount"] = String(heldBack.count)
        var failure = failure, flash = flash
        var refresh: Int?
        switch syncRun.current {
        case .running(let progress):
            data["syncing"] = progress.toPush > 0 || progress.pulled > 0
                ? t.text("sync_running_counts", String(progress.pushed), String(progress.toPush), String(progress.pulled))
                : t["sync_running"]
            // Until it ends: then this page says how.
            refresh = 2
        case .ended(.done(let summary, let heldBack)):
            let done = t.text("sync_done", String(summary.pushed), String(summary.pulled))
            flash = heldBack == 0 ? done : done + " " + t.text("sync_done_held", String(heldBack))
        case .ended(.failed(let message)):
            failure = t.text("sync_failed", message)
        case .idle: break
        }
        if let failure { data["failure"] = failure }
        return page.html("sync", title: t["sync_title"], section: .sync, data: data, flash: flash, conflicts: conflictCount(),
                         refreshSeconds: refresh)
    }

    /// The edits of this laptop the server refused, each with its record, field, why and since
    /// when: "Changes waiting to be shared" counts only those that go at the next sync, so a
    /// closure held back for the lead read as shared (the CLI's `status` lists them).
    func heldBackRows() throws -> [[String: Any]] {
        try replica.heldBack().map { entry in
            let record = entry.record.flatMap { try? replica.record($0) }
            let why: String = switch entry.code {
            case .leadOnly: t["sync_held_lead_only"]
            case .supersedesUnsynced: t["sync_held_waiting"]
            default: t["sync_held_refused"]
            }
            var row: [String: Any] = [
                "record": entry.record?.rawValue ?? "", "name": record?.name ?? entry.record?.rawValue ?? t["sync_held_no_record"],
                "field": entry.field.map { fieldLabel($0) } ?? "", "why": why, "reason": entry.reason,
                "since": WalesDates.moment(millis: entry.heldBackMillis),
            ]
            row["hasRecord"] = record != nil
            return row
        }
    }

    /// What the in-app watch is doing, in words.
    func watchText() -> String {
        guard let watch else { return t["sync_watch_off"] }
        switch watch.current.activity {
        case .starting: return t["sync_watch_starting"]
        case .watching(let author): return t.text("sync_watch_watching", author)
        case .reconnecting(let reason, let millis):
            return t.text("sync_watch_reconnecting", reason, String(format: "%.0f", (Double(millis) / 1000).rounded(.up)))
        case .stopped(let reason): return t.text("sync_watch_stopped", reason)
        }
    }

    /// Starts the sync (`AppSyncRun`) and answers with the Sync page: saying how it ended when it
    /// ends within `AppSyncRun.formWait`, else how far it has gone (one already running: that one).
    func syncNow() async throws -> Response {
        guard let remote = try replica.remote() else { return try syncPage(failure: t["sync_no_server"], flash: nil) }
        let replica = replica
        let started = syncRun.start { progress in
            do {
                let heldBefore = Set(try replica.heldBack().map(\.change))
                let summary = try await SyncClient(replica: replica, remote: remote).sync(progress: progress)
                return .done(summary, heldBack: try replica.heldBack().filter { !heldBefore.contains($0.change) }.count)
            } catch let error as ClusterSyncError {
                return .failed(error.message)
            } catch {
                return .failed("\(error)")
            }
        }
        if started, await syncRun.ends(within: AppSyncRun.formWait) {
            return try syncPage(failure: nil, flash: nil)
        }
        return .redirect(to: "/sync")
    }
}
