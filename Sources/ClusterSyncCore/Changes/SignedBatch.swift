import Crypto
import Foundation

/// A `sig` text read (§2.1, §2.2): the 64 signature bytes and, for a change signed in a batch,
/// the hashes of its proof.
struct SignatureText {
    var signature: [UInt8]
    var proof: [[UInt8]]

    /// The most hashes a proof holds: a batch of 256 changes (signers make 16).
    static let maximumProof = 8

    init(signature: [UInt8], proof: [[UInt8]]) {
        self.signature = signature
        self.proof = proof
    }

    /// Nil unless standard base64 with padding of exactly 64 bytes, optionally followed by a
    /// full stop and standard base64 of 1 to 8 hashes of 32 bytes, each in its one spelling.
    init?(_ text: String) {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2, let signature = StrictBase64.decode(String(Substring(parts[0])), count: 64) else { return nil }
        self.signature = signature
        guard parts.count == 2 else {
            proof = []
            return
        }
        let length = parts[1].count
        guard let hashes = (1...Self.maximumProof).first(where: { (32 * $0 + 2) / 3 * 4 == length }),
              let bytes = StrictBase64.decode(String(Substring(parts[1])), count: 32 * hashes) else { return nil }
        proof = stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<$0 + 32]) }
    }

    var text: String {
        let signatureText = Data(signature).base64EncodedString()
        return proof.isEmpty ? signatureText : signatureText + "." + Data(proof.flatMap { $0 }).base64EncodedString()
    }
}

/// The hash tree of a signed batch (§2.2): leaves are SHA-256 of 0x00 and a change's signed
/// bytes, nodes SHA-256 of 0x01 and their two children in byte order (so a proof needs no
/// left or right), paired in order level by level with an odd last node carried up as it is.
struct SignedBatchTree {
    /// Each level from the leaves up; the last holds the root alone.
    private let levels: [[[UInt8]]]

    init(leaves: [[UInt8]]) {
        var levels = [leaves]
        while levels[levels.count - 1].count > 1 {
            let below = levels[levels.count - 1]
            levels.append(stride(from: 0, to: below.count, by: 2).map { i in
                i + 1 < below.count ? Self.node(below[i], below[i + 1]) : below[i]
            })
        }
        self.levels = levels
    }

    var root: [UInt8] { levels[levels.count - 1][0] }

    /// The siblings on the way from leaf `index` to the root.
    func proof(of index: Int) -> [[UInt8]] {
        var proof: [[UInt8]] = []
        var position = index
        for level in levels.dropLast() {
            let sibling = position ^ 1
            if sibling < level.count { proof.append(level[sibling]) }
            position /= 2
        }
        return proof
    }

    static func leaf(_ change: Change) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0])
        hasher.update(data: Array(ChangeSignature.signedText(change).utf8))
        return Array(hasher.finalize())
    }

    static func node(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [1])
        if a.lexicographicallyPrecedes(b) {
            hasher.update(data: a)
            hasher.update(data: b)
        } else {
            hasher.update(data: b)
            hasher.update(data: a)
        }
        return Array(hasher.finalize())
    }

    static func root(from leaf: [UInt8], proof: [[UInt8]]) -> [UInt8] {
        proof.reduce(leaf, node)
    }
}
