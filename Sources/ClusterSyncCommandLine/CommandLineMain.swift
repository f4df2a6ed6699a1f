import ArgumentParser
import ClusterSyncCore
import Foundation

/// The `main` of ClusterSync's executables: runs the command tree with ClusterSync's exit codes.
/// 0 ok; 1 a user error (ArgumentParser's usage errors, ClusterSync's user errors, and whatever
/// `userMessage` recognises), with the message on stderr; 2 anything else. `advice` adds this
/// program's own words to a library error (which commands to run), which the library words for
/// every front end, the web app among them.
public enum CommandLineMain {
    public static func run<Root: ParsableCommand>(
        _ root: Root.Type, name: String, userMessage: @Sendable (any Error) -> String? = { _ in nil },
        advice: @Sendable (ClusterSyncError) -> String? = { _ in nil }
    ) async {
        do {
            var command = try root.parseAsRoot()
            do {
                if var async = command as? any AsyncParsableCommand {
                    try await async.run()
                } else {
                    try command.run()
                }
            } catch let error as ValidationError {
                // Thrown by a subcommand's run: ArgumentParser would print the root's usage
                // ("Usage: clustersync <subcommand>"), which says nothing about the command
                // typed, so the message stands alone, as a ClusterSyncError's does.
                fail("\(name): \(error.message)", status: 1)
            }
        } catch let error as ClusterSyncError {
            fail("\(name): \(error.message)" + (advice(error).map { " " + $0 } ?? ""), status: error.isUserError ? 1 : 2)
        } catch {
            if let message = userMessage(error) ?? fileMessage(error) { fail("\(name): \(message)", status: 1) }
            let code = root.exitCode(for: error)
            if code == .success { root.exit(withError: error) }
            if code == .validationFailure || error is ValidationError { fail(root.fullMessage(for: error), status: 1) }
            if code != .failure { root.exit(withError: error) }
            fail("\(name): internal error: \(error)", status: 2)
        }
    }

    /// A file the command could not read or write, said as such: `restore --data` into a folder
    /// the user may not create had printed "internal error: Error Domain=NSCocoaErrorDomain
    /// Code=513…" (the forty-fourth session's operations audit).
    public static func fileMessage(_ error: any Error) -> String? {
        guard let error = error as? CocoaError else { return nil }
        let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? error.filePath ?? error.url?.path ?? "a file"
        switch error.code {
        case .fileWriteNoPermission, .fileReadNoPermission:
            return "permission denied on \(path): run the command as the user that owns it (the service user), or give that user access"
        case .fileNoSuchFile, .fileReadNoSuchFile:
            return "\(path) does not exist: check the path"
        case .fileWriteOutOfSpace:
            return "no space left to write \(path)"
        case .fileWriteFileExists:
            return "\(path) exists already: give a new path"
        default:
            return nil
        }
    }

    /// On a terminal, the message neutralised as all other output is (`TerminalText`): an error
    /// may quote what a server sent, and a server's escape sequences were obeyed here.
    private static func fail(_ message: String, status: Int32) -> Never {
        StandardStream.write((isatty(2) != 0 ? TerminalText.neutralised(message) : message) + "\n", to: .standardError)
        exit(status)
    }
}
