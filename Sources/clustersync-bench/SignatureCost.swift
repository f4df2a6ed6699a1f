import ClusterSyncCore
import Foundation

/// What one Ed25519 signature costs here, made and checked by the code a replica and the server
/// run (`ChangeSignature`, swift-crypto), one core, median of 5 rounds of 2,000 changes; and the
/// ceiling that alone puts on a figure when every core does nothing else: every local edit is
/// signed, and the server checks every pushed change's signature before it stores it.
struct SignatureCost {
    var signMicros: Double
    var verifyMicros: Double

    static func measure(_ changes: [Change]) throws -> SignatureCost {
        let sample = Array(changes.prefix(2_000))
        let key = ReplicaSigningKey()
        var signRounds: [Double] = [], verifyRounds: [Double] = []
        var signed: [Change] = []
        for _ in 0..<5 {
            let signStart = ContinuousClock.now
            signed = sample.map { ChangeSignature.signed($0, with: key) }
            signRounds.append(Bench.seconds(since: signStart) / Double(sample.count) * 1e6)
            let verifyStart = ContinuousClock.now
            for change in signed { try ChangeSignature.verify(change, key: key.publicKey) }
            verifyRounds.append(Bench.seconds(since: verifyStart) / Double(sample.count) * 1e6)
        }
        return SignatureCost(signMicros: Bench.median(signRounds), verifyMicros: Bench.median(verifyRounds))
    }

    /// Changes a second if every core did nothing but make (or check) signatures.
    static func ceiling(micros: Double) -> Double { Double(cores) * 1e6 / micros }

    static let cores = ProcessInfo.processInfo.activeProcessorCount
}
