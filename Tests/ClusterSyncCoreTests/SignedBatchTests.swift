@testable import ClusterSyncCore
import Foundation
import Testing

/// Changes signed together (Protocol/changes.md §2.2): one signature per batch, a proof per
/// change, and each change still verifiable on its own.
@Suite struct SignedBatchTests {
    static let replica = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let scope = RecordScope(tenant: "ctmuhb", cluster: "rhondda")

    static func changes(_ count: Int, from first: Int64 = 1) -> [Change] {
        (0..<Int64(count)).map { n in
            Change(id: ChangeID(replica: replica, counter: first + n), hlc: HLCTimestamp(millis: 1_700_000_000_000 + n),
                   record: RecordID("RSK-7K3M9Q2X1A")!, scope: scope, field: "title", value: .string("Title \(first + n)"))
        }
    }

    @Test(arguments: [1, 2, 3, 5, 15, 16, 17, 33, 100])
    func everyChangeOfABatchVerifiesOnItsOwnAndOneSignatureCoversUpToSixteen(count: Int) throws {
        let key = ReplicaSigningKey()
        let signed = ChangeSignature.signed(batch: Self.changes(count), with: key)
        #expect(signed.count == count)
        #expect(signed.map(\.id) == Self.changes(count).map(\.id))
        for change in signed { try ChangeSignature.verify(change, key: key.publicKey) }
        let signatures = Set(signed.map { $0.sig!.split(separator: ".")[0] })
        #expect(signatures.count == (count + ChangeSignature.batchLimit - 1) / ChangeSignature.batchLimit)
        // A run of one is signed alone, as §2.1: no proof.
        let alone = signed.filter { !$0.sig!.contains(".") }
        #expect(alone.count == (count % ChangeSignature.batchLimit == 1 ? 1 : 0))
        // Every change's text reads back, proof and all.
        for change in signed { #expect(try Change(jsonText: change.jsonText) == change) }
        // A proof of a 16-change batch holds 4 hashes: 88 + 1 + 172 characters.
        if count >= 16 { #expect(signed[0].sig!.utf8.count == 261) }
    }

    @Test func aChangeAlteredAfterSigningOrGivenAnotherChangesProofFailsAndItsNeighboursStillPass() throws {
        let key = ReplicaSigningKey()
        let signed = ChangeSignature.signed(batch: Self.changes(8), with: key)
        var altered = signed[3]
        altered.value = .string("Altered")
        var verifier = ChangeSignatureVerifier()
        // The batch's signature verified (and remembered) first: the cache must not vouch for a forgery.
        try verifier.verify(signed[0], key: key.publicKey)
        #expect(throws: ClusterSyncError.self) { try verifier.verify(altered, key: key.publicKey) }
        var swapped = signed[3]
        swapped.sig = signed[4].sig
        #expect(throws: ClusterSyncError.self) { try verifier.verify(swapped, key: key.publicKey) }
        var truncated = signed[3]
        let parts = signed[3].sig!.split(separator: ".")
        let proof = Data(base64Encoded: String(parts[1]))!
        truncated.sig = "\(parts[0]).\(proof.prefix(64).base64EncodedString())"
        #expect(throws: ClusterSyncError.self) { try verifier.verify(truncated, key: key.publicKey) }
        // Another replica's key does not verify the batch.
        #expect(throws: ClusterSyncError.self) { try ChangeSignature.verify(signed[5], key: ReplicaSigningKey().publicKey) }
        for change in signed { try verifier.verify(change, key: key.publicKey) }
    }

    @Test func aBatchSignatureIsNeverASingleChangeSignatureNorTheOtherWayRound() throws {
        let key = ReplicaSigningKey()
        let pair = ChangeSignature.signed(batch: Self.changes(2), with: key)
        // The signature of a batch without its proof is not a change's own signature.
        var stripped = pair[0]
        stripped.sig = String(pair[0].sig!.split(separator: ".")[0])
        #expect(throws: ClusterSyncError.self) { try ChangeSignature.verify(stripped, key: key.publicKey) }
        // A change's own signature given a proof does not verify either.
        var alone = ChangeSignature.signed(Self.changes(1)[0], with: key)
        alone.sig! += "." + pair[0].sig!.split(separator: ".")[1]
        #expect(throws: ClusterSyncError.self) { try ChangeSignature.verify(alone, key: key.publicKey) }
    }

    @Test func aSigHasOneSpelling() {
        let signature = Data(repeating: 7, count: 64).base64EncodedString()
        let hash = Data(repeating: 9, count: 32).base64EncodedString()
        let hashes = { (n: Int) in Data(repeating: 9, count: 32 * n).base64EncodedString() }
        #expect(ChangeSignature.isWellFormed(signature))
        #expect(ChangeSignature.isWellFormed(signature + "." + hash))
        #expect(ChangeSignature.isWellFormed(signature + "." + hashes(8)))
        #expect(!ChangeSignature.isWellFormed(signature + "." + hashes(9)))
        #expect(!ChangeSignature.isWellFormed(signature + "."))
        #expect(!ChangeSignature.isWellFormed(signature + "." + hash + "." + hash))
        #expect(!ChangeSignature.isWellFormed(signature + "." + Data(repeating: 9, count: 31).base64EncodedString()))
        #expect(!ChangeSignature.isWellFormed(signature + "." + hash.replacingOccurrences(of: "=", with: "")))
        #expect(!ChangeSignature.isWellFormed("." + hash))
    }
}
