import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncClient
import ClusterSyncCore
import Foundation

@main
struct ClusterSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clustersync",
        abstract: "Edit a primary care cluster's shared registers offline and sync them.",
        discussion: """
            Exit codes: 0 ok, 1 user error (the message on stderr says what to fix), 2 internal error.
            The replica file is --replica, else $CLUSTERSYNC_REPLICA, else ./clustersync.sqlite.
            """,
        subcommands: [
            InitCommand.self, RecordCommand<RiskKind>.self, RecordCommand<ActionKind>.self, ListCommand.self,
            RecordCommand<MeetingKind>.self, RecordCommand<DecisionKind>.self, RecordCommand<DeclarationKind>.self,
            RecordCommand<TermsKind>.self, RecordCommand<PlanKind>.self, RecordCommand<ContributionKind>.self,
            InterestsCommand.self, AttendanceCommand.self, ImportCommand.self, OverdueCommand.self, RollupCommand.self, ReportCommand.self,
            ShowCommand.self, ConflictsCommand.self, HistoryCommand.self, StatusCommand.self, ExportCommand.self, MergeCommand.self,
            RemoteCommand.self, SyncCommand.self, AppCommand.self, RedactCommand.self, BackupCommand.self, RestoreCommand.self,
        ]
    )

    /// Runs the command tree with ClusterSync's exit codes: ArgumentParser's usage errors and
    /// ClusterSync's user errors exit 1, anything else 2.
    static func main() async {
        await CommandLineMain.run(Self.self, name: "clustersync", advice: { error in
            // The library says what is needed in every front end's words; here, which commands.
            error.code == .leadOnly ? "To sync with one: `clustersync remote set`, then `clustersync sync`." : nil
        })
    }
}

struct ReplicaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The replica file.", valueName: "path"))
    var replica: String?

    var path: String {
        replica ?? ProcessInfo.processInfo.environment["CLUSTERSYNC_REPLICA"] ?? "clustersync.sqlite"
    }

    /// Opens an initialised replica; never creates a file (only `init` does).
    func open() throws -> Replica {
        try Replica.openExisting(path: path)
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (the shape is documented in the README and stable).")
    var json = false
}
