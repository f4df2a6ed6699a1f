import Foundation

/// Writing to standard output and error without trapping: `FileHandle.write(_: Data)` traps
/// when the write fails, and it does fail when the reader of a pipe goes away
/// (`clustersync history ID | head -1`), since SwiftNIO ignores SIGPIPE in the process. The CLI
/// audit met a backtrace there.
public enum StandardStream {
    /// Writes `text` as it is; if the reader went away, ends the process quietly with the status
    /// a program stopped by SIGPIPE has (128 + 13), as a Unix tool would. Any other failure (a
    /// full disk under `export > file`) is said, with exit 1: an export cut short must not pass
    /// for a broken pipe.
    public static func write(_ text: String, to handle: FileHandle) {
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            if isBrokenPipe(error) { exit(141) }
            let why = String(cString: strerror(errno(of: error) ?? EIO))
            _ = try? FileHandle.standardError.write(contentsOf: Data("could not write \(handle === FileHandle.standardError ? "errors" : "the output"): \(why)\n".utf8))
            exit(1)
        }
    }

    static func isBrokenPipe(_ error: any Error) -> Bool { errno(of: error) == EPIPE }

    /// The system's error number behind a failed write, as Foundation wraps it.
    static func errno(of error: any Error) -> Int32? {
        if let posix = error as? POSIXError { return posix.code.rawValue }
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain { return Int32(underlying.code) }
        return (error as NSError).domain == NSPOSIXErrorDomain ? Int32((error as NSError).code) : nil
    }
}
