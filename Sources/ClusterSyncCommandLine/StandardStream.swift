import Foundation

/// Writing to standard output and error without trapping: `FileHandle.write(_: Data)` traps
/// when the write fails, and it does fail when the reader of a pipe goes away
/// (`clustersync history ID | head -1`), since SwiftNIO ignores SIGPIPE in the process. The CLI
/// audit met a backtrace there.
public enum StandardStream {
    /// Writes `text` as it is; if the reader went away, ends the process quietly with the status
    /// a program stopped by SIGPIPE has (128 + 13), as a Unix tool would.
    public static func write(_ text: String, to handle: FileHandle) {
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            exit(141)
        }
    }
}
