import ClusterSyncCore
import ClusterSyncStorage
import GRDB

extension Replica {
    /// Erases the value `change` wrote to `field` of `record`, here at once and on every replica
    /// and the server as the redaction syncs (Protocol/changes.md §10). Returns the redaction,
    /// queued in the outbox like any edit.
    ///
    /// Refused when the record or change is not held here (`unknown-record`), the change writes
    /// another record or field, holds no value, is already redacted, or the field is not free text,
    /// or the reason is empty, too long or holds an NHS number (`invalid-value`, `unknown-field`,
    /// `patient-data`).
    @discardableResult
    public func redact(_ record: RecordID, field: String, change target: ChangeID, reason: String) throws -> Change {
        let made = try database.write { db -> Change in
            try Self.refuseIfReadOnly(db)
            let identity = try Self.identity(db)
            guard let scope = try Self.scope(of: record, db) else {
                throw ClusterSyncError(.unknownRecord, "no record \(record) in this replica")
            }
            guard let stored = try ChangeReader.changes(db, where: "r.id = ? AND c.counter = ?",
                                                         arguments: [target.replica.rawValue, target.counter]).first else {
                throw ClusterSyncError(.unknownRecord, "no change \(target) in this replica: `clustersync history \(record)` lists the changes of the record")
            }
            let row = try Row.fetchOne(db, sql: "SELECT counter, hlc FROM identity")!
            var clock = HybridLogicalClock(last: HLCTimestamp(packed: row["hlc"]))
            let counter = (row["counter"] as Int64) + 1
            // Signed like every change made here (Protocol/changes.md §2.1).
            let redaction = ChangeSignature.signed(Change(
                id: ChangeID(replica: identity.replicaID, counter: counter), hlc: clock.tick(wallMillis: wallClock()),
                record: record, scope: scope, field: Redaction.field,
                value: Redaction.Request(change: target, field: field, reason: reason).value, author: identity.displayName),
                with: try Self.signingKey(db))
            try redaction.validate()
            // The cluster lead's power (`LeadPowers`), by the role of this replica's last welcome.
            try LeadPowers.check(redaction, role: try Self.grantedRole(db).role, practice: identity.practice,
                                 supersededPractices: [], receiver: .replica)
            try Redaction.check(Redaction.request(of: redaction)!, of: redaction, target: stored)
            if let by = Redaction.redaction(ofMarker: stored.value) {
                throw ClusterSyncError(.invalidValue, "change \(target) is already redacted (by \(by))", field: Redaction.field)
            }
            var writer = try Self.changeWriter(db)
            _ = try writer.apply(redaction)
            try db.execute(sql: "INSERT INTO outbox (replica, counter) VALUES (?, ?)",
                           arguments: [try writer.replicaNumber(identity.replicaID), counter])
            try db.execute(sql: "UPDATE identity SET counter = ?, hlc = ?", arguments: [counter, clock.last.packed])
            try Self.eraseSetAside(writer.erased, db)
            return redaction
        }
        scrub()
        return made
    }

    /// Set-aside copies of erased changes are erased too; one that cannot be read is dropped.
    static func eraseSetAside(_ erased: [(change: ChangeID, by: ChangeID)], _ db: Database) throws {
        for (id, by) in erased {
            for row in try Row.fetchAll(db, sql: "SELECT rowid, change_json FROM set_aside WHERE change_id = ?", arguments: [id.description]) {
                if let change = try? Change(jsonText: row["change_json"] as String) {
                    try db.execute(sql: "UPDATE OR REPLACE set_aside SET change_json = ? WHERE rowid = ?",
                                   arguments: [Redaction.erased(change, by: by).jsonText, row["rowid"] as Int64])
                } else {
                    try db.execute(sql: "DELETE FROM set_aside WHERE rowid = ?", arguments: [row["rowid"] as Int64])
                }
            }
        }
    }

    /// Set-aside copies of the changes `redactions` name, when of the redaction's record and
    /// field (as `ChangeWriter.storedRedaction` matches them: a redaction pushed in one cluster
    /// naming a change of another erases nothing).
    static func eraseSetAside(redactedBy redactions: [Change], _ db: Database) throws {
        for redaction in redactions {
            guard let request = Redaction.request(of: redaction) else { continue }
            for row in try Row.fetchAll(db, sql: "SELECT rowid, change_json FROM set_aside WHERE change_id = ?", arguments: [request.change.description]) {
                guard let change = try? Change(jsonText: row["change_json"] as String), change.record == redaction.record,
                      change.field == request.field, change.scope.tenant == redaction.scope.tenant, change.scope.cluster == redaction.scope.cluster
                else { continue }
                try db.execute(sql: "UPDATE OR REPLACE set_aside SET change_json = ? WHERE rowid = ?",
                               arguments: [Redaction.erased(change, by: redaction.id).jsonText, row["rowid"] as Int64])
            }
        }
    }

    /// Rebuilds the file and empties its write-ahead log, so erased values leave the disk, not
    /// only the tables. Best effort: the next redaction or sync that brings one tries again.
    func scrub() {
        try? database.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.checkpoint(.truncate)
        }
    }
}
