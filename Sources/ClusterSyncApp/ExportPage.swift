import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Hummingbird

/// Export: every register as the CSV the import page reads back, everything as JSON, and a
/// backup of the replica file (`ReplicaBackup`) for a practice manager who never opens a terminal.
extension Pages {
    func registerExportPage(on router: Router<BasicRequestContext>) {
        router.get("/export") { _, _ in self.exportPage() }
        for type in Self.importTypes {
            router.get(RouterPath("/export/\(Self.csvName(type))")) { _, _ in
                try self.download(self.replica.exportCSV(type, today: self.replica.today), type: "text/csv", name: Self.csvName(type))
            }
        }
        router.get("/export/clustersync.json") { _, _ in
            try self.download(self.replica.exportJSON(today: self.replica.today).canonicalText + "\n", type: "application/json", name: "clustersync.json")
        }
        router.post("/export/backup") { request, _ in
            guard (try await self.posted(request)) != nil else { return self.expired() }
            do {
                let (destination, summary) = try await self.backups.backUp(self.replicaPath)
                return self.exportPage(flash: self.t.text("export_backup_done", destination, summary.description))
            } catch let error as ClusterSyncError {
                return self.exportPage(failure: self.t.text("export_backup_failed", error.message), status: .internalServerError)
            }
        }
    }

    func exportPage(flash: String? = nil, failure: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let files = Self.importTypes.map { type -> [String: String] in
            ["href": "/export/\(Self.csvName(type))", "label": t.text("export_csv", t["import_type_\(type.rawValue)"])]
        }
        var data: [String: Any] = ["files": files, "replicaPath": URL(fileURLWithPath: replicaPath).path]
        if let failure { data["failure"] = failure }
        if let identity = try? replica.identity(), let last = ReplicaBackup.datedBackups(of: identity.replicaID, beside: replicaPath).first {
            data["lastBackup"] = t.text("export_backup_last", WalesDates.moment(millis: last.millis), last.path)
        } else {
            data["lastBackup"] = t["export_backup_none"]
        }
        return page.html("export", title: t["export_title"], section: .export, data: data, flash: flash, conflicts: conflictCount(),
                         status: status)
    }
}

/// The app's backups, one at a time: two clicks (or tabs) in one second would otherwise race
/// for one name, and each copy reads the whole file.
actor AppBackups {
    func backUp(_ replicaPath: String) throws -> (path: String, summary: ReplicaBackup.Summary) {
        try ReplicaBackup.backupBeside(replica: replicaPath, atMillis: Replica.systemMillis())
    }
}
