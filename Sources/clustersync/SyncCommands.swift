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
    @Option(help: "A file holding a bearer token, instead of a certificate (not both).") var tokenFile: String?

    func run() throws {
        let (host, port) = try RemoteSettings.address(address)
        try RemoteSettings(host: host, port: port, caFile: ca, certificateFile: certificate, keyFile: key, tokenFile: tokenFile).checkCredentials()
        func absolute(_ path: String?) throws -> String? {
            guard let path else { return nil }
            guard FileManager.default.fileExists(atPath: path) else {
                throw ClusterSyncError(.invalidValue, "no file at \(path)")
            }
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        let remote = RemoteSettings(host: host, port: port, caFile: try absolute(ca)!, certificateFile: try absolute(certificate),
                                    keyFile: try absolute(key), tokenFile: try absolute(tokenFile))
        try remote.checkFiles()
        try replica.open().setRemote(remote)
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
        discussion: """
            A sync cut off part way resumes where it stopped the next time. --watch stays connected, applies changes as \
            other practices sync, and reconnects by itself when the server restarts or the network drops.
            """)

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("When stderr is not a terminal: print a progress line this often during a long sync.", valueName: "seconds"))
    var progressEvery: Double = 10
    @Flag(help: "Stay connected; apply changes as they arrive and push local edits every few seconds (Ctrl-C to stop).")
    var watch = false
    @Option(help: ArgumentHelp("Ping the server after this many quiet seconds.", valueName: "seconds"))
    var pingSeconds: Double = SyncClient.Timing().pingSeconds
    @Option(help: ArgumentHelp("Treat the connection as dead when a ping is unanswered this long.", valueName: "seconds"))
    var pongTimeoutSeconds: Double = SyncClient.Timing().pongTimeoutSeconds
    @Option(help: ArgumentHelp("With --watch: look for local edits to push this often.", valueName: "seconds"))
    var pollSeconds: Double = SyncClient.Timing().pollSeconds
    @Option(help: ArgumentHelp("With --watch: wait at most this long between reconnection attempts.", valueName: "seconds"))
    var reconnectMaxSeconds: Double = SyncClient.Timing().reconnectMaxSeconds

    func validate() throws {
        for (name, value) in [("--ping-seconds", pingSeconds), ("--pong-timeout-seconds", pongTimeoutSeconds),
                              ("--poll-seconds", pollSeconds), ("--reconnect-max-seconds", reconnectMaxSeconds)]
        where !(value >= 0.01 && value <= 86_400) {
            throw ValidationError("\(name) must be between 0.01 and 86400 seconds")
        }
        if !(progressEvery >= 0 && progressEvery <= 86_400) { throw ValidationError("--progress-every must be between 0 and 86400 seconds") }
        if watch, output.json { throw ValidationError("--json is for one sync; --watch prints a line per event") }
    }

    static let storeReplacedSentence = "the server's store is not the one this replica last synced with (restored from a backup, "
        + "or another server): this replica's own changes were pushed again and everything pulled from the start"

    func run() async throws {
        let replica = try replica.open()
        guard let remote = try replica.remote() else {
            throw ClusterSyncError(.notInitialised, "no remote set; use `clustersync remote set HOST:PORT --ca ca.pem ...` first")
        }
        var timing = SyncClient.Timing()
        timing.pingSeconds = pingSeconds
        timing.pongTimeoutSeconds = pongTimeoutSeconds
        timing.pollSeconds = pollSeconds
        timing.reconnectMaxSeconds = reconnectMaxSeconds
        let client = SyncClient(replica: replica, remote: remote, timing: timing)
        let printer = ProgressPrinter(plainSeconds: progressEvery)
        let progress: @Sendable (SyncClient.Progress) -> Void = { state in printer.update(state.counts) }
        let setAsideBefore = try replica.setAsideCount()
        let heldBackBefore = Set(try replica.heldBack().map(\.change))
        let json = output.json
        let started = Date()
        defer {
            printer.finish()
        }
        if json {
            let summary = try await client.sync(progress: progress)
            printer.finish()
            let heldBack = try replica.heldBack().filter { !heldBackBefore.contains($0.change) }
            Output.printJSON(.object([
                "pushed": .int(Int64(summary.pushed)), "duplicates": .int(Int64(summary.duplicates)),
                "pulled": .int(Int64(summary.pulled)), "withdrawn": .int(Int64(summary.withdrawn)), "author": summary.author.map(JSONValue.string) ?? .null,
                "heldBack": .int(Int64(heldBack.count)), "storeReplaced": .bool(summary.storeReplaced),
                "setAside": .int(Int64(max(0, try replica.setAsideCount() - setAsideBefore))),
                "seconds": .double((Date().timeIntervalSince(started) * 1000).rounded() / 1000),
                "finishedAt": .string(Output.isoTime(Date())),
            ]))
            return
        }
        defer {
            if let now = try? replica.heldBack().filter({ !heldBackBefore.contains($0.change) }), !now.isEmpty {
                let leadOnly = now.filter { $0.code == .leadOnly }.count
                if leadOnly > 0 {
                    let one = leadOnly == 1
                    Output.print("held back \(leadOnly) change\(one ? " that needs" : "s that need") the cluster lead; \(one ? "it stays" : "they stay") "
                        + "on this replica only until it syncs with a cluster-lead credential (`clustersync status` lists \(one ? "it" : "them"))")
                }
                let waiting = now.filter { $0.code == .supersedesUnsynced }.count
                if waiting > 0 {
                    let one = waiting == 1
                    Output.print("held back \(waiting) change\(one ? "" : "s") made over another replica's change the server has not been given yet; "
                        + "\(one ? "it goes" : "they go") again at each sync, once that replica has synced (`clustersync status` lists \(one ? "it" : "them"))")
                }
                if now.count > leadOnly + waiting {
                    let n = now.count - leadOnly - waiting
                    Output.print("held back \(n) change\(n == 1 ? "" : "s") the server refused; the rest were pushed. `clustersync status` says why")
                }
            }
            // Reported whatever way the sync ended: these changes were received and kept.
            if let after = try? replica.setAsideCount(), after > setAsideBefore {
                let n = after - setAsideBefore
                Output.print("set aside \(n) change\(n == 1 ? "" : "s") from the server that this replica cannot apply; "
                    + "the rest were applied. `clustersync status` lists them")
            }
        }
        if watch {
            Output.print("watching \(remote.host):\(remote.port); Ctrl-C to stop")
            try await client.watch(progress: progress, onApplied: { applied in
                Output.print("applied \(applied) change\(applied == 1 ? "" : "s") from other practices")
            }, onNotice: { notice in
                printer.restart()
                switch notice {
                case .watching(let author):
                    Output.print("up to date; signed as \(author); waiting for changes")
                case .reconnecting(let reason, let millis):
                    Output.printError("\(reason); reconnecting in \(String(format: "%.1f", Double(millis) / 1000)) s")
                }
            })
        } else {
            let summary = try await client.sync(progress: progress)
            if summary.storeReplaced { Output.print(Self.storeReplacedSentence) }
            Output.print("pushed \(summary.pushed) change\(summary.pushed == 1 ? "" : "s")"
                + (summary.duplicates > 0 ? " (\(summary.duplicates) already there)" : "")
                + ", pulled \(summary.pulled)"
                + (summary.withdrawn > 0 ? ", withdrew \(summary.withdrawn) record\(summary.withdrawn == 1 ? "" : "s") no longer escalated" : "")
                + "; signed as \(summary.author ?? "?")")

        }
        for waiting in try replica.waitingRelays() { Output.print(waiting.sentence) }
    }
}
