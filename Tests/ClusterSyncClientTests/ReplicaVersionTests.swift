import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// What the web app's pages poll: the version moves when anything is committed to the file,
/// through this replica or another connection (another process's `sync --watch`), and only then.
@Suite struct ReplicaVersionTests {
    @Test func movesWhenAnyConnectionCommitsAndOnlyThen() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "a", practice: "prestatyn")
        let version = try ReplicaVersion(path: dir.path("a.sqlite"))
        let first = try version.current()
        #expect(try version.current() == first)
        _ = try replica.record(RecordID.random(for: .risk))
        #expect(try version.current() == first, "a read commits nothing")

        let id = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        let second = try version.current()
        #expect(second > first)
        #expect(try version.current() == second)

        // Another connection to the same file, as another process would open it.
        let other = try Replica(path: dir.path("a.sqlite"))
        try other.edit(id, .set("owner", .string("Cluster lead")))
        #expect(try version.current() > second)
    }
}
