import ClusterSyncClient
import Synchronization
import Testing

/// The bound on how far a session's reading runs ahead of its handling (`ReadAhead`).
@Suite struct ReadAheadTests {
    /// Polls `condition` for up to 10 s (a shared machine may be slow to run the reader).
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func theReaderWaitsOnceTheLimitIsQueuedAndGoesOnWhenOneIsTaken() async throws {
        let readAhead = ReadAhead(limit: 3)
        let handedOver = Mutex(0)
        let reader = Task {
            for _ in 0..<5 {
                await readAhead.handedOver()
                handedOver.withLock { $0 += 1 }
            }
        }
        // Two go at once; the third waits, queued, until the handler takes one.
        #expect(try await eventually { handedOver.withLock { $0 } == 2 && readAhead.queued == 3 })
        try await Task.sleep(for: .milliseconds(100))
        #expect(handedOver.withLock { $0 } == 2, "the reader waits")
        readAhead.taken()
        #expect(try await eventually { handedOver.withLock { $0 } == 3 && readAhead.queued == 3 })
        // Closing lets the waiting reader go on, and none waits again.
        readAhead.close()
        await reader.value
        #expect(handedOver.withLock { $0 } == 5)
    }
}
