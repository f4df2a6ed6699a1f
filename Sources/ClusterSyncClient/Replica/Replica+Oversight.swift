import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// A PCPG's or Health Board's replica (`clustersync init --role pcpg|health-board`): it syncs
/// like a practice's and reads offline, but holds only what the server sends a read-only session
/// (PROTOCOL.md §7.1): the roll-up of its clusters and, in full, the risks escalated to it and
/// their actions, and the plans past draft with their priorities. It writes nothing: every local
/// edit and every merge is refused.
extension Replica {
    /// The read-only role a replica was made for; nil for a practice's replica.
    public struct OversightRole: Sendable, Equatable {
        public var role: CredentialRole
        /// A pcpg's region.
        public var region: String?
    }

    /// Makes a new read-only replica file at `path` for a PCPG (one region of `tenant`) or a
    /// Health Board (the whole tenant). Leaves no file behind when it fails.
    public static func createReadOnly(
        path: String, tenant: String, role: CredentialRole, region: String?, displayName: String,
        wallClock: @escaping @Sendable () -> Int64 = Replica.systemMillis
    ) throws -> (Replica, ReplicaIdentity) {
        guard role.isReadOnly else {
            throw ClusterSyncError(.invalidValue, "--role \(role) is a practice's: give --cluster and --practice instead", field: "role")
        }
        try PracticeName.check(tenant, "tenant")
        if role.needsRegion {
            guard let region else { throw ClusterSyncError(.invalidValue, "a pcpg replica needs --region (the PCPG's county)", field: "region") }
            try PracticeName.check(region, "region")
        } else if region != nil {
            throw ClusterSyncError(.invalidValue, "a health-board replica covers the whole tenant: leave out --region", field: "region")
        }
        let displayName = try AuthorName.validated(displayName, field: "name")
        let existed = FileManager.default.fileExists(atPath: path)
        do {
            let replica = try Replica(path: path, wallClock: wallClock)
            let identity = ReplicaIdentity(replicaID: .random(), tenant: tenant, cluster: "", practice: "", displayName: displayName)
            try replica.database.write { db in
                guard try Int.fetchOne(db, sql: "SELECT count(*) FROM identity")! == 0 else {
                    throw ClusterSyncError(.invalidValue, "this replica is already initialised; use a new file")
                }
                try db.execute(sql: """
                    INSERT INTO identity (singleton, replica_id, tenant, cluster, practice, display_name, counter, hlc)
                    VALUES (1, ?, ?, '', '', ?, 0, 0)
                    """, arguments: [identity.replicaID.rawValue, tenant, displayName])
                try db.execute(sql: "INSERT INTO oversight (singleton, role, region) VALUES (1, ?, ?)",
                               arguments: [role.rawValue, role.needsRegion ? region : nil])
            }
            return (replica, identity)
        } catch {
            if !existed {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            throw error
        }
    }

    /// The read-only role this replica was made for; nil for a practice's.
    public func oversightRole() throws -> OversightRole? {
        try database.read { db in try Self.oversightRole(db) }
    }

    static func oversightRole(_ db: Database) throws -> OversightRole? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT role, region FROM oversight")) else { return nil }
        return OversightRole(role: CredentialRole(rawValue: row["role"]) ?? .pcpg, region: row["region"])
    }

    /// The refusal of any write to a read-only replica.
    static func readOnlyRefusal(_ role: OversightRole) -> ClusterSyncError {
        ClusterSyncError(.forbiddenScope,
            "this is a \(role.role) replica\(role.region.map { " of region \($0)" } ?? ""): it reads roll-ups and escalated risks "
            + "and changes nothing. Edits are made in a practice's replica, by the practice or its cluster lead")
    }

    /// What a read-only replica says when asked for a cluster's own report (the board report,
    /// GP Collaborative attendance): it holds no cluster's registers, so the answer would be
    /// empty, and an empty report read as "nothing to report" (PCPG audit).
    func refuseClusterReport(_ what: String) throws {
        guard let role = try oversightRole() else { return }
        throw ClusterSyncError(.forbiddenScope,
            "this is a \(role.role) replica\(role.region.map { " of region \($0)" } ?? ""): it holds its clusters' roll-ups and escalated "
            + "risks, not their registers, so \(what) is made on a practice's replica of the cluster. Here, `clustersync rollup` "
            + "(the app's Roll-up) gives each cluster's figures, GP Collaborative attendance included")
    }

    /// Throws the read-only refusal when this is a PCPG's or Health Board's replica.
    static func refuseIfReadOnly(_ db: Database) throws {
        if let role = try oversightRole(db) { throw readOnlyRefusal(role) }
    }

    /// What a read-only session's page adds (inside the page's transaction): keeps its roll-up
    /// and deletes every record the server no longer lists (a de-escalated risk, an action no
    /// longer linked to an escalated one): it disappears from this replica, history and all.
    /// Returns how many records it withdrew, and whether the replica now holds every record the
    /// page lists. It may not: the
    /// server sends a cluster's changes only when something was stored in that cluster since
    /// the replica's cursor (PROTOCOL.md §7.1), and a cluster the administrator moved into a
    /// PCPG's region stores nothing by moving. The caller then leaves the cursor at the start
    /// (after the page's last page: the records listed come page by page), so the next sync
    /// pulls every listed record whole.
    static func applyOversight(_ oversight: OversightPage, now: Int64, _ db: Database) throws -> (withdrawn: Int, holdsAllListed: Bool) {
        try db.execute(sql: "UPDATE oversight SET rollup = ?, received_at = ?", arguments: [oversight.rollup.canonicalText, now])
        let listed = Set(oversight.escalated.map { [$0.cluster, $0.record.rawValue] })
        let held = try Row.fetchAll(db, sql: "SELECT num, cluster, id FROM record")
        var withdrawn = 0
        // By id alone: a second cluster's record reusing an id is set aside, not held twice.
        var kept = Set<String>()
        for row in held {
            guard !listed.contains([row["cluster"] as String, row["id"] as String]) else {
                kept.insert(row["id"])
                continue
            }
            withdrawn += 1
            let num: Int64 = row["num"]
            try db.execute(sql: "DELETE FROM change WHERE record = ?", arguments: [num])
            try db.execute(sql: "DELETE FROM orphan_supersede WHERE record = ?", arguments: [num])
            if try db.tableExists("redaction") {
                try db.execute(sql: "DELETE FROM redaction WHERE cluster = ? AND record = ?", arguments: [row["cluster"] as String, row["id"] as String])
            }
            try db.execute(sql: "DELETE FROM record WHERE num = ?", arguments: [num])
        }
        return (withdrawn, oversight.escalated.allSatisfy { kept.contains($0.record.rawValue) })
    }

    /// The roll-up the server sent at the last sync (a read-only replica's), `cluster`'s alone if
    /// given. Throws when there is none yet.
    func storedRollup(cluster: String?, region: String? = nil) throws -> RegionRollup {
        let text = try database.read { db in try String.fetchOne(db, sql: "SELECT rollup FROM oversight") }
        guard let text, var rollup = try? JSONDecoder().decode(RegionRollup.self, from: Data(text.utf8)) else {
            throw ClusterSyncError(.invalidValue, "no roll-up yet: this replica has not synced; run `clustersync sync` first")
        }
        if let region {
            guard let one = rollup.byRegion.first(where: { $0.region == region }) else {
                let known = rollup.byRegion.compactMap(\.region)
                throw ClusterSyncError(.invalidValue, "the server's roll-up has no region \(PatientDataGuard.quotable(region) ?? "so named"); "
                    + (known.isEmpty ? "it names no region (a server of an earlier version, or clusters in none)" : "it covers \(known.joined(separator: ", "))"),
                    field: "region")
            }
            rollup = one
        }
        guard let cluster else { return rollup }
        guard let one = rollup.clusters.first(where: { $0.cluster == cluster }) else {
            throw ClusterSyncError(.invalidValue, "the server's roll-up has no cluster \(PatientDataGuard.quotable(cluster) ?? "so named"); "
                + "it covers \(rollup.clusters.map(\.cluster).joined(separator: ", "))", field: "cluster")
        }
        return RegionRollup(tenant: rollup.tenant, region: rollup.region, clusters: [one])
    }
}
