import ClusterSyncCore
@testable import ClusterSyncServer
import Foundation
import Synchronization
import Testing

/// The server checks a push's signatures below its other work (`SignatureChecks`): on threads
/// the system schedules after the sessions' own, and with the same outcome as checking in line.
@Suite struct SignatureChecksTests {
    /// The nice value of the calling thread, from /proc (Linux).
    static func niceOfThisThread() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (name) ": state is field 3, nice is field 19.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    #if os(Linux)
    @Test func theChecksRunAtALowerPriorityThanTheSessions() async throws {
        let session = try #require(Self.niceOfThisThread())
        let check = try #require(await SignatureChecks.run { () -> Int? in Self.niceOfThisThread() }.get())
        #expect(check > session, "a check ran at nice \(check), the session at \(session)")
        // Every run of a large batch too, the first (on the checking thread) and the others.
        let runs = Mutex<[Int?]>([])
        _ = await SignatureChecks.run {
            SignatureChecks.inParallel(4) { _ in
                let nice = Self.niceOfThisThread()
                runs.withLock { $0.append(nice) }
            }
        }
        let seen = runs.withLock { $0 }
        #expect(seen.count == 4)
        #expect(seen.allSatisfy { ($0 ?? session) > session }, "\(seen)")
    }
    #endif

    /// Every run is made exactly once, however the calling thread and the helpers share them,
    /// and the call returns only once all have ended.
    @Test func everyRunIsMadeOnceBeforeTheCallReturns() {
        for runs in [0, 1, 2, 3, 16] {
            let made = Mutex<[Int]>([])
            SignatureChecks.inParallel(runs) { run in
                // Long enough that helpers take some runs while the caller makes others.
                var x = 0
                for i in 0..<200_000 { x &+= i }
                made.withLock { $0.append(run + (x & 0)) }
            }
            #expect(made.withLock { $0.sorted() } == Array(0..<runs), "\(runs) runs")
        }
    }

    static let pusher = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010 (Siân Evans)")

    /// A batch split in runs over background threads names the change a one-by-one check
    /// names: the first bad one in batch order, or none.
    @Test func aLargeBatchCheckedInTheBackgroundNamesTheFirstBadChange() async throws {
        let key = ReplicaSigningKey()
        let replica = ReplicaID("5f0c9e1a2b3c4d5e")!
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let record = RecordID.random(for: .risk)
        let good = (1...600).map { n in
            ChangeSignature.signed(Change(
                id: ChangeID(replica: replica, counter: Int64(n)), hlc: HLCTimestamp(millis: now, logical: UInt16(n)), record: record,
                scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title", value: .string("Risk \(n)"), supersedes: []), with: key)
        }
        let keys = [replica: key.publicKey]
        func rejection(_ changes: [Change]) async -> PushRejection? {
            do throws(PushRejection) {
                try await SignatureChecks.validate(Push(batch: "b", changes: changes), for: Self.pusher, nowMillis: now, limits: .default, keys: keys)
                return nil
            } catch {
                return error
            }
        }
        #expect(await rejection(good) == nil)
        for (forged, expected) in [([450], 450), ([450, 100], 100), ([599, 0], 0)] {
            var changes = good
            for p in forged { changes[p].value = .string("Altered after signing \(p)") }
            let refusal = try #require(await rejection(changes))
            #expect(refusal.change == good[expected].id && refusal.error.code == .badSignature, "\(forged)")
        }
    }
}
