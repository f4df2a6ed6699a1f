import Foundation
import Testing

/// `clustersync backup` and `restore` through the real binaries, against `clustersyncd` on
/// loopback TLS: a laptop lost after it synced edits made since its backup.
@Suite(.serialized, .teardown) struct ReplicaBackupEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    @Test func aRestoredLaptopGetsBackWhatItPushedAndItsNewEditsReachTheServer() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let desk = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.addRisk(desk, "title=Winter pressures")
        _ = try await base.sync(desk)
        let backup = try await cli.run("backup", "--replica", desk, "--to", "rhyl-backup.sqlite")
        #expect(backup.status == 0 && backup.stdout.contains("backed up rhyl.sqlite to rhyl-backup.sqlite: replica "), "\(backup.stdout)\(backup.stderr)")

        // After the backup the laptop syncs one more edit, makes another it never syncs, and is lost.
        _ = try await base.addRisk(desk, "title=Locum cover")
        _ = try await base.sync(desk)
        _ = try await base.addRisk(desk, "title=Never synced")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: base.dir.appendingPathComponent(desk + suffix)) }

        let restore = try await cli.run("restore", "--from", "rhyl-backup.sqlite", "--replica", desk)
        #expect(restore.status == 0 && restore.stdout.contains("restored rhyl-backup.sqlite to rhyl.sqlite"), "\(restore.stdout)\(restore.stderr)")
        // An edit before the first sync after the restore: its ids must not be the lost laptop's.
        _ = try await base.addRisk(desk, "title=Flu clinics")
        let synced = try await base.sync(desk)
        #expect(!synced.stdout.contains("held back") && !synced.stderr.contains("held back"), "\(synced.stdout)\(synced.stderr)")
        let status = try #require(try await cli.run("status", "--replica", desk, "--json").json)
        #expect(status["pending"] == .int(0) && status["heldBack"] == .array([]), "\(status)")

        let onDesk = try await cli.run("risk", "list", "--replica", desk).stdout
        #expect(onDesk.contains("Winter pressures") && onDesk.contains("Locum cover") && onDesk.contains("Flu clinics"), "\(onDesk)")
        #expect(!onDesk.contains("Never synced"), "what the lost laptop never pushed is gone: \(onDesk)")
        // Another practice sees the restored laptop's new edit.
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        _ = try await base.sync(prestatyn)
        #expect(try await cli.run("risk", "list", "--replica", prestatyn).stdout.contains("Flu clinics"))

        // The same backup restored a second time (the review's case): its edits must not take
        // the ids the first restore's pushed edits have.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: base.dir.appendingPathComponent(desk + suffix)) }
        #expect(try await cli.run("restore", "--from", "rhyl-backup.sqlite", "--replica", desk).status == 0)
        _ = try await base.addRisk(desk, "title=Vaccines")
        let again = try await base.sync(desk)
        #expect(!again.stdout.contains("held back") && !again.stderr.contains("held back"), "\(again.stdout)\(again.stderr)")
        let restoredTwice = try await cli.run("risk", "list", "--replica", desk).stdout
        #expect(["Winter pressures", "Locum cover", "Flu clinics", "Vaccines"].allSatisfy(restoredTwice.contains), "\(restoredTwice)")
    }
}
