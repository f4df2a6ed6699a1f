import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

/// `clustersync backup --to FILE`: a consistent copy of the replica, safe while the app or a watch has it open.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy this replica to a new file, safely while the web app or `sync --watch` has it open.",
        discussion: """
            Writes FILE (which must not exist) with every edit saved so far, the part SQLite still holds in the -wal \
            file beside the replica included (a copy made with cp while the app runs may lack it, or not open). The \
            backup holds this replica's signing key: keep it where only you can read it, as the replica itself. Use it \
            with `clustersync restore` in place of a lost or damaged replica, never as a second laptop's replica \
            (`clustersync init` makes that).
            """)

    @OptionGroup var replica: ReplicaOptions
    @Option(help: ArgumentHelp("The new backup file (default: beside the replica, named by it and the time in UTC, like prestatyn-backup-2026-12-07-134205.sqlite).", valueName: "file"))
    var to: String?
    @Option(help: ArgumentHelp("After the backup, keep only the newest N dated backups beside the replica (those named as with no --to), removing older ones: --keep 7 run daily keeps a week.", valueName: "n"))
    var keep: Int?

    func validate() throws {
        if let keep, keep < 1 { throw ValidationError("--keep \(keep): keep at least 1 backup") }
        if keep != nil, to != nil { throw ValidationError("--keep is for the dated backups beside the replica: leave out --to") }
    }

    func run() throws {
        let (to, summary) = try to.map { ($0, try ReplicaBackup.backup(replica: replica.path, to: $0)) }
            ?? ReplicaBackup.backupBeside(replica: replica.path, atMillis: Replica.systemMillis())
        Output.print("backed up \(replica.path) to \(to): \(summary.description)")
        if let keep {
            for removed in try ReplicaBackup.removeOldBackups(of: summary.identity.replicaID, beside: replica.path, keep: keep) {
                Output.print("removed the older backup \(removed)")
            }
        }
    }
}

/// `clustersync restore --from FILE`: a backup becomes the replica again, in place of a lost file.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup made with `clustersync backup` in place of a lost or damaged replica.",
        discussion: """
            Never overwrites a file: move the damaged replica (with its -wal and -shm) aside first. The restored \
            replica holds what the backup held: at its next sync the server sends back what the lost file had pushed \
            since, and what the lost file never pushed is gone. Edits made before that sync are kept apart from those \
            (their change ids start from the moment of the restore, past any the lost file or an earlier restore of \
            this backup used), so syncing first is not needed, only wise.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Option(help: ArgumentHelp("The backup file.", valueName: "file")) var from: String

    func run() throws {
        let summary = try ReplicaBackup.restore(from: from, to: replica.path)
        Output.print("restored \(from) to \(replica.path): \(summary.description)")
        Output.print("next: `clustersync sync` brings back what this replica pushed after the backup was taken")
    }
}
