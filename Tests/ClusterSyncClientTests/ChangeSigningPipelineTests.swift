@testable import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// `ChangeSigningPipeline` signs on worker threads while its caller goes on: what the caller
/// writes must still be every change, signed, in the order made, whatever the threads did.
@Suite struct ChangeSigningPipelineTests {
    static let replica = ReplicaID("00000000000000a1")!

    static func changes(_ count: Int, from start: Int64 = 1) -> [Change] {
        let record = RecordID.random(for: .risk)
        let scope = RecordScope(tenant: "bcuhb", cluster: "north-denbighshire")
        return (0..<Int64(count)).map { offset in
            let counter = start + offset
            return Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_700_000_000_000 + counter),
                          record: record, scope: scope, field: "owner", value: .string("Owner \(counter)"),
                          supersedes: counter > 1 ? [ChangeID(replica: replica, counter: counter - 1)] : [])
        }
    }

    @Test(arguments: [1, 2, 4]) func everyChangeComesBackSignedInOrder(cores: Int) throws {
        let key = ReplicaSigningKey()
        let pipeline = ChangeSigningPipeline(key: key, cores: cores)
        let made = Self.changes(1_000)
        for change in made { pipeline.submit(change) }
        var written: [Change] = []
        try pipeline.drain { written += $0 }
        #expect(written.map(\.id) == made.map(\.id))
        for (change, original) in zip(written, made) {
            #expect(throws: Never.self) { try ChangeSignature.verify(change, key: key.publicKey) }
            var unsigned = change
            unsigned.sig = nil
            #expect(unsigned == original)
        }
        #expect(pipeline.isEmpty)
    }

    @Test func aWriteThatFailsLeavesThePipelineEmptyAndReusable() throws {
        struct DiskFull: Error {}
        let key = ReplicaSigningKey()
        let pipeline = ChangeSigningPipeline(key: key, cores: 4)
        for change in Self.changes(600) { pipeline.submit(change) }
        var writes = 0
        #expect(throws: DiskFull.self) {
            try pipeline.drain { _ in
                writes += 1
                throw DiskFull()
            }
        }
        #expect(writes == 1)
        #expect(pipeline.isEmpty)

        let next = Self.changes(200, from: 601)
        for change in next { pipeline.submit(change) }
        var written: [Change] = []
        try pipeline.drain { written += $0 }
        #expect(written.map(\.id) == next.map(\.id))
        #expect(written.allSatisfy { $0.sig != nil })
    }

    /// An edit refused halfway abandons its session: the workers finish what was queued and
    /// stop, and the pipeline is freed (a worker waiting for more would keep it forever).
    @Test func anAbandonedPipelineIsFreed() async throws {
        weak var abandoned: ChangeSigningPipeline?
        do {
            let pipeline = ChangeSigningPipeline(key: ReplicaSigningKey(), cores: 4)
            for change in Self.changes(500) { pipeline.submit(change) }
            abandoned = pipeline
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while abandoned != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(abandoned == nil)
    }
}
