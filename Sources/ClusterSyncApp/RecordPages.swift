import ClusterSyncClient
import ClusterSyncCore
import Hummingbird

/// A record's own page: its fields, its conflicts side by side with a button per value, its
/// history; and the form that edits it.
extension Pages {
    func registerRecordPages(on router: Router<BasicRequestContext>) {
        router.get("/records/:id") { request, context in
            guard let view = try self.record(context) else { return self.notFound() }
            let query = self.query(request)
            // What the form just done says, by the redirect's query.
            let done: [(key: String, value: String, words: String)] = [
                ("saved", "1", "form_saved"), ("attended", "1", "attend_recorded"), ("voted", "1", "vote_recorded"),
                ("voted", "in-person", "vote_recorded_in_person"), ("unattended", "1", "attend_removed"), ("unvoted", "1", "vote_withdrawn"),
                ("deleted", "1", "record_deleted_done"), ("again", "1", "form_sent_again"), ("already", "1", "set_already"),
            ]
            let flash = query["settled"].flatMap { $0.isEmpty ? nil : $0 }.map { self.t.text("record_resolved", self.fieldLabel($0)) }
                ?? done.first { query[$0.key] == $0.value }.map { self.t[$0.words] }
            return try self.recordPage(view, flash: flash)
        }
        router.get("/records/:id/edit") { _, context in
            guard let view = try self.record(context), let form = RecordForm.of(view.type) else { return self.notFound() }
            return self.editForm(view, form: form, values: { form.shown($0, of: view) }, baselines: { form.shown($0, of: view) }, problems: [])
        }
        router.post("/records/:id/edit") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            // The form is compared with the record as it is, and its edits are written only if
            // the fields they write have not changed since (`unchangedSince`, checked inside the
            // write): a sync committing in between sends it round again, to be compared with
            // the record as that sync left it.
            for attempt in 1...3 {
                guard let view = try self.record(context), let form = RecordForm.of(view.type) else { return self.notFound() }
                // The baselines the form came with, but the value a field has now where it changed
                // under the form: saving again then writes what the person chose.
                func baselines(_ problems: [RecordForm.Problem]) -> (String) -> String {
                    { name in
                        problems.contains { $0.field == name && $0.changedMeanwhile }
                            ? form.shown(name, of: view) : posted[RecordForm.baselineName(name)] ?? form.shown(name, of: view)
                    }
                }
                let (read, outcome) = form.edits(from: posted, current: view, today: self.replica.today, t: self.t,
                                                 records: self.linkable(from: view))
                switch outcome {
                case .refused(let problems):
                    return self.editForm(view, form: form, values: { read[$0] ?? "" }, baselines: baselines(problems), problems: problems)
                case .accepted(let edits):
                    do {
                        if !edits.isEmpty { try self.replica.edit(edits.map { (view.id, $0) }, unchangedSince: view) }
                        return .redirect(to: "/records/\(view.id.rawValue)?saved=1")
                    } catch let changed as Replica.ChangedMeanwhile {
                        if attempt < 3 { continue }
                        // Changed at every try (a sync writing it over and over): say so.
                        let error = ClusterSyncError(.invalidValue, self.t["form_changed_while_saving"], field: changed.fields.first)
                        return self.editForm(view, form: form, values: { read[$0] ?? "" }, baselines: baselines([]), problems: [form.problem(error)])
                    } catch let error as ClusterSyncError where error.isUserError {
                        return self.editForm(view, form: form, values: { read[$0] ?? "" }, baselines: baselines([]), problems: [form.problem(error)])
                    }
                }
            }
            return self.notFound()
        }
        router.post("/records/:id/attend") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context), view.type == .meeting else { return self.notFound() }
            do {
                try self.replica.attend(view.id, Attendee.typed(name: posted.trimmed("name"), role: posted.trimmed("role"), capacity: posted["capacity"],
                                                                practice: posted["practice"], represents: posted["represents"],
                                                                replaces: posted["replaces"], agreedBy: posted["agreed_by"], agreedOn: posted["agreed_on"]))
                return .redirect(to: "/records/\(view.id.rawValue)?attended=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: Attendee.formMessage(error.message), typed: posted)
            }
        }
        router.post("/records/:id/unattend") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context), view.type == .meeting else { return self.notFound() }
            do {
                try self.replica.unattend(view.id, name: posted.trimmed("name"))
                return .redirect(to: "/records/\(view.id.rawValue)?unattended=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: error.message, typed: nil)
            }
        }
        router.post("/records/:id/unvote") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context), view.type == .decision else { return self.notFound() }
            do {
                try self.replica.withdrawVote(view.id, member: posted.trimmed("member"))
                return .redirect(to: "/records/\(view.id.rawValue)?unvoted=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: error.message, typed: nil)
            }
        }
        // A set field's member added or removed (a meeting's apologies, a terms of reference's
        // members, a risk's linked actions), as the CLI's `FIELD+=VALUE` and `FIELD-=VALUE`.
        router.post("/records/:id/members") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            let field = posted.trimmed("field")
            guard let view = try self.record(context), !view.isDeleted, Self.editsMembers(of: view.type).contains(field) else {
                return self.notFound()
            }
            let removing = posted["op"] == "remove"
            var value = posted.trimmed("value")
            // What the page is drawn again with on a refusal: several matches listed, their
            // words moved out of the box (`LinkFinder`).
            var typedMember = posted
            do {
                if !removing, case .referenceSet? = view.type.schema.field(field)?.kind {
                    switch self.readSetFinder(posted, of: view, field: field) {
                    case .success(let id?): value = id
                    case .success(nil): break
                    case .failure(let refusal):
                        // Words naming a record the set holds already (a second click, another
                        // tab): done, as an id chosen in the list would be.
                        if !refusal.several, self.setHolds(posted.trimmed("find"), view: view, field: field) {
                            return .redirect(to: "/records/\(view.id.rawValue)?already=1#s-\(field)")
                        }
                        if refusal.several {
                            typedMember.set("matched", posted.trimmed("find").isEmpty ? posted.trimmed("matched") : posted.trimmed("find"))
                            typedMember.set("find", "")
                        }
                        throw ClusterSyncError(.invalidValue, refusal.message, field: field)
                    }
                }
                // A form from a page shown before a sync or another tab changed the set: what it
                // asks is done already, and nothing is written again.
                if removing != view.members(field).contains(.string(value)) {
                    return .redirect(to: "/records/\(view.id.rawValue)?saved=1#s-\(field)")
                }
                guard removing || !value.isEmpty else {
                    throw ClusterSyncError(.invalidValue, self.t.text("set_empty", self.fieldLabel(field, lowercased: true)), field: field)
                }
                let typed = field + (removing ? "-=" : "+=") + value
                let edits = try FieldInput.parse([typed], type: view.type, current: view, today: self.replica.today)
                try self.replica.edit(edits.map { (view.id, $0) })
                return .redirect(to: "/records/\(view.id.rawValue)?saved=1#s-\(field)")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: error.message, typedMember: typedMember)
            }
        }
        // Delete (a confirmed form) and restore, as the CLI's `delete` and `restore`: a record
        // made by mistake (a file imported twice) could not be taken out in the app (web app audit).
        router.post("/records/:id/delete") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context) else { return self.notFound() }
            do {
                guard posted["confirm"] == "yes" else {
                    throw ClusterSyncError(.invalidValue, self.t["delete_unconfirmed"], field: RecordSchema.deletedField.name)
                }
                try self.replica.delete(view.id)
                self.session.submissions.forget(answeredAt: "/records/\(view.id.rawValue)")
                // An item leaves its list, as `list remove` takes it off: the list is where it was seen.
                if view.type == .item, let list = view.reference("list") {
                    self.session.submissions.forget(answeredAt: "/lists/\(list.rawValue)")
                    return .redirect(to: "/lists/\(list.rawValue)?removed=1")
                }
                return .redirect(to: "/records/\(view.id.rawValue)?deleted=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: error.message, refusedDelete: true)
            }
        }
        router.post("/records/:id/restore") { request, context in
            guard (try await self.posted(request)) != nil else { return self.expired() }
            guard let view = try self.record(context), view.type != .item else { return self.notFound() }
            do {
                try self.replica.restore(view.id)
                return .redirect(to: "/records/\(view.id.rawValue)?saved=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: error.message, refusedDelete: true)
            }
        }
        router.post("/records/:id/note") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context), view.type == .action, !view.isDeleted else { return self.notFound() }
            return try self.once(request, posted) {
                do {
                    try self.replica.addNote(view.id, posted["note"] ?? "")
                    return .redirect(to: "/records/\(view.id.rawValue)?saved=1#note")
                } catch let error as ClusterSyncError where error.isUserError {
                    return try self.recordPage(view, flash: nil, problem: error.message, typed: posted)
                }
            }
        }
        router.post("/records/:id/vote") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context), view.type == .decision else { return self.notFound() }
            do {
                let vote = posted.trimmed("vote")
                let changes = try self.replica.vote(view.id, member: posted.trimmed("member"), vote == "abstain-interest" ? "abstain" : vote,
                                                    forInterest: vote == "abstain-interest", byProxy: posted["proxy"] != nil)
                return .redirect(to: "/records/\(view.id.rawValue)?voted=\(Replica.nowCastInPerson(changes) ? "in-person" : "1")")
            } catch let error as ClusterSyncError where error.isUserError {
                return try self.recordPage(view, flash: nil, problem: error.message, typed: posted)
            }
        }
        router.post("/records/:id/resolve") { request, context in
            guard let posted = try await self.posted(request) else { return self.expired() }
            guard let view = try self.record(context) else { return self.notFound() }
            let field = posted.trimmed("field")
            // A conflict settled meanwhile (by a sync, or in another tab) leaves nothing to do.
            guard let conflict = view.conflicts.first(where: { $0.field == field }) else {
                return .redirect(to: "/records/\(view.id.rawValue)")
            }
            do {
                // A value the form no longer offers (a tampered or stale form) is the library's
                // refusal to show, not a failure of the page.
                let (edit, _) = try ConflictResolution.keeping(posted.trimmed("keep"), conflict, of: view, values: ValueText(replica: self.replica))
                try self.replica.edit(view.id, edit)
            } catch let error as ClusterSyncError where error.isUserError {
                // Settling another practice's value is the cluster lead's (LeadPowers): say so.
                return try self.recordPage(view, flash: nil, problem: error.message)
            }
            return .redirect(to: "/records/\(view.id.rawValue)?settled=\(Self.encoded(field))")
        }
    }

    func record(_ context: BasicRequestContext) throws -> RecordView? {
        guard let text = context.parameters.get("id"), let id = RecordID(typed: text) else { return nil }
        return try replica.record(id).flatMap { $0.exists ? $0 : nil }
    }

    /// On a replica without the cluster lead's role, what its forms offer that only the lead
    /// may write, said before *Save* refuses it (web app audit: a practice manager was offered
    /// closing and escalating, then refused).
    /// The names a form's text boxes offer (`GovernanceRecords.namesToOffer`): a declaration's
    /// member from the bodies' members and those who attended.
    func nameSuggestions(_ type: RecordType) -> [String: [String]] {
        guard type == .declaration, let governance = try? governance() else { return [:] }
        return ["member": governance.namesToOffer]
    }

    func leadOnlyHints(_ type: RecordType) -> [String: String] {
        guard (try? replica.effectiveRole().role.hasLeadPowers) != true, let form = RecordForm.of(type) else { return [:] }
        var hints: [String: String] = [:]
        for field in form.fields {
            if let power = LeadPowers.power(writing: field.name, of: type) { hints[field.name] = t["hint_lead_\(power.rawValue)_\(type.rawValue)"] }
        }
        return hints
    }

    func editForm(_ view: RecordView, form: RecordForm, values: (String) -> String, baselines: @escaping (String) -> String,
                  problems: [RecordForm.Problem]) -> Response {
        let heading = t.text("form_edit", view.name)
        let data = form.data(heading: heading, action: "/records/\(view.id.rawValue)/edit", cancel: "/records/\(view.id.rawValue)",
                             values: values, baselines: baselines, problems: problems, t: t, hints: leadOnlyHints(view.type), suggestions: nameSuggestions(view.type),
                             records: self.linkable(from: view))
        return page.html("form", title: heading, section: Self.section(of: view.type), data: data,
                         conflicts: conflictCount(), status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// `typed`: a refused attendance or vote form, shown again as it was filled in, the problem
    /// beside it; `typedMember`, a refused member of a set, kept in its box.
    func recordPage(_ view: RecordView, flash: String?, problem: String? = nil, typed: FormBody? = nil,
                    typedMember: FormBody? = nil, refusedDelete: Bool = false) throws -> Response {
        let values = ValueText(replica: replica)
        let today = replica.today
        let title = view.name
        let conflicts: [[String: Any]] = view.conflicts.map { conflict in
            let label = fieldLabel(conflict.field)
            return [
                "field": conflict.field, "label": label,
                "intro": conflict.kind == .editAgainstDelete ? t["record_delete_conflict_intro"] : t.text("record_conflict_intro", Catalogue.inSentence(label)),
                "sides": conflict.values.map { write -> [String: Any] in
                    let text = displayed(values.text(write, in: conflict, of: view), field: write.field, of: view.type)
                    let author = write.author ?? t["unknown_author"]
                    return [
                        "change": write.id.description, "text": text,
                        "byline": t.text("record_by", author, WalesDates.moment(millis: write.hlc.millis)),
                        "keepLabel": "\(t["record_keep"]): \(text) (\(author))",
                    ]
                },
            ]
        }
        let governance = try governance()
        let derived = view.derived(today: today, governance: governance)
        var fields: [[String: Any]] = []
        // Sets kept under Names and links are not listed here too.
        let keptBelow = page.readOnly || view.isDeleted ? [] : Set(Self.editsMembers(of: view.type))
        for spec in view.type.schema.fields where spec.kind != .position && !keptBelow.contains(spec.name) {
            if case .choiceMap = spec.kind {
                let entries = view.mapLines(spec.name)
                if !entries.isEmpty { fields.append(["label": t["field_\(spec.name)"], "value": entries.joined(separator: "\n")]) }
                continue
            }
            let text: String
            switch spec.kind.cardinality {
            // Attendees by name, as the list under the attendance form (chair's audit: here they
            // came in the set's stored order, there by name).
            // One stored before a rule was tightened, which `Attendee` no longer reads, as stored.
            case .set where spec.kind == .attendeeSet:
                text = view.members(spec.name).map { value in
                    Attendee(value).map { ($0.name, WalesDates.shown(inText: $0.text)) } ?? (Replica.plain(value), Replica.plain(value))
                }.sorted { $0 < $1 }.map(\.1).joined(separator: "\n")
            case .set: text = view.members(spec.name).map { referenceTitle($0) ?? Replica.plain($0) }.joined(separator: "\n")
            case .log: text = (view.writes[spec.name] ?? []).map { write in
                // A progress note as people read one: its day as dates are shown, and who wrote it
                // (web app audit: an ISO date and no author, where the CLI names the author).
                guard case .object(let note) = write.value, let day = note["date"]?.stringValue, let said = note["text"]?.stringValue else {
                    return values.text(write.value, field: spec.name, of: view)
                }
                let parts = AuthorParts(author: write.author)
                let by = [parts.person, parts.practice].compactMap { $0 }.joined(separator: ", ")
                return "\(WalesDates.shown(iso: day)): \(said)" + (by.isEmpty ? "" : " (\(by))")
            }.joined(separator: "\n")
            case .register:
                guard let value = view.value(spec.name) else { continue }
                if let title = referenceTitle(value), let id = value.stringValue.flatMap({ RecordID($0) }) {
                    // A link held here opens: a plan's priorities on a PCPG's replica, an action's source.
                    fields.append(["label": t["field_\(spec.name)"], "value": title, "href": Self.page(of: id)])
                    continue
                }
                text = displayed(values.text(value, field: spec.name, of: view), field: spec.name, of: view.type)
            }
            if text.isEmpty { continue }
            fields.append(["label": t["field_\(spec.name)"], "value": text])
        }
        // Overdue for review: said beside the review date, as the register shows it.
        if derived["review_overdue"]?.boolValue == true {
            if let at = fields.firstIndex(where: { $0["label"] as? String == t["field_review_date"] }), let date = fields[at]["value"] as? String {
                fields[at]["value"] = "\(date) (\(t["overdue"]))"
            } else {
                fields.append(["label": t["field_review_date"], "value": t["overdue"]])
            }
        }
        if derived["escalation_suggested"] == .bool(true) {
            fields.append(["label": t["field_escalation"], "value": t.text("escalation_suggested", String(RiskScore.escalationTrigger))])
        }
        if let on = derived["escalated_on"]?.stringValue, let days = derived["escalated_days"]?.intValue {
            fields.append(["label": t["escalated_since"], "value": t.text("escalated_since_value", WalesDates.shown(iso: on), String(days))])
        }
        if let rag = derived["rag"]?.stringValue { fields.append(["label": t["col_rag"], "value": t["rag_\(rag)"]]) }
        if let moved = derived["due_moved_days"]?.intValue, let original = view.string("original_due_date") {
            fields.append(["label": t["due_moved"], "value": t.text(moved > 0 ? "due_moved_later" : "due_moved_earlier", String(abs(moved)), WalesDates.shown(iso: original))])
        }

        let history: [[String: Any]] = RecordHistory.entries(try replica.history(of: view.id)).reversed().map { entry in
            ["when": WalesDates.moment(millis: entry.hlc.millis), "who": Self.who(entry) ?? t["unknown_author"], "what": describe(entry, of: view, values: values)]
        }
        var data: [String: Any] = [
            "id": view.id.rawValue, "heading": title, "deleted": view.isDeleted,
            "scopeText": view.scope.practice == nil ? t["record_shared"] : t["record_private"],
            "editable": RecordForm.of(view.type) != nil && !view.isDeleted,
            "conflicts": conflicts, "hasConflicts": !conflicts.isEmpty, "fields": fields, "history": history,
        ]
        if view.type == .meeting, !view.isDeleted {
            func options(_ words: [String], _ field: String) -> [[String: Any]] {
                words.map { ["optionValue": $0, "optionLabel": $0.replacingOccurrences(of: "-", with: " "), "selected": typed?[field] == $0] }
            }
            var form: [String: Any] = [
                "roles": options(RecordSchema.attendeeRoles, "role"), "capacities": options(RecordSchema.attendeeCapacities, "capacity"),
            ]
            if let typed {
                form["typed"] = ["name", "practice", "represents", "replaces", "agreed_by", "agreed_on"].reduce(into: [String: String]()) { $0[$1] = typed[$1] ?? "" }
                form["error"] = problem
            }
            // Each recorded attendee, removable (a name recorded by mistake), as the CLI's `unattend`.
            form["attendees"] = view.attendees.map { a -> [String: Any] in
                ["text": WalesDates.shown(inText: a.text), "name": a.name, "id": view.id.rawValue, "removeLabel": t.text("attend_remove_label", a.name)]
            }
            form["hasAttendees"] = !view.attendees.isEmpty
            form["names"] = governance.namesToOffer(attending: view).map { ["name": $0] }
            form["replaced"] = governance.namesToOffer(replacedAt: view).map { ["name": $0] }
            data["attendForm"] = form
        }
        if view.type == .meeting {
            let decisions = governance.decisions(takenAt: view.id)
            data["meetingDecisions"] = decisions.map { ["id": $0.id.rawValue, "title": $0.name] }
            data["hasMeetingDecisions"] = !decisions.isEmpty
        }
        // Actions arising (`GovernanceRecords.arisingSources`), read without their notes.
        if let sources = governance.arisingSources(of: view) {
            let arising = try replica.register(.action, filter: RecordFilter(source: sources),
                                               fields: ["title", "owner", "due_date", "status", "source"])
            // The same in the action tracker, where they can be filtered further.
            data["arisingInTracker"] = "/actions?status=all&from=\(view.id.rawValue)"
            data["arisingActions"] = arising.map { action -> [String: Any] in
                // Its status too: a meeting reviewing its actions asks which are done (scale audit).
                let detail = [action.string("owner"), action.date("due_date").map { t.text("arising_due", WalesDates.shown($0)) },
                              action.status.map { $0.replacingOccurrences(of: "-", with: " ") }]
                    .compactMap { $0 }.joined(separator: ", ")
                var row: [String: Any] = ["id": action.id.rawValue, "title": action.name]
                if !detail.isEmpty { row["detail"] = detail }
                return row
            }
            data["hasArisingActions"] = !arising.isEmpty
            // What a chair records next from here, the form opened with this record linked.
            if !view.isDeleted {
                let id = view.id.rawValue
                data["recordFromHere"] = (view.type == .meeting
                    ? [("record_from_decision", "/decisions/new?meeting=\(id)"), ("record_from_action", "/actions/new?source=\(id)"),
                       ("record_from_declaration", "/declarations/new?meeting=\(id)")]
                    : [("record_from_action", "/actions/new?source=\(id)")]).map { ["label": t[$0.0], "href": $0.1] }
                data["hasRecordFromHere"] = true
            }
        }
        if view.type == .decision, !view.isDeleted {
            var form: [String: Any] = [
                "votes": (RecordSchema.voteChoices + ["abstain-interest"]).map {
                    ["optionValue": $0, "optionLabel": t["vote_\($0)"], "selected": typed?["vote"] == $0] as [String: Any]
                },
            ]
            // Each vote recorded, withdrawable (recorded for someone who did not vote), as the CLI's `unvote`.
            let lines = view.mapLines("votes")
            form["cast"] = view.mapValues("votes").keys.sorted().enumerated().map { n, member -> [String: Any] in
                ["text": lines[n], "member": member, "id": view.id.rawValue, "withdrawLabel": t.text("vote_withdraw_label", member)]
            }
            form["hasCast"] = !lines.isEmpty
            form["names"] = governance.namesToOffer(voting: view).map { ["name": $0] }
            if let typed {
                form["typed"] = ["member": typed["member"] ?? ""]
                form["byProxy"] = typed["proxy"] != nil
                form["error"] = problem
            }
            data["voteForm"] = form
        }
        // A list's item is deleted as `list remove` takes it off (any practice's, with no restore
        // here: it is added again); other records as `delete`, and restored.
        if view.type != .item || !view.isDeleted {
            var form: [String: Any] = ["isDeleted": view.isDeleted, "intro": t[view.type == .item ? "delete_item_intro" : "delete_intro"]]
            if refusedDelete { form["error"] = problem }
            data["deleteForm"] = form
        }
        if view.type == .action, !view.isDeleted {
            // A progress note, as the CLI's `action note` (web app audit: the app had none).
            var form: [String: Any] = ["typed": typed?["note"] ?? ""]
            if typed?["note"] != nil, let problem { form["error"] = problem }
            data["noteForm"] = form
        }
        if !view.isDeleted {
            let sets = setForms(of: view, typed: typedMember, problem: problem)
            data["setForms"] = sets
            data["hasSetForms"] = !sets.isEmpty
        }
        if view.type == .meeting, let agenda = view.string("agenda") { data["agendaID"] = agenda }
        let checks = governance.checks(of: view)
        data["hasChecks"] = !checks.isEmpty
        data["checks"] = checks.map { check in
            let key = "check_" + check.label.lowercased().replacingOccurrences(of: " ", with: "_")
            return ["label": t.strings[key] ?? check.label, "html": linkedRecords(in: WalesDates.shown(inText: check.text)), "attention": check.needsAttention]
                as [String: Any]
        }
        if let problem {
            data["hasErrors"] = true
            data["errors"] = [["message": problem, "href": refusedDelete ? "#d-confirm" : typedMember.map { "#s-\($0.trimmed("field"))-value" } ?? ""]]
        }
        return page.html("record", title: title, section: Self.section(of: view.type), data: data, flash: flash, conflicts: conflictCount())
    }

    /// The set fields of `type` the record page adds members to and removes them from: all but
    /// a meeting's attendees, which have a form of their own.
    static func editsMembers(of type: RecordType) -> [String] {
        type.schema.fields.filter { $0.kind.cardinality == .set && $0.kind != .attendeeSet }.map(\.name)
    }

    /// What an edit form's link fields offer: `linkable` from this record, the record itself
    /// left out (an audit linked an action to itself).
    func linkable(from view: RecordView) -> (RecordType, String) -> [LinkFinder.Option] {
        { type, listKind in self.linkable(type, fromPrivate: view.scope.practice != nil, listKind: listKind).filter { $0.id != view.id.rawValue } }
    }

    /// A set's *Add* with words in its box (`find`), or words that matched several kept beside
    /// a list showing them (`matched`) and nothing chosen there: the record to add, a refusal,
    /// or nil when the list's choice stands.
    func readSetFinder(_ posted: FormBody, of view: RecordView, field: String) -> Result<String?, LinkFinder.Refusal> {
        let finding = posted.trimmed("find"), matched = posted.trimmed("matched")
        let label = t["field_\(field)"]
        if !finding.isEmpty { return linkFinder(of: view, field: field).read(finding, label: label, t: t).map { $0 } }
        if !matched.isEmpty, posted.trimmed("value").isEmpty, linkFinder(of: view, field: field).stillMatches(matched) {
            return .failure(LinkFinder.unchosen(matched, label: label, forSet: true, t: t))
        }
        return .success(nil)
    }

    /// Whether `words` pick out one member the set holds already.
    func setHolds(_ words: String, view: RecordView, field: String) -> Bool {
        let members = view.members(field).compactMap(\.stringValue)
        let names = members.map { referenceTitle(.string($0)) ?? $0 }
        return LinkSearch.matches(LinkFinder.searched(words), ids: members, labels: names).count == 1
    }

    /// The records a link set's *Add* offers: those held here it may name (`linkable`) and does
    /// not name yet, the record itself left out.
    func linkFinder(of view: RecordView, field: String) -> LinkFinder {
        guard case .referenceSet(let types)? = view.type.schema.field(field)?.kind else { return LinkFinder(groups: []) }
        let named = Set(view.members(field).compactMap(\.stringValue))
        return LinkFinder(groups: types.map { type in
            linkable(type, fromPrivate: view.scope.practice != nil).filter { !named.contains($0.id) && $0.id != view.id.rawValue }
        })
    }

    /// Each such field's members, each with *Remove*, and how to add one: the words a choice
    /// takes, the records a link may name (those held here not named yet), or a text box.
    func setForms(of view: RecordView, typed: FormBody?, problem: String?) -> [[String: Any]] {
        Self.editsMembers(of: view.type).compactMap { name -> [String: Any]? in
            guard let spec = view.type.schema.field(name) else { return nil }
            let label = t["field_\(name)"]
            let isChoice = if case .choiceSet = spec.kind { true } else { false }
            let members = view.members(name).compactMap { member -> [String: Any]? in
                guard let value = member.stringValue else { return nil }
                let text = referenceTitle(member) ?? (isChoice ? value.replacingOccurrences(of: "-", with: " ") : value)
                return ["text": text, "value": value, "removeLabel": t.text("set_remove_label", text, Catalogue.inSentence(label))]
            }
            let named = Set(members.compactMap { $0["value"] as? String })
            var form: [String: Any] = [
                "field": name, "label": label, "members": members, "hasMembers": !members.isEmpty,
                "addLabel": t.text("set_add_label", Catalogue.inSentence(label)),
            ]
            let options: [[String: Any]]
            switch spec.kind {
            case .choiceSet(let words):
                options = words.filter { !named.contains($0) }.map { ["optionValue": $0, "optionLabel": $0.replacingOccurrences(of: "-", with: " ")] }
            case .referenceSet:
                let typedWords = typed?["field"] == name ? typed?.trimmed("find") ?? "" : ""
                let matched = typed?["field"] == name && typedWords.isEmpty ? typed?.trimmed("matched") ?? "" : ""
                let (listed, hint) = linkFinder(of: view, field: name).listing(typedWords.isEmpty ? matched : typedWords, hint: "link_find_hint_set", t: t)
                options = listed.map { ["optionValue": $0.id, "optionLabel": $0.name] }
                if let hint { form["finder"] = ["value": typedWords, "hint": hint, "matched": matched] }
            default:
                form["text"] = true
                options = []
            }
            form["options"] = options
            form["canAdd"] = form["text"] != nil || !options.isEmpty
            if let typed, typed["field"] == name {
                form["typedValue"] = typed["value"] ?? ""
                form["error"] = problem
            }
            // An empty link set says what it is not: a meeting's own list of decisions beside
            // the decisions naming the meeting read as a contradiction (web app audit).
            if let none = t.strings["set_none_\(view.type.rawValue)_\(name)"] { form["none"] = none }
            // Names and practice ids are matched against attendance as written there.
            if let hint = t.strings["set_hint_\(view.type.rawValue)_\(name)"] { form["hint"] = hint }
            let describedBy = [form["hint"] != nil ? "s-\(name)-hint" : nil, form["error"] != nil ? "s-\(name)-error" : nil].compactMap { $0 }
            if !describedBy.isEmpty { form["describedBy"] = describedBy.joined(separator: " ") }
            return form
        }
    }

    /// A date field's ISO value as people write dates; anything else as the CLI words it.
    /// Who made a change, person then practice ("Siân Evans, W95010"), as the core reads the
    /// author the server stamped.
    static func who(_ entry: HistoryEntry) -> String? {
        let parts = entry.madeBy
        switch (parts.person, parts.practice) {
        case (let person?, let practice?): return "\(person), \(practice)"
        case (let person?, nil): return person
        case (nil, let practice?): return practice
        case (nil, nil): return entry.author
        }
    }

    /// A date field's value as people in Wales write dates (the field's kind decides, so
    /// `date_declared` and `date_agreed` are dates too); anything else as it is.
    func displayed(_ text: String, field: String, of type: RecordType) -> String {
        switch type.schema.field(field)?.kind {
        case .date: WalesDates.shown(iso: text)
        // An attendee's agreement day, in its words ("agreed by BCUHB on 1 Nov 2026").
        case .attendeeSet: WalesDates.shown(inText: text)
        // A choice as its form offers it ("stakeholder board", "not started"; web app audit: a
        // record's page showed the stored word, "stakeholder-board").
        case .choice(let words) where words.contains(text): text.replacingOccurrences(of: "-", with: " ")
        default: text
        }
    }

    /// `text` as HTML, each record id in it (a declaration of interest, the terms of reference a
    /// check was judged by) a link named by the record's title when the record is held here: the
    /// core words checks for the CLI, where ids are what `show` takes.
    func linkedRecords(in text: String) -> String {
        var html = ""
        for piece in recordPieces(of: text, name: checkName) {
            if let id = piece.id { html += "<a href=\"/records/\(id.rawValue)\">" }
            HTMLText.append(piece.text, to: &html)
            if piece.id != nil { html += "</a>" }
        }
        return html
    }

    /// `text` with each record id held here replaced by its title (`name`, `checkName` or a
    /// page's memo of it), for a table's plain cell (the decision log's checks).
    func namedRecords(in text: String, name: (RecordID) -> String?) -> String {
        recordPieces(of: text, name: name).map(\.text).joined()
    }

    /// The title a check names a record by, when it is held here. A declaration is named by its
    /// member, who is named already just before it: by its organisation and day instead, which
    /// tell a member's declarations apart (scale audit: one member's 25 read "declared …" alike).
    func checkName(_ id: RecordID) -> String? {
        guard let view = try? replica.record(id), view.exists else { return nil }
        guard view.type == .declaration else { return view.name }
        let parts = [view.string("organisation").flatMap { $0.isEmpty ? nil : $0 },
                     view.string("date_declared").map { t.text("check_declared", WalesDates.shown(iso: $0)) }].compactMap { $0 }
        return parts.isEmpty ? t["type_declaration"] : parts.joined(separator: ", ")
    }

    /// `text` in pieces: words as they are, and each record id `name` names (`id` set) as that
    /// name; an id it does not name stays as it is.
    private func recordPieces(of text: String, name: (RecordID) -> String?) -> [(text: String, id: RecordID?)] {
        var pieces: [(text: String, id: RecordID?)] = []
        var rest = text[...]
        while let match = rest.firstMatch(of: /[A-Z]{3}-[0-9A-Z]{10}/) {
            pieces.append((String(rest[..<match.range.lowerBound]), nil))
            if let id = RecordID(String(match.output)), let title = name(id) {
                pieces.append((title, id))
            } else {
                pieces.append((String(match.output), nil))
            }
            rest = rest[match.range.upperBound...]
        }
        pieces.append((String(rest), nil))
        return pieces
    }

    /// The title of a record a value names, when it names one held here; a link to a record
    /// deleted since (links stay) says so, so a deleted action is not read as one in hand.
    func referenceTitle(_ value: JSONValue) -> String? {
        guard let text = value.stringValue, let id = RecordID(text), let view = try? replica.record(id), view.exists else { return nil }
        // A declaration as its link names it: a member's several read alike (scale audit).
        let name = view.type == .declaration ? Self.linkName(view) : view.name
        return view.isDeleted ? t.text("link_deleted", name) : name
    }

    func describe(_ entry: HistoryEntry, of view: RecordView, values: ValueText) -> String {
        let label = fieldLabel(entry.field, lowercased: true)
        let after = entry.after.map { displayed(values.text($0, field: entry.field, of: view), field: entry.field, of: view.type) } ?? ""
        switch entry.action {
        case .set:
            let after = referenceTitle(entry.after ?? .null) ?? after
            guard let before = entry.before.first else { return t.text("history_set", label, after) }
            func shown(_ value: JSONValue) -> String {
                referenceTitle(value) ?? displayed(values.text(value, field: entry.field, of: view), field: entry.field, of: view.type)
            }
            // A conflict settled by keeping one of its values: "changed from X to X" would read
            // as if nothing happened.
            if entry.before.count > 1, let kept = entry.after, entry.before.contains(kept) {
                let others = entry.before.filter { $0 != kept }.map(shown)
                return t.text("history_settled", label, after, others.joined(separator: ", "))
            }
            return t.text("history_changed", label, shown(before), after)
        case .add: return t.text("history_add", label, referenceTitle(entry.after ?? .null) ?? after)
        case .remove:
            return t.text("history_remove", label, entry.before.first.map { referenceTitle($0) ?? displayed(Replica.plain($0), field: entry.field, of: view.type) } ?? "")
        case .note: return t.text("history_note", label, after)
        case .place: return t.text("history_place", label, after)
        case .delete: return t["history_delete"]
        case .restore: return t["history_restore"]
        case .redact: return values.text(entry.after, field: entry.field, of: view)
        }
    }
}
