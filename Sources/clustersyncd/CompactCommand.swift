import ArgumentParser
import ClusterSyncCore
import ClusterSyncServer
import Foundation

/// `clustersyncd compact`: compacts tenants' logs now (the server also does it hourly).
struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Compact tenants' logs: drop superseded changes older than the horizon, keep the current state.",
        discussion: """
            Practices whose last sync is older than the horizon take a snapshot of the current state at their next sync, \
            after pushing what they changed offline; nothing of theirs is lost and conflicts still show. The tamper-evident \
            chain keeps every entry (verify still checks it) and records a checkpoint. The running server compacts every \
            hour with the settings' compaction.horizon-days (default 365; 0: never); this command does it now, and is safe \
            while the server runs. --horizon-days 0 compacts everything accepted so far.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "One tenant (default: all).") var tenant: String?
    @Option(name: .customLong("horizon-days"), help: "Compact changes accepted more than this many days ago; 0: up to now.")
    var horizonDays = ServerSettings.defaultCompactionHorizonDays
    @Flag(help: "Give the freed space back to the disk afterwards (rebuilds the store file; needs its size free again).")
    var vacuum = false

    func validate() throws {
        guard horizonDays >= 0 else { throw ValidationError("--horizon-days must be 0 or more; got \(horizonDays)") }
    }

    func run() async throws {
        let store = try await data.store()
        let path = data.directory.database
        let before = Self.fileBytes(path)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let outcomes = try await CompactionService.compactAll(store, tenant: tenant, horizonDays: horizonDays, now: now,
                                                             compactNow: horizonDays == 0)
        for outcome in outcomes {
            print(outcome.throughSeq == 0
                  ? "\(outcome.tenant): nothing old enough yet (the server notes where each log ends every hour; changes are compacted once older than the horizon)"
                  : "\(outcome.tenant): compacted through seq \(outcome.throughSeq); \(outcome.compacted) superseded change\(outcome.compacted == 1 ? "" : "s") dropped")
        }
        if vacuum, let store = store as? SQLiteServerStore {
            try await store.vacuum()
            print("store file: \(Self.fileBytes(path)) bytes (was \(before))")
        } else if vacuum {
            print("PostgreSQL reuses the freed space for new rows (autovacuum); to give it back to the disk, run VACUUM FULL log as the owner role in a quiet hour (README.md, \"several nodes on PostgreSQL\")")
        }
    }

    static func fileBytes(_ path: String) -> Int64 {
        ["", "-wal"].reduce(0) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int64) ?? 0)
        }
    }
}
