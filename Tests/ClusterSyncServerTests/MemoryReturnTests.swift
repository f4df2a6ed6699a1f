import ClusterSyncCore
import Foundation
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import ClusterSyncServer

/// When the server gives freed memory back to the system (`MemoryReturn`).
@Suite struct MemoryReturnTests {
    @Test func trimsOnceABurstHasGoneQuiet() {
        let burst = MemoryReturn.burstEvents
        #expect(!MemoryReturn.quietAfterBurst(handled: burst - 1, atLastLook: burst - 1), "too little work to be worth a trim")
        #expect(!MemoryReturn.quietAfterBurst(handled: 5 * burst, atLastLook: 4 * burst), "still busy")
        #expect(!MemoryReturn.quietAfterBurst(handled: burst, atLastLook: 0), "busy until the last look")
        #expect(MemoryReturn.quietAfterBurst(handled: 5 * burst, atLastLook: 5 * burst))
    }

    /// The loop's decisions: a trim every `busyEvents` while a burst runs, one more once it
    /// has gone quiet (whatever the trims during it), then nothing until the next burst.
    @Test func trimsDuringALongBurstAndOnceItHasGoneQuiet() {
        var schedule = MemoryReturn.TrimSchedule()
        let busy = MemoryReturn.busyEvents
        #expect(schedule.look(handled: 10) == .wait)
        #expect(schedule.look(handled: busy - 1) == .wait)
        #expect(schedule.look(handled: busy) == .trimDuringBurst)
        #expect(schedule.look(handled: busy + 5) == .wait, "the next waits for another busyEvents")
        #expect(schedule.look(handled: 2 * busy - 1) == .wait)
        #expect(schedule.look(handled: 2 * busy) == .trimDuringBurst)
        #expect(schedule.look(handled: 2 * busy) == .trimOnceQuiet, "quiet: trimmed again, counting from zero")
        #expect(schedule.look(handled: 0) == .wait)
        #expect(schedule.look(handled: 0) == .wait, "nothing handled since: no trim")
        #expect(schedule.look(handled: MemoryReturn.burstEvents) == .wait)
        #expect(schedule.look(handled: MemoryReturn.burstEvents) == .trimOnceQuiet, "a short burst trims once, when quiet")
    }

    @Test func trimsWhenMostSessionsOfAPeakHaveClosed() {
        var peak = 4_000
        #expect(!MemoryReturn.due(open: 1_001, peak: &peak))
        #expect(peak == 4_000)
        #expect(MemoryReturn.due(open: 1_000, peak: &peak))
        #expect(peak == 1_000, "the next trim waits for another quarter to close")
        var small = 8
        #expect(!MemoryReturn.due(open: 1, peak: &small))
        #expect(MemoryReturn.due(open: 0, peak: &small))
    }

    /// The registry tells the server once most connections of a peak have closed (the server
    /// then has its store drop its caches, `SyncServer`), and not before.
    @Test func theServerIsToldWhenMostConnectionsOfAPeakHaveClosed() throws {
        let told = Atomic(0)
        let registry = ConnectionRegistry(maxConnections: 100, maxConnectionsPerCredential: 100) { told.add(1, ordering: .relaxed) }
        let channels = (0..<64).map { _ in EmbeddedChannel() }
        for channel in channels { #expect(registry.admit(channel)) }
        func close(_ channel: EmbeddedChannel) throws {
            _ = try channel.finish()
            channel.embeddedEventLoop.run()
        }
        for channel in channels.prefix(47) { try close(channel) }
        #expect(told.load(ordering: .relaxed) == 0, "17 of 64 still open")
        try close(channels[47])
        #expect(told.load(ordering: .relaxed) == 1, "16 of 64 open: a quarter")
        for channel in channels.suffix(16) { try close(channel) }
        #expect(told.load(ordering: .relaxed) == 2, "all gone: told again")
    }

    /// A SQLite store that has dropped its caches and idle readers reads and writes as before.
    @Test func aStoreThatDroppedItsCachesServesAsBefore() async throws {
        let (store, directory) = try await AuthorNameServerTests.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let identity = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")
        func change(_ n: Int64) -> Change {
            Change(id: ChangeID(replica: ReplicaID("a3b4c5d6e7f80912")!, counter: n), hlc: HLCTimestamp(millis: 1_795_426_200_000 + n),
                   record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "title", value: .string("Title \(n)"))
        }
        _ = try await store.push([change(1)], as: identity)
        let before = try await store.pull(for: identity, after: nil, limit: 10)
        store.releaseCaches()
        _ = try await store.push([change(2)], as: identity)
        store.releaseCaches()
        let after = try await store.pull(for: identity, after: nil, limit: 10)
        #expect(before.changes.map(\.id.counter) == [1])
        #expect(after.changes.map(\.id.counter) == [1, 2])
    }
}
