import ClusterSyncCore
import ClusterSyncTLS
import Foundation

/// Whether the server can do its job: its data directory and its store can be read and
/// written, and the disk has room. `clustersyncd health` prints it; `serve` logs it at start.
public struct ServerHealth: Sendable {
    public struct Check: Sendable, Equatable {
        /// `data-directory`, `store`, `free-space` or `certificate`.
        public var name: String
        public var ok: Bool
        /// What was found, or what is wrong and where, for an operator.
        public var detail: String
    }

    public var checks: [Check]
    public var ok: Bool { checks.allSatisfy(\.ok) }

    /// Below this, a push may fail for want of room.
    public static let minimumFreeBytes: Int64 = 64 * 1024 * 1024

    /// A server certificate closer than this to its end is a problem: time to renew it.
    public static let certificateRenewalDays = 30

    /// Runs every check; `store` is the open store of a running server, else the store file is
    /// opened here. `certificate`: the server certificate's file (settings `tls.certificate`).
    public static func check(_ directory: DataDirectory, store: (any OperatedStore)? = nil, certificate: String? = nil,
                             now: Date = Date()) async -> ServerHealth {
        var checks: [Check] = [checkDirectory(directory.path)]
        checks.append(await checkStore(directory, store))
        checks.append(checkFreeSpace(directory.path))
        checks.append(checkCertificate(certificate ?? directory.serverCertificate, now: now))
        return ServerHealth(checks: checks)
    }

    /// The server certificate is readable and not within `certificateRenewalDays` of its end:
    /// practices' syncs fail at the handshake the day it expires.
    static func checkCertificate(_ path: String, now: Date) -> Check {
        let expiry: Date
        do {
            expiry = Date(timeIntervalSince1970: TimeInterval(try TLSSetup.expiry(ofCertificateAt: path, what: "server certificate")))
        } catch {
            return Check(name: "certificate", ok: false, detail: error.message)
        }
        let day = ISO8601DateFormatter.string(from: expiry, timeZone: .gmt, formatOptions: [.withFullDate])
        let daysLeft = Int(expiry.timeIntervalSince(now) / 86_400)
        if expiry <= now {
            return Check(name: "certificate", ok: false, detail: "the server certificate \(path) expired on \(day): practices cannot sync until it is renewed")
        }
        guard daysLeft >= certificateRenewalDays else {
            return Check(name: "certificate", ok: false,
                         detail: "the server certificate \(path) expires on \(day), in \(daysLeft) day\(daysLeft == 1 ? "" : "s"): renew it (Deploy/README.md, \"Renewing the server certificate\")")
        }
        return Check(name: "certificate", ok: true, detail: "server certificate valid until \(day)")
    }

    /// One line: "OK: ..." or "PROBLEM: <what is wrong>; ...".
    public var summary: String {
        let problems = checks.filter { !$0.ok }
        if problems.isEmpty { return "OK: " + checks.map(\.detail).joined(separator: "; ") }
        return "PROBLEM: " + problems.map(\.detail).joined(separator: "; ")
    }

    public var jsonValue: JSONValue {
        .object([
            "ok": .bool(ok),
            "checks": .array(checks.map { .object(["check": .string($0.name), "ok": .bool($0.ok), "detail": .string($0.detail)]) }),
        ])
    }

    /// Creates, syncs and removes a file in the directory: what SQLite needs to make its
    /// write-ahead log and shared-memory files.
    static func checkDirectory(_ path: String) -> Check {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return Check(name: "data-directory", ok: false, detail: "no data directory at \(path); run `clustersyncd init --data \(path)`")
        }
        let probe = URL(fileURLWithPath: path).appendingPathComponent(".health-\(getpid())").path
        let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard fd >= 0 else {
            return Check(name: "data-directory", ok: false, detail: "cannot create files in \(path): \(String(cString: strerror(errno))); "
                + "the server needs to write there (check the file system is mounted read-write and the service user's permissions)")
        }
        let written = write(fd, "ok", 2)
        let synced = fsync(fd)
        let failure = written != 2 || synced != 0 ? String(cString: strerror(errno)) : nil
        close(fd)
        unlink(probe)
        if let failure {
            return Check(name: "data-directory", ok: false, detail: "cannot write to files in \(path): \(failure)")
        }
        return Check(name: "data-directory", ok: true, detail: "data directory \(path) is writable")
    }

    static func checkStore(_ directory: DataDirectory, _ open: (any OperatedStore)?) async -> Check {
        let path = open.map { $0 is PostgresServerStore ? $0.whereabouts : directory.database } ?? directory.database
        if open == nil {
            do throws(ClusterSyncError) { try directory.requireSQLiteStore() } catch {
                return Check(name: "store", ok: false, detail: error.message)
            }
        }
        guard open != nil || FileManager.default.fileExists(atPath: path) else {
            return Check(name: "store", ok: false, detail: "no store at \(path); run `clustersyncd init --data \(directory.path)`")
        }
        do {
            let store: any OperatedStore = try open ?? SQLiteServerStore(path: path)
            let (tenants, changes) = try await store.probe()
            return Check(name: "store", ok: true, detail: "store \(path) can be read and written (\(tenants) tenant\(tenants == 1 ? "" : "s"), \(changes) change\(changes == 1 ? "" : "s"))")
        } catch let error as ClusterSyncError {
            let what = error.code == .storeUnavailable ? "cannot be written or opened" : "failed"
            return Check(name: "store", ok: false, detail: "store \(path) \(what): \(error.message)")
        } catch {
            return Check(name: "store", ok: false, detail: "store \(path) failed: \(error)")
        }
    }

    static func checkFreeSpace(_ path: String) -> Check {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: path),
              let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value else {
            return Check(name: "free-space", ok: false, detail: "cannot read the free space of the file system holding \(path)")
        }
        let text = ByteCountFormatter.string(fromByteCount: free, countStyle: .file)
        guard free >= minimumFreeBytes else {
            return Check(name: "free-space", ok: false, detail: "only \(text) free on the file system holding \(path): free some space")
        }
        return Check(name: "free-space", ok: true, detail: "\(text) free")
    }
}
