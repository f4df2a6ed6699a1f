import ClusterSyncCore
import ClusterSyncStorage
import ClusterSyncTLS
import Foundation
import GRDB
import NIOSSL

/// The server a replica syncs with and how it proves who it is.
public struct RemoteSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The CA that signed the server's certificate (and the practice's, if any).
    public var caFile: String
    /// A practice certificate and its key, for mutual TLS.
    public var certificateFile: String?
    public var keyFile: String?
    /// A file holding a bearer token, when the practice has no certificate.
    public var tokenFile: String?

    public init(host: String, port: Int, caFile: String, certificateFile: String? = nil, keyFile: String? = nil, tokenFile: String? = nil) {
        self.host = host
        self.port = port
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.tokenFile = tokenFile
    }

    /// How the replica proves who it is: a certificate with its key, or a token, never both.
    /// With both, the server refuses every hello (a certificate already names the practice), and
    /// nobody but the person at the replica can mend it (README audit, forty-third session), so
    /// both are refused here, before anything is saved.
    public func checkCredentials() throws(ClusterSyncError) {
        if (certificateFile == nil) != (keyFile == nil) {
            throw ClusterSyncError(.invalidValue, "a client certificate and its key go together: give both --certificate and --key",
                                   field: certificateFile == nil ? "certificate" : "key")
        }
        switch (certificateFile, tokenFile) {
        case (nil, nil):
            throw ClusterSyncError(.invalidValue, "give a practice certificate (--certificate and --key) or a token (--token-file)", field: "token-file")
        case (_?, _?):
            throw ClusterSyncError(.invalidValue, "give a practice certificate (--certificate and --key) or a token (--token-file), not both: "
                + "the server takes a certificate as the practice's proof and refuses a token beside it", field: "token-file")
        default: return
        }
    }

    /// Whether the files are what they should be (a CA certificate, the practice's certificate
    /// and its key, a token), for a front end to say before it saves them (the CLI audit: any
    /// file was taken, and `sync` then said "internal error", or that a token was revoked).
    public func checkFiles() throws(ClusterSyncError) {
        _ = try tlsConfiguration()
        _ = try token()
    }

    /// The TLS settings the files make: the CA, and the practice's certificate and key. A file
    /// that is not what it should be is the user's to mend, said by name.
    public func tlsConfiguration() throws(ClusterSyncError) -> TLSConfiguration {
        do {
            return try TLSSetup.clientConfiguration(trustedCAFile: caFile, certificateFile: certificateFile, privateKeyFile: keyFile)
        } catch {
            throw ClusterSyncError(.invalidValue, error.message,
                                   field: error.path == keyFile ? "key" : error.path == certificateFile ? "certificate" : "ca")
        }
    }

    /// The bearer token in `tokenFile`: one line, as `clustersyncd credential issue` printed it.
    public func token() throws(ClusterSyncError) -> String? {
        guard let file = tokenFile else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ClusterSyncError(.invalidValue, "cannot read the token file \(file)", field: "token-file")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.hasPrefix("cst_"), !token.contains(where: \.isWhitespace) else {
            throw ClusterSyncError(.invalidValue,
                "the token file \(file) holds no ClusterSync token (one line starting cst_): point at the file holding what "
                + "`clustersyncd credential issue` printed", field: "token-file")
        }
        return token
    }

    /// Parses `host:port` (port 7443 when left out).
    public static func address(_ text: String) throws(ClusterSyncError) -> (host: String, port: Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !text.isEmpty: return (text, 7443)
        case 2 where !parts[0].isEmpty:
            if let port = Int(parts[1]), (1...65535).contains(port) { return (String(parts[0]), port) }
        default: break
        }
        throw ClusterSyncError(.invalidValue, "the server address must be HOST or HOST:PORT (like sync.example.nhs.wales:7443); got \"\(text)\"", field: "address")
    }
}

/// Where sync stands: the server's cursor and the last successful sync.
public struct SyncState: Sendable, Equatable {
    public var cursor: ClusterSyncCore.Cursor?
    public var lastSyncMillis: Int64?
}

extension Replica {
    /// Saves the server and the credential's files; refuses a credential `checkCredentials`
    /// refuses, saving nothing.
    public func setRemote(_ remote: RemoteSettings) throws {
        try remote.checkCredentials()
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO remote (singleton, host, port, ca_file, certificate_file, key_file, token_file)
                VALUES (1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (singleton) DO UPDATE SET host = excluded.host, port = excluded.port,
                    ca_file = excluded.ca_file, certificate_file = excluded.certificate_file,
                    key_file = excluded.key_file, token_file = excluded.token_file,
                    -- Another server is another stream: start it from the beginning.
                    cursor = CASE WHEN remote.host = excluded.host AND remote.port = excluded.port THEN remote.cursor END
                """, arguments: [remote.host, remote.port, remote.caFile, remote.certificateFile, remote.keyFile, remote.tokenFile])
        }
    }

    public func remote() throws -> RemoteSettings? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM remote").map {
                RemoteSettings(host: $0["host"], port: $0["port"], caFile: $0["ca_file"], certificateFile: $0["certificate_file"],
                               keyFile: $0["key_file"], tokenFile: $0["token_file"])
            }
        }
    }

    public func syncState() throws -> SyncState {
        try database.read { db in try Self.syncState(db) }
    }

    static func syncState(_ db: Database) throws -> SyncState {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT cursor, last_sync_at FROM remote"))
        return SyncState(cursor: (row?["cursor"] as String?).map(ClusterSyncCore.Cursor.init), lastSyncMillis: row?["last_sync_at"])
    }

    /// Changes waiting for the server that may be pushed now (`pushableCondition`: relayed
    /// changes whose maker has not registered a key wait, see `waitingRelays()`), at most
    /// `limit`, each replica's in the order it made them; after `position` (the last change of
    /// the previous page), or from the start.
    public func outbox(after position: ChangeID? = nil, limit: Int) throws -> [Change] {
        try database.read { db in
            guard let position else {
                return try ChangeReader.changes(db, sql: Self.outboxPageSQL(afterPosition: false, limit: limit), cached: true)
            }
            return try ChangeReader.changes(db, sql: Self.outboxPageSQL(afterPosition: true, limit: limit),
                                            arguments: [position.replica.rawValue, position.counter], cached: true)
        }
    }

    /// A page of `outbox(after:limit:)`; after a position, its replica id and counter are the
    /// statement's two arguments.
    static func outboxPageSQL(afterPosition: Bool, limit: Int) -> String {
        ChangeReader.changesSQL(
            from: outboxChanges,
            where: afterPosition ? "(o.replica, o.counter) > ((SELECT num FROM replica WHERE id = ?), ?) AND \(pushableCondition)" : pushableCondition,
            orderBy: "o.replica, o.counter", limit: limit)
    }

    /// The server has stored these changes: they leave the outbox. Those this replica made, and
    /// that still carry the name they were made with, take `author`, the name the server stamped
    /// on them (its `ack` says which), so this replica shows them as every other replica does
    /// even when the server never sends them back (a watch's subscription does not). One that
    /// already carries a server's stamp keeps it: a duplicate first pushed as another practice's
    /// relay is stored "X via Y", which the server's page brought. A relayed change keeps its
    /// name until a pull brings the server's copy.
    public func acknowledge(_ ids: [ChangeID], author: String? = nil, superseded: [ChangeID] = []) throws {
        try database.write { db in
            let me = try Self.identity(db).replicaID
            // An ack means the server has registered this replica's key (its session's first
            // push registers it): changes of this replica that others relay can now be pushed.
            try Self.markAcknowledged([me], db)
            // One statement per maker named, over its counters as a JSON array: an ack names up
            // to a thousand changes, and a statement for each cost more than its work.
            var counters: [ReplicaID: [Int64]] = [:]
            for id in ids { counters[id.replica, default: []].append(id.counter) }
            let delete = try db.cachedStatement(sql: """
                DELETE FROM outbox WHERE replica = (SELECT num FROM replica WHERE id = ?)
                    AND counter IN (SELECT value FROM json_each(?))
                """)
            let stamp = try db.cachedStatement(sql: """
                UPDATE change SET author = ?1 WHERE replica = (SELECT num FROM replica WHERE id = ?2)
                    AND counter IN (SELECT value FROM json_each(?3)) AND author IS (SELECT display_name FROM identity)
                """)
            for (replica, list) in counters {
                let json = "[" + list.map(String.init).joined(separator: ",") + "]"
                try delete.execute(arguments: [replica.rawValue, json])
                if let author, replica == me {
                    try stamp.execute(arguments: [author, replica.rawValue, json])
                }
            }
            // Writes the server already had and holds superseded. A replica that took a snapshot
            // lacks the changes that superseded them (PROTOCOL.md §5.7), so a stale copy handed
            // over by `merge` arrived here as new and live; in every replica that replayed the
            // history it is dead, and so it is here now. Supersession never ends, so this only
            // tells early what the pulls would, where they still can.
            guard !superseded.isEmpty else { return }
            let kill = try db.cachedStatement(sql: """
                UPDATE change SET live = 0 WHERE replica = (SELECT num FROM replica WHERE id = ?) AND counter = ? AND live = 1
                """)
            for id in superseded { try kill.execute(arguments: [id.replica.rawValue, id.counter]) }
        }
    }

    /// Applies a page pulled from the server and moves the cursor past it, in one transaction:
    /// a sync cut off between pages resumes after the last page applied. A change the replica
    /// cannot admit (or read) is set aside, never a reason to stop: the cursor moves on. On the
    /// last page, the changes set aside before are tried again. A sync's last page also records
    /// the successful sync (`recordingSuccessfulSync`) in that transaction.
    @discardableResult
    public func applyPulled(_ page: ChangesPage, recordingSuccessfulSync: Bool = false) throws -> ApplyOutcome {
        let now = wallClock()
        let pulled = page.changes
        return try apply(page.changes, unreadable: page.unreadable, origin: .server, cursor: page.cursor, retrySetAside: !page.more,
                         oversight: page.oversight, more: page.more, finish: { db in
                             try Self.forgetHeldBack(pulled, db)
                             if recordingSuccessfulSync { try Self.recordSuccessfulSync(at: now, db) }
                         })
    }

    public func recordSuccessfulSync() throws {
        let now = wallClock()
        try database.write { db in try Self.recordSuccessfulSync(at: now, db) }
    }

    static func recordSuccessfulSync(at now: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE remote SET last_sync_at = ?").execute(arguments: [now])
    }
}
