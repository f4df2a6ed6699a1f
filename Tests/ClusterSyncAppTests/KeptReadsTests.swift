@testable import ClusterSyncApp
import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Synchronization
import Testing

/// What pages keep while the replica stands as it was (`KeptReads`): read again after any
/// commit, this app's or another connection's, and never an older read over a newer one.
@Suite struct KeptReadsTests {
    let directory: URL
    let path: String
    let replica: Replica
    let kept: KeptReads

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "kept-reads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appending(path: "prestatyn.sqlite").path
        replica = try Replica(path: path)
        try replica.initialise(tenant: "bcuhb", cluster: "north-denbighshire", practice: "prestatyn", displayName: "Prestatyn")
        kept = KeptReads(version: try ReplicaVersion(path: path))
    }

    func add(_ title: String, through replica: Replica) throws {
        _ = try replica.add(.risk, edits: [.set("title", .string(title))])
    }

    func titles(_ reads: inout Int) throws -> [String] {
        try kept.value("titles") {
            reads += 1
            return try replica.records(.risk).map(\.name).sorted()
        }
    }

    @Test func aCommitFromAnyConnectionIsReadAgain() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        var reads = 0
        #expect(try titles(&reads) == [] && reads == 1)
        #expect(try titles(&reads) == [] && reads == 1, "kept while nothing was committed")
        try add("Estates", through: replica)
        #expect(try titles(&reads) == ["Estates"] && reads == 2, "the app's own edit")
        // Another connection to the file, as the CLI, a watch or another process has.
        try add("Locum cover", through: try Replica.openExisting(path: path))
        #expect(try titles(&reads) == ["Estates", "Locum cover"] && reads == 3, "another connection's edit")
        #expect(try titles(&reads) == ["Estates", "Locum cover"] && reads == 3)
    }

    /// A governance type's link choices taken from the governance records a page kept are the
    /// ones read on their own: private records only from a private one, deleted ones never.
    @Test func linkChoicesFromKeptGovernanceRecordsAreTheOnesReadAlone() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try replica.rememberRole(.clusterLead, region: nil)
        let board = try replica.add(.meeting, edits: [.set("title", .string("Board")), .set("date", .string("2026-03-05"))])
        _ = try replica.add(.meeting, edits: [.set("title", .string("Board")), .set("date", .string("2026-03-05"))])
        _ = try replica.add(.meeting, private: true, edits: [.set("title", .string("Partners")), .set("date", .string("2026-02-01"))])
        _ = try replica.add(.decision, edits: [.set("title", .string("Fund locums")), .set("meeting", .string(board.rawValue))])
        _ = try replica.add(.decision, edits: [.set("title", .string("Undated"))])
        _ = try replica.delete(try replica.add(.decision, edits: [.set("title", .string("Withdrawn"))]))
        _ = try replica.add(.declaration, edits: [.set("member", .string("Dr Siân Evans")), .set("organisation", .string("Rhyl Pharmacy")),
                                                  .set("date_declared", .string("2025-04-01"))])
        _ = try replica.add(.terms, edits: [.set("title", .string("Board ToR")), .set("body", .string("stakeholder-board"))])
        func pages() throws -> Pages {
            let renderer = try PageRenderer(catalogue: .english, csrf: "x", practice: "Prestatyn")
            return Pages(replica: replica, replicaPath: path, page: renderer, session: AppSession(), watch: nil, kept: KeptReads(version: try ReplicaVersion(path: path)))
        }
        for type in [RecordType.meeting, .decision, .declaration, .terms] {
            for fromPrivate in [false, true] {
                let alone = try pages().linkable(type, fromPrivate: fromPrivate)
                let withGovernance = try pages()
                _ = try withGovernance.governance()
                let fromKept = withGovernance.linkable(type, fromPrivate: fromPrivate)
                #expect(fromKept.map(\.id) == alone.map(\.id) && fromKept.map(\.name) == alone.map(\.name), "\(type) \(fromPrivate)")
                #expect(!alone.isEmpty)
            }
        }
        let meetings = try pages().linkable(.meeting, fromPrivate: true).map(\.name)
        #expect(meetings.count == 3 && meetings.contains("Partners, 1 Feb 2026"))
        #expect(try pages().linkable(.meeting).count == 2)
        #expect(!(try pages().linkable(.decision)).contains { $0.name.contains("Withdrawn") })
    }

    /// A page that began reading before a commit, and ends after a later page read past it,
    /// keeps nothing: the later page's read stands.
    @Test func anOlderReadNeverReplacesANewerOne() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let other = try Replica.openExisting(path: path)
        let older: [String] = try kept.value("titles") {
            let before = try replica.records(.risk).map(\.name)
            try add("Locum cover", through: other)
            let newer = try kept.value("titles") { try replica.records(.risk).map(\.name) }
            #expect(newer == ["Locum cover"])
            return before
        }
        #expect(older == [])
        let now = try kept.value("titles") { () -> [String] in
            Issue.record("the newer read was not kept")
            return []
        }
        #expect(now == ["Locum cover"])
    }

    /// Several tabs reloading at once after a change: one reads, the others wait for its value.
    @Test func aPageAskingForWhatAnotherIsReadingWaitsForIt() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, second, reads) = try twoPages(firstFails: false)
        #expect(first == ["first"] && second == ["first"] && reads == 1, "the second page read too, or took another value")
        #expect(try kept.value("titles") { ["third"] } == ["first"], "the value read was not kept")
    }

    /// The read a page waits for fails: the page reads for itself.
    @Test func aPageWhoseAwaitedReadFailsReadsForItself() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, second, reads) = try twoPages(firstFails: true)
        #expect(first == nil && second == ["second"] && reads == 2)
    }

    /// Two threads (pages) ask for `titles`; the second asks while the first's read is held open.
    private func twoPages(firstFails: Bool) throws -> (first: [String]?, second: [String]?, reads: Int) {
        struct Failed: Error {}
        let reads = Mutex(0)
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let results = Mutex<(first: [String]?, second: [String]?)>((nil, nil))
        let kept = self.kept
        Thread.detachNewThread {
            let value = try? kept.value("titles") { () throws -> [String] in
                reads.withLock { $0 += 1 }
                started.signal()
                release.wait()
                if firstFails { throw Failed() }
                return ["first"]
            }
            results.withLock { $0.first = value }
            done.signal()
        }
        started.wait()
        Thread.detachNewThread {
            let value = try? kept.value("titles") { () -> [String] in
                reads.withLock { $0 += 1 }
                return ["second"]
            }
            results.withLock { $0.second = value }
            done.signal()
        }
        // Time for the second page to reach the first's read; were it not to wait, it would
        // have read by now, and the count says so.
        Thread.sleep(forTimeInterval: 0.3)
        release.signal()
        done.wait()
        done.wait()
        return results.withLock { ($0.first, $0.second, reads.withLock { $0 }) }
    }
}
