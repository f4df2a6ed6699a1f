import ClusterSyncCore
import ClusterSyncTLS
import Foundation
import Logging
import NIOCore

/// Decides whether a session's credential opens it, checks it again before each later message
/// (so a credential revoked or expired while a session is open is refused on the next message),
/// and writes the session log for auditors. The rule itself is `CredentialRecord.refusal(at:)`.
struct CredentialGate: Sendable {
    let store: any ServerStore
    /// How long the session log keeps an entry.
    var auditRetentionMillis: Int64 = Int64(ServerSettings.defaultAuditRetentionDays) * 86_400_000
    var nowMillis: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Whose a session is, as far as the server can tell: for the session log and the rechecks.
    struct Subject: Sendable {
        var practice: PracticePath?
        /// The credential row's id (a token, or a certificate issued here).
        var credential: String?
        /// A certificate's serial, checked against the tenant's revocation list.
        var serial: String?
        var peer: String?
        /// Whose the credential is: its label, when it has one (a replica key is registered to it).
        var person: String?
    }

    enum Decision: Sendable {
        case admitted(SessionIdentity, expiresAt: Int64?)
        /// The message to send with `unauthenticated`.
        case refused(String)
    }

    /// Checks a hello's credential (the certificate TLS verified, else the token) and fills in
    /// `subject` with whatever is known of it, refused or not.
    func admit(token: String?, certificate: CertificateIdentity?, subject: inout Subject) async throws -> Decision {
        let now = nowMillis()
        if let certificate {
            let path = PracticePath(tenant: certificate.tenant, cluster: certificate.cluster, practice: certificate.practice)
            subject.practice = path
            subject.serial = certificate.serialNumber
            guard try await store.isRegistered(path) else {
                return .refused("the certificate's practice \(path) is not registered on this server")
            }
            var expiresAt: Int64?
            // A certificate issued here carries the role it was issued with (practice or
            // cluster-lead); one a Health Board's own CA signed is a practice's.
            var role = CredentialRole.practice
            if let serial = certificate.serialNumber {
                if let recorded = try await store.credential(serial: serial, tenant: path.tenant) {
                    subject.credential = recorded.id
                    subject.person = recorded.label
                    if let refusal = recorded.refusal(at: now) { return .refused(refusal.message) }
                    guard recorded.practice == path, recorded.role.isPractice else {
                        return .refused("this certificate's serial is recorded for another holder on this server: ask the cluster's administrator for a new credential")
                    }
                    expiresAt = recorded.expiresAt
                    role = recorded.role
                } else if try await store.isRevoked(serial: serial, tenant: path.tenant) {
                    return .refused(Self.revokedSerialMessage(serial))
                }
            }
            return .admitted(SessionIdentity(tenant: path.tenant, cluster: path.cluster, practice: path.practice, author: path.practice, role: role),
                             expiresAt: expiresAt)
        }
        guard let token, let credential = try await store.credential(token: token) else {
            return .refused("the token is unknown or revoked: ask the cluster's administrator for a new one")
        }
        subject.practice = credential.practice
        subject.credential = credential.id
        subject.person = credential.label
        if let refusal = credential.refusal(at: now) { return .refused(refusal.message) }
        return .admitted(credential.identity, expiresAt: credential.expiresAt)
    }

    /// Before each message of an open session: the error to close it with if its credential has
    /// since been revoked or has expired. One indexed read; a store that cannot be read lets the
    /// message through (the message itself will then meet the same store). Sessions woken by a
    /// push share one read instead (`SubscribedCredentials`), judged by the same `withdrawal`.
    func recheck(_ subject: Subject) async -> ClusterSyncError? {
        do {
            var states = CredentialStates(ids: [], serials: [], records: [:], revokedSerials: [])
            if let id = subject.credential {
                states.ids = [id]
                states.records[id] = try await store.credential(id: id)
            } else if let serial = subject.serial, let tenant = subject.practice?.tenant {
                states.serials = [serial]
                if try await store.isRevoked(serial: serial, tenant: tenant) { states.revokedSerials = [serial] }
            }
            return Self.withdrawal(of: subject, in: states, at: nowMillis())
        } catch {}
        return nil
    }

    /// What must be read to re-check `subject`: its credential row, or else its certificate's
    /// serial on the tenant's revocation list; nil when there is nothing to check.
    static func asked(_ subject: Subject) -> (ids: Set<String>, serials: Set<String>)? {
        if let id = subject.credential { return ([id], []) }
        if let serial = subject.serial { return ([], [serial]) }
        return nil
    }

    /// The one rule for an open session's credential, given a read that asked for it (`asked`):
    /// gone, revoked or expired at `now` closes the session; nil lets it go on.
    static func withdrawal(of subject: Subject, in states: CredentialStates, at now: Int64) -> ClusterSyncError? {
        if let id = subject.credential {
            guard let credential = states.records[id] else {
                return ClusterSyncError(.unauthenticated, "this credential no longer exists: ask the cluster's administrator for a new one")
            }
            return credential.refusal(at: now)
        }
        if let serial = subject.serial, states.revokedSerials.contains(serial) {
            return ClusterSyncError(.unauthenticated, revokedSerialMessage(serial))
        }
        return nil
    }

    /// Notes a welcomed session: the credential's last use and a `connected` log entry.
    func connected(_ subject: Subject, logger: Logger) async {
        let entry = Self.entry(AuditEntry(at: nowMillis(), event: .connected), subject)
        do { try await store.recordSessionStart(entry, credential: subject.credential, keepAfter: entry.at - auditRetentionMillis) } catch {
            logger.warning("could not record the session's start in the session log", metadata: ["clustersyncd.error": "\(error)"])
        }
    }

    /// Notes a refusal sent to the client (its wire code and message: never a secret, never
    /// record contents, since error messages name ids and fields, not values).
    func refused(_ error: WireError, _ subject: Subject, logger: Logger) async {
        await record(AuditEntry(at: nowMillis(), event: .refused, code: error.code, message: AuditEntry.printable(error.message)), subject, logger: logger)
    }

    private func record(_ entry: AuditEntry, _ subject: Subject, logger: Logger) async {
        let entry = Self.entry(entry, subject)
        do { try await store.recordAudit(entry, keepAfter: entry.at - auditRetentionMillis) } catch {
            logger.warning("could not write the session log", metadata: ["clustersyncd.error": "\(error)"])
        }
    }

    /// `entry` with whose session it was.
    private static func entry(_ entry: AuditEntry, _ subject: Subject) -> AuditEntry {
        var entry = entry
        entry.tenant = subject.practice?.tenant
        // A pcpg's or health board's credential has no cluster or practice (empty names).
        entry.cluster = subject.practice.map(\.cluster).flatMap { $0.isEmpty ? nil : $0 }
        entry.practice = subject.practice.map(\.practice).flatMap { $0.isEmpty ? nil : $0 }
        entry.credential = subject.credential ?? subject.serial.map { "serial:\($0)" }
        entry.peer = subject.peer
        return entry
    }

    static func revokedSerialMessage(_ serial: String) -> String {
        "this certificate (serial \(serial)) has been revoked: ask the cluster's administrator for a new credential"
    }

    /// `127.0.0.1:54321`, `[::1]:54321`.
    static func peer(_ address: SocketAddress?) -> String? {
        guard let address, let ip = address.ipAddress else { return nil }
        let port = address.port.map { ":\($0)" } ?? ""
        if case .v6 = address { return "[\(ip)]\(port)" }
        return ip + port
    }
}
