import Crypto
import Foundation

/// A change's proof of who made it (Protocol/changes.md §2.1): each replica signs every change it
/// makes with its own Ed25519 key, and the server verifies the signature against the key the
/// maker registered in its `hello` (PROTOCOL.md §6.2). The one rule, used by the server's push
/// admission and by a replica checking what it merges from another replica's file.
///
/// The signed bytes of one change are the UTF-8 of `clustersync-change-v1`, a newline (0x0A),
/// then the change's canonical text (§2) without `author` and without `sig`: the server sets the
/// author, and a signature cannot cover itself. Everything else (id, clock, record, scope, field,
/// value, `sup`, `seen`) is covered, so changing any byte of it breaks the signature.
///
/// Changes made together are signed together (§2.2): one signature of the root of a hash tree
/// over up to `batchLimit` changes' signed bytes, each change carrying the signature and the
/// hashes that lead from it to the root. An Ed25519 signature costs more than writing a change,
/// and its check more than storing one; a batch pays one of each and every change still proves
/// its maker on its own, wherever it travels.
public enum ChangeSignature {
    /// Keeps a change signature from ever being read as a signature of anything else the key
    /// signs later.
    public static let context = "clustersync-change-v1\n"

    /// The most changes one signature covers when signed together: a proof of 4 hashes.
    public static let batchLimit = 16

    /// The exact bytes a change's signature signs.
    public static func signedText(_ change: Change) -> String {
        var unsigned = change
        unsigned.author = nil
        unsigned.sig = nil
        return context + unsigned.jsonText
    }

    /// The change with its `sig` made by `key`, alone (§2.1).
    public static func signed(_ change: Change, with key: ReplicaSigningKey) -> Change {
        var signed = change
        signed.sig = key.signature(for: Array(signedText(change).utf8))
        return signed
    }

    /// The changes, in order, each with a `sig`: signed together `batchLimit` at a time (§2.2),
    /// a run of one alone (§2.1).
    public static func signed(batch changes: [Change], with key: ReplicaSigningKey) -> [Change] {
        var result = changes
        var start = changes.startIndex
        while start < changes.endIndex {
            let end = min(changes.endIndex, start + batchLimit)
            if end - start == 1 {
                result[start] = signed(changes[start], with: key)
            } else {
                let tree = SignedBatchTree(leaves: changes[start..<end].map(SignedBatchTree.leaf))
                let signature = key.signatureBytes(for: Array(batchContext.utf8) + tree.root)
                for index in start..<end {
                    result[index].sig = SignatureText(signature: signature, proof: tree.proof(of: index - start)).text
                }
            }
            start = end
        }
        return result
    }

    /// The context of a batch's signed bytes (§2.2): never the first bytes of a change's.
    public static let batchContext = "clustersync-changes-v2\n"

    /// Throws `bad-signature`, naming the change, unless `change.sig` proves `key` signed it.
    /// Checking many changes, `ChangeSignatureVerifier` checks each batch's signature once.
    public static func verify(_ change: Change, key: ReplicaPublicKey?) throws(ClusterSyncError) {
        var verifier = ChangeSignatureVerifier()
        try verifier.verify(change, key: key)
    }

    /// Whether `text` is a `sig` in its one spelling (§2.1, §2.2).
    public static func isWellFormed(_ text: String) -> Bool {
        SignatureText(text) != nil
    }
}

/// Checks change signatures (`ChangeSignature`), remembering each batch signature it has
/// verified: a push of a thousand changes made in batches of 16 costs 63 Ed25519 checks, not a
/// thousand. One verifier per thread; it is a value.
public struct ChangeSignatureVerifier: Sendable {
    /// Public key, root and signature of each batch verified: 128 bytes each.
    private var verifiedBatches: Set<[UInt8]> = []

    public init() {}

    /// Throws `bad-signature`, naming the change, unless `change.sig` is `key`'s signature of the
    /// change (§2.1) or of the root its proof leads to (§2.2). `key` nil: the maker has not
    /// registered one (it has never synced), so no one can vouch for the change.
    public mutating func verify(_ change: Change, key: ReplicaPublicKey?) throws(ClusterSyncError) {
        guard let text = change.sig, let sig = SignatureText(text) else {
            throw ClusterSyncError(.badSignature,
                "change \(change.id) is not signed: every change must carry its maker's signature (sig); it was made by a ClusterSync "
                + "older than signed changes, which must be upgraded", field: "sig")
        }
        guard let key else {
            throw ClusterSyncError(.badSignature,
                "change \(change.id) was made by replica \(change.id.replica), whose key is not registered: that replica must sync once "
                + "itself before another can pass on its changes", field: "sig")
        }
        let valid: Bool
        if sig.proof.isEmpty {
            valid = key.isValidSignature(sig.signature, for: Array(ChangeSignature.signedText(change).utf8))
        } else {
            let root = SignedBatchTree.root(from: SignedBatchTree.leaf(change), proof: sig.proof)
            let batch = key.rawRepresentation + root + sig.signature
            if verifiedBatches.contains(batch) {
                valid = true
            } else {
                valid = key.isValidSignature(sig.signature, for: Array(ChangeSignature.batchContext.utf8) + root)
                if valid { verifiedBatches.insert(batch) }
            }
        }
        guard valid else {
            throw ClusterSyncError(.badSignature,
                "change \(change.id)'s signature does not match replica \(change.id.replica)'s registered key: the change was altered "
                + "after it was made, or was not made by that replica", field: "sig")
        }
    }
}

/// A replica's public key: Ed25519, 32 bytes, in `hello.key` as standard base64 (44 characters).
public struct ReplicaPublicKey: Hashable, Sendable, CustomStringConvertible {
    public let rawRepresentation: [UInt8]

    public init?(rawRepresentation: some Collection<UInt8>) {
        guard rawRepresentation.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: Array(rawRepresentation))) != nil
        else { return nil }
        self.rawRepresentation = Array(rawRepresentation)
    }

    /// From its base64 text; nil unless exactly 32 bytes in standard base64, in its one spelling.
    public init?(base64 text: String) {
        guard let bytes = StrictBase64.decode(text, count: 32) else { return nil }
        self.init(rawRepresentation: bytes)
    }

    public var base64: String { Data(rawRepresentation).base64EncodedString() }
    public var description: String { base64 }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// A replica's private signing key. It never leaves the replica file (it is not in any message,
/// export or log); `description` does not show it.
public struct ReplicaSigningKey: Sendable, CustomStringConvertible {
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// The key from its 32-byte seed (as the replica file keeps it).
    public init(rawRepresentation: some Collection<UInt8>) throws(ClusterSyncError) {
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: Array(rawRepresentation))
        } catch {
            throw ClusterSyncError(.invalidValue, "the replica's signing key is damaged (it must be a 32-byte Ed25519 seed)")
        }
    }

    /// The 32-byte seed, for the replica file only.
    public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }

    public var publicKey: ReplicaPublicKey { ReplicaPublicKey(rawRepresentation: key.publicKey.rawRepresentation)! }

    public var description: String { "ReplicaSigningKey(public: \(publicKey))" }

    /// The signature of `message`, in standard base64.
    func signature(for message: [UInt8]) -> String {
        Data(signatureBytes(for: message)).base64EncodedString()
    }

    /// The 64 bytes of the signature of `message`.
    func signatureBytes(for message: [UInt8]) -> [UInt8] {
        // Signing with a valid key does not fail.
        (try? key.signature(for: message)).map { Array($0) } ?? []
    }
}

/// Standard base64 with padding, read strictly: exactly `count` bytes, and only the one spelling
/// that encodes them (so a signature or key has one text, as canonical JSON needs).
enum StrictBase64 {
    static func decode(_ text: String, count: Int) -> [UInt8]? {
        guard text.utf8.count == (count + 2) / 3 * 4, let data = Data(base64Encoded: text), data.count == count,
              data.base64EncodedString() == text else { return nil }
        return Array(data)
    }
}
