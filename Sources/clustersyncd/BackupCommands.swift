import ArgumentParser
import ClusterSyncCore
import ClusterSyncServer
import Foundation

/// `clustersyncd backup --to FILE`: an online backup of the SQLite store, safe while the server runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the store to a new file while the server runs: a consistent snapshot of every push acknowledged so far.",
        discussion: """
            Writes FILE (which must not exist) through SQLite's backup API inside one read transaction, so it is \
            consistent even while practices push (copying clustersyncd.sqlite with cp is not: the -wal file holds the \
            latest pushes). The copy is checked with SQLite's integrity check and synced before it takes its name. \
            It holds the store only: back up the data directory's certificates and keys and clustersyncd.json separately \
            (they change only when you rotate them). For the PostgreSQL backend use Deploy/postgres-backup.sh.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp("The new backup file.", valueName: "file")) var to: String

    func run() async throws {
        let directory = data.directory
        guard directory.isInitialised else {
            throw ClusterSyncError(.notInitialised, "\(directory.path) is not a ClusterSync data directory; give the server's with --data")
        }
        try await Self.refusePostgres(data, "back up")
        let summary = try SQLiteStoreBackup.backup(store: directory.database, to: to)
        print("backed up \(directory.database) to \(to): \(summary.description)")
    }
}

/// `clustersyncd restore --from FILE --data DIR`: a backup becomes a data directory's store.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup made with `clustersyncd backup` in place as the store of a data directory that has none.",
        discussion: """
            Never overwrites a store: restore into a new data directory, or stop the server and move its \
            clustersyncd.sqlite (and -wal, -shm) aside first. A backup from an older version is migrated to this \
            version's schema. Changes practices pushed after the backup was taken are not in it: read \
            Deploy/README.md ("What a restore loses, and what happens next") before pointing practices at a restored server.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp("The backup file.", valueName: "file")) var from: String
    @Option(name: .customLong("certificates-from"), help: ArgumentHelp(
        "A data directory (the old one, or your copy of it) to copy ca.pem, ca-key.pem, server.pem, server-key.pem and clustersyncd.json from, those it has.",
        valueName: "dir"))
    var certificatesFrom: String?

    /// What a data directory holds besides its store, and the permissions it gets.
    static let companions: [(name: String, mode: Int)] = [
        ("ca.pem", 0o644), ("ca-key.pem", 0o600), ("server.pem", 0o644), ("server-key.pem", 0o600), ("clustersyncd.json", 0o600),
    ]

    func validate() throws {
        if let certificatesFrom, !FileManager.default.fileExists(atPath: URL(fileURLWithPath: certificatesFrom).appendingPathComponent("ca.pem").path) {
            throw ValidationError("--certificates-from \(certificatesFrom) holds no ca.pem: give the old data directory")
        }
    }

    func run() async throws {
        let directory = data.directory
        try await BackupCommand.refusePostgres(data, "restore")
        let manager = FileManager.default
        for suffix in ["", "-wal"] where manager.fileExists(atPath: directory.database + suffix) {
            throw ClusterSyncError(.invalidValue, "\(directory.database + suffix) already exists: restore into a new data directory, or stop the server and move the old store aside first")
        }
        if certificatesFrom != nil, directory.isInitialised {
            throw ClusterSyncError(.invalidValue, "\(directory.path) already has a ca.pem: leave out --certificates-from, or restore into a new data directory")
        }
        try manager.createDirectory(atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let summary = try SQLiteStoreBackup.restore(from: from, to: directory.database)
        print("restored \(from) to \(directory.database): \(summary.description)")
        if let certificatesFrom {
            var copied: [String] = []
            for (name, mode) in Self.companions {
                let source = URL(fileURLWithPath: certificatesFrom).appendingPathComponent(name).path
                guard manager.fileExists(atPath: source) else { continue }
                let target = directory.file(name)
                try manager.copyItem(atPath: source, toPath: target)
                try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: target)
                copied.append(name)
            }
            print("copied \(copied.joined(separator: ", ")) from \(certificatesFrom)")
        }
        if !directory.isInitialised {
            print("""
                \(directory.path) has no ca.pem yet: copy ca.pem, ca-key.pem, server.pem and server-key.pem from the old data \
                directory (or give --certificates-from, or point tls.* in the settings at your own CA's files) before \
                `clustersyncd serve`, which would otherwise make a new development CA that no practice trusts.
                """)
        }
    }
}

extension BackupCommand {
    /// With `storage` = `postgres` the data directory's SQLite file is not the store: copying it
    /// would "succeed" with nothing in it. Say what to use instead.
    static func refusePostgres(_ data: DataOptions, _ verb: String) async throws {
        guard try await data.settings(config: data.config).store.kind == .postgres else {
            try data.directory.requireSQLiteStore()
            return
        }
        throw ClusterSyncError(.invalidValue,
            "this server's store is PostgreSQL (settings: storage = postgres), so there is no store file to \(verb) here: "
            + "use pg_dump and pg_restore on the database (Deploy/postgres-backup.sh)", field: "storage")
    }
}
