import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore
import Foundation

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "The server this replica syncs with.", subcommands: [SetRemote.self, ShowRemote.self])
}

struct SetRemote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the server address and credentials (file paths; no secret is copied into the replica).")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "HOST or HOST:PORT (port 7443 by default).") var address: String
    @Option(help: "The CA certificate that signed the server's certificate (ca.pem).") var ca: String
    @Option(help: "This practice's client certificate (mutual TLS).") var certificate: String?
    @Option(help: "The key of --certificate.") var key: String?
    @Option(help: "A file holding a bearer token, instead of a certificate.") var tokenFile: String?

    func validate() throws {
        if (certificate == nil) != (key == nil) { throw ValidationError("--certificate and --key go together") }
        if certificate == nil, tokenFile == nil { throw ValidationError("give --certificate and --key, or --token-file") }
    }

    func run() throws {
        let (host, port) = try RemoteSettings.address(address)
        func absolute(_ path: String?) throws -> String? {
            guard let path else { return nil }
            guard FileManager.default.fileExists(atPath: path) else {
                throw ClusterSyncError(.invalidValue, "no file at \(path)")
            }
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        try replica.open().setRemote(RemoteSettings(
            host: host, port: port, caFile: try absolute(ca)!, certificateFile: try absolute(certificate),
            keyFile: try absolute(key), tokenFile: try absolute(tokenFile)))
        Output.print("remote set to \(host):\(port)")
    }
}

struct ShowRemote: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the server settings.")
    @OptionGroup var replica: ReplicaOptions

    func run() throws {
        guard let remote = try replica.open().remote() else {
            throw ClusterSyncError(.notInitialised, "no remote set; use `clustersync remote set HOST:PORT --ca ca.pem ...`")
        }
        Output.print("""
            server       \(remote.host):\(remote.port)
            ca           \(remote.caFile)
            certificate  \(remote.certificateFile ?? "-")
            token file   \(remote.tokenFile ?? "-")
            """)
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Push pending changes to the server and pull what other practices changed.",
        discussion: "A sync cut off part way resumes where it stopped the next time. --watch stays connected and applies changes as other practices sync.")

    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Stay connected; apply changes as they arrive and push local edits every few seconds (Ctrl-C to stop).")
    var watch = false

    func run() async throws {
        let replica = try replica.open()
        guard let remote = try replica.remote() else {
            throw ClusterSyncError(.notInitialised, "no remote set; use `clustersync remote set HOST:PORT --ca ca.pem ...` first")
        }
        let client = SyncClient(replica: replica, remote: remote)
        let progress: @Sendable (SyncClient.Progress) -> Void = { state in
            if state.toPush > 1_000 || state.more {
                FileHandle.standardError.write(Data("  pushed \(state.pushed)/\(state.toPush), pulled \(state.pulled)\(state.more ? " ..." : "")\n".utf8))
            }
        }
        let setAsideBefore = try replica.setAsideCount()
        defer {
            // Reported whatever way the sync ended: these changes were received and kept.
            if let after = try? replica.setAsideCount(), after > setAsideBefore {
                let n = after - setAsideBefore
                Output.print("set aside \(n) change\(n == 1 ? "" : "s") from the server that this replica cannot apply; "
                    + "the rest were applied. `clustersync status` lists them")
            }
        }
        do {
            if watch {
                Output.print("watching \(remote.host):\(remote.port); Ctrl-C to stop")
                try await client.watch(progress: progress) { applied in
                    Output.print("applied \(applied) change\(applied == 1 ? "" : "s") from other practices")
                }
            } else {
                let summary = try await client.sync(progress: progress)
                Output.print("pushed \(summary.pushed) change\(summary.pushed == 1 ? "" : "s")"
                    + (summary.duplicates > 0 ? " (\(summary.duplicates) already there)" : "")
                    + ", pulled \(summary.pulled); signed as \(summary.author ?? "?")")
            }
        } catch let error as SyncError {
            // Codes that need more than the server's message are said in the core's plain words.
            if case .server(let wire) = error, case let code = ClusterSyncError.Code(wire.code), let words = code.plainWords {
                throw ClusterSyncError(code, "sync stopped: \(words)\n(the server said: \(wire.message) (\(wire.code)))")
            }
            throw ClusterSyncError(.unreachable, "sync stopped: \(error.description)")
        }
    }
}
