import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing the PEM files certificates and keys live in.
enum PEMFiles {
    /// Owner read/write only: a private key file must not be readable by other local users.
    static let privateKeyMode: mode_t = 0o600
    /// World-readable: certificates are public, and services running as other users read them.
    static let certificateMode: mode_t = 0o644

    static func read(_ path: String, what: String) throws(ClusterSyncTLSError) -> String {
        // stat says why a file cannot be reached: a folder above it that this user may not enter
        // (a key folder made 0700 by root, for a service running as its own user) is not a wrong path.
        var status = stat()
        if stat(path, &status) != 0 {
            let code = errno
            guard code == EACCES else {
                throw ClusterSyncTLSError(.fileNotFound, "The \(what) file \(path) does not exist; check the path.", path: path)
            }
            throw ClusterSyncTLSError(
                .fileAccess,
                "The \(what) file \(path) cannot be reached: a folder above it may not be entered by this user (uid \(getuid())); "
                    + "give the service user's group search (x) on every folder in the path and read on the file.",
                path: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterSyncTLSError(
                .fileAccess, "The \(what) file \(path) cannot be read by this user (uid \(getuid())); check its owner and permissions.", path: path
            )
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text` to `path` with `mode`.
    ///
    /// The file is created with its final permissions, never widened afterwards, so a key is not
    /// readable by others even for a moment. Without `overwrite` an existing file is an error: a
    /// replaced CA key silently invalidates every certificate it issued. With `overwrite` the new
    /// file is written beside the old one and renamed over it, so a reader sees the old or the new
    /// file, never half of one.
    static func write(
        _ text: String, to path: String, mode: mode_t, overwrite: Bool, what: String
    ) throws(ClusterSyncTLSError) {
        let target = overwrite ? path + ".tmp-\(UInt32.random(in: .min ... .max))" : path
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 {
            let code = errno
            if code == EEXIST && !overwrite {
                throw ClusterSyncTLSError(
                    .fileExists,
                    "The \(what) file \(path) already exists; move it away or choose another place for the new one.",
                    path: path
                )
            }
            throw ClusterSyncTLSError(
                .fileAccess,
                "The \(what) file \(path) cannot be created (\(String(cString: strerror(code)))); check the folder exists and is writable.",
                path: path
            )
        }
        var failure: Int32? = nil
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if close(fd) != 0, failure == nil { failure = errno }
        if failure == nil, overwrite, rename(target, path) != 0 { failure = errno }
        if let code = failure {
            unlink(target)
            throw ClusterSyncTLSError(
                .fileAccess,
                "The \(what) file \(path) could not be written (\(String(cString: strerror(code)))); check free space and permissions.",
                path: path
            )
        }
    }
}

/// POSIX `write(2)`, named apart from `PEMFiles.write`, which would shadow it.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #elseif canImport(Musl)
    Musl.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}
