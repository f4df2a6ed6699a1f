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
        let handedOver = Count()
        let reader = Task {
            for _ in 0..<5 {
                await readAhead.handedOver()
                handedOver.add()
            }
        }
        // Two go at once; the third waits, queued, until the handler takes one.
        #expect(try await eventually { handedOver.value == 2 && readAhead.queued == 3 })
        try await Task.sleep(for: .milliseconds(100))
        #expect(handedOver.value == 2, "the reader waits")
        readAhead.taken()
        #expect(try await eventually { handedOver.value == 3 && readAhead.queued == 3 })
        // While the handler writes, the reader reads on (a server waiting to send before it
        // reads would otherwise wait on a client waiting to write).
        await readAhead.whileWriting {
            _ = try? await eventually { handedOver.value == 5 }
        }
        #expect(handedOver.value == 5 && readAhead.queued == 4)
        await reader.value
        // After, the bound is back; closing lets a waiting reader go on, and none waits again.
        let next = Task {
            await readAhead.handedOver()
            handedOver.add()
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(handedOver.value == 5, "the reader waits again")
        readAhead.close()
        await next.value
        await readAhead.handedOver()
        #expect(handedOver.value == 6)
    }
}

extension ReadAheadTests {
    /// While the handler writes, the reader reads on only to `writingLimit`: a server flooding
    /// while the client's write creeps along still meets a bound.
    @Test func whileWritingTheReaderStopsAtTheLargerBound() async throws {
        let readAhead = ReadAhead(limit: 1)
        let handedOver = Count()
        await readAhead.whileWriting {
            let reader = Task {
                for _ in 0..<20 {
                    await readAhead.handedOver()
                    handedOver.add()
                }
            }
            _ = try? await eventually { readAhead.queued == readAhead.writingLimit }
            try? await Task.sleep(for: .milliseconds(100))
            #expect(handedOver.value == readAhead.writingLimit - 1, "it waits at \(readAhead.writingLimit) queued")
            readAhead.close()
            await reader.value
        }
        #expect(handedOver.value == 20)
    }
}

/// A count several tasks share.
final class Count: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
