import ClusterSyncClient
import ClusterSyncCore
import Hummingbird

/// Meetings, the decision log and the declarations of interest register: tables of their
/// records; each record opens on the shared record page (a meeting's with its attendance form).
extension Pages {
    func registerGovernancePages(on router: Router<BasicRequestContext>) {
        router.get("/meetings") { _, _ in
            try self.governanceRegister(.meeting, columns: ["field_body", "field_date", "field_status", "col_attendance"],
                                        also: ["href": "/terms", "label": self.t["terms_title"]]) { view in
                [self.choice(view, "body"), self.date(view, "date"), self.choice(view, "status"), String(view.members("attendees").count)]
            }
        }
        router.get("/terms") { _, _ in
            let today = self.replica.today
            let governance = try self.replica.governance()
            return try self.governanceRegister(.terms, columns: ["field_body", "field_date_agreed", "field_review_date", "col_in_force"],
                                               overdue: { governance.isOverdue($0, today: today) }) { view in
                let inForce = governance.termsInForce(body: view.string("body") ?? "", on: today)?.id == view.id
                // A review past due shows so, as on the record's page and in the roll-up.
                let review = self.date(view, "review_date") + (governance.isOverdue(view, today: today) ? " (" + self.t["overdue"] + ")" : "")
                return [self.choice(view, "body"), self.date(view, "date_agreed"), review, self.t[inForce ? "yes" : "no"]]
            }
        }
        router.get("/decisions") { _, _ in
            try self.governanceRegister(.decision, columns: ["field_date", "field_method", "field_outcome"]) { view in
                [self.date(view, "date"), self.choice(view, "method"), self.choice(view, "outcome")]
            }
        }
        router.get("/declarations") { _, _ in
            let today = self.replica.today
            return try self.governanceRegister(.declaration, columns: ["field_organisation", "field_nature", "field_date_declared", "col_in_force"]) { view in
                let inForce = view.derived(today: today)["in_force"]?.boolValue
                return [view.string("organisation") ?? "", self.choice(view, "nature"), self.date(view, "date_declared"),
                        inForce.map { self.t[$0 ? "yes" : "no"] } ?? ""]
            }
        }
    }

    func choice(_ view: RecordView, _ field: String) -> String {
        (view.string(field) ?? "").replacingOccurrences(of: "-", with: " ")
    }

    func date(_ view: RecordView, _ field: String) -> String {
        view.string(field).map { WalesDates.shown(iso: $0) } ?? ""
    }

    /// `also`: a link to a related page shown beside the add button (the terms of reference from
    /// the meetings).
    /// `overdue`: whether a row is highlighted as the risk register highlights a review past due.
    func governanceRegister(_ type: RecordType, columns: [String], also: [String: String]? = nil,
                            overdue: (RecordView) -> Bool = { _ in false }, cells: (RecordView) -> [String]) throws -> Response {
        // Each cell carries its column's name, which a phone's narrow screen shows beside it.
        let labels = columns.map { t[$0] }
        let rows: [[String: Any]] = try replica.register(type, order: RecordOrder(.date)).map { view in
            ["id": view.id.rawValue, "name": view.name, "conflict": !view.conflicts.isEmpty, "overdue": overdue(view),
             "cells": zip(labels, cells(view)).map { ["label": $0, "value": $1] }]
        }
        let plural = Self.path(of: type).dropFirst()
        var data: [String: Any] = [
            "heading": t["\(plural)_title"], "newPath": "\(Self.path(of: type))/new", "addLabel": t["\(plural)_add"],
            "columns": [t[type == .declaration ? "field_member" : "field_title"]] + labels, "rows": rows,
        ]
        if let also { data["also"] = also }
        return page.html("register", title: t["\(plural)_title"], section: Self.section(of: type), data: data, conflicts: conflictCount())
    }
}
