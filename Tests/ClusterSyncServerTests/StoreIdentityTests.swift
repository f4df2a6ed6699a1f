import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// `welcome.store` (PROTOCOL.md §5.2): each store has an identity of its own, kept for its life
/// and made again by a restore, so replicas can tell a restored stream from theirs.
@Suite struct StoreIdentityTests {
    @Test(arguments: StoreBackend.available)
    func twoStoresHaveDifferentIdentitiesOf128RandomBits(_ backend: StoreBackend) async throws {
        let one = try await backend.make().storeIdentity()
        let two = try await backend.make().storeIdentity()
        #expect(one != two)
        for identity in [one, two] {
            #expect(identity.count == 32 && identity.allSatisfy(\.isHexDigit), "\(identity)")
            #expect(Welcome.isStoreIdentity(identity), "a replica must accept the identity its server makes: \(identity)")
        }
    }

    @Test func anSQLiteStoreKeepsItsIdentityWhenReopenedAndBackedUpButARestoreMakesANewOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        let original = try await SQLiteServerStore(path: path).storeIdentity()
        #expect(try await SQLiteServerStore(path: path).storeIdentity() == original)

        let backup = folder.appendingPathComponent("backup.sqlite").path
        _ = try SQLiteStoreBackup.backup(store: path, to: backup)
        #expect(try await SQLiteServerStore(path: backup).storeIdentity() == original, "a backup is a copy of the store")
        let restored = folder.appendingPathComponent("restored.sqlite").path
        _ = try SQLiteStoreBackup.restore(from: backup, to: restored)
        let identity = try await SQLiteServerStore(path: restored).storeIdentity()
        #expect(identity != original, "a restored store is a stream of its own")
        #expect(Welcome.isStoreIdentity(identity), "\(identity)")
        #expect(try await SQLiteServerStore(path: path).storeIdentity() == original, "the original keeps its identity")
    }

    /// A backup is one file, and a restore reads it without writing: a pool turned it to WAL
    /// mode, and a backup kept read-only (0444) could not be restored (the session's review).
    @Test func aRestoreLeavesItsBackupAsItWas() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        _ = try SQLiteServerStore(path: path)
        let backup = folder.appendingPathComponent("backup.sqlite").path
        _ = try SQLiteStoreBackup.backup(store: path, to: backup)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: backup)
        let before = try Data(contentsOf: URL(fileURLWithPath: backup))
        #expect(before[18] == 1, "rollback journal mode: one file")
        _ = try SQLiteStoreBackup.restore(from: backup, to: folder.appendingPathComponent("restored.sqlite").path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup)) == before)
        #expect(!FileManager.default.fileExists(atPath: backup + "-wal"))
    }
}
