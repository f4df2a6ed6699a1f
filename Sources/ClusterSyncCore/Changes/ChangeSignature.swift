import Crypto
import ExtrasBase64
import Foundation

/// A change's proof of who made it (Protocol/changes.md §2.1): each replica signs every change it
/// makes with its own Ed25519 key, and the server verifies the signature against the key the
/// maker registered in its `hello` (PROTOCOL.md §6.2). The one rule, used by the server's push
/// admission and by a replica checking what it merges from another replica's file.
///
/// The signed bytes are the UTF-8 of `clustersync-change-v1`, a newline (0x0A), then the change's
/// canonical text (§2) without `author` and without `sig`: the server sets the author, and a
/// signature cannot cover itself. Everything else (id, clock, record, scope, field, value, `sup`,
/// `seen`) is covered, so changing any byte of it breaks the signature.
public enum ChangeSignature {
    /// Keeps a change signature from ever being read as a signature of anything else the key
    /// signs later.
    public static let context: StaticString = "clustersync-change-v1\n"

    /// The exact bytes a change's signature signs: `context`, then the change's canonical text
    /// without its author and signature.
    public static func signedBytes(_ change: Change) -> [UInt8] {
        var unsigned = change
        unsigned.author = nil
        unsigned.sig = nil
        return unsigned.jsonBytes(after: context)
    }

    /// The change with its `sig` made by `key`.
    public static func signed(_ change: Change, with key: ReplicaSigningKey) -> Change {
        var signed = change
        signed.sig = key.signature(for: signedBytes(change))
        return signed
    }

    /// Throws `bad-signature`, naming the change, unless `change.sig` is the signature of
    /// `signedBytes(change)` by `key`, its maker's registered key. `key` nil: the maker has not
    /// registered one (it has never synced), so no one can vouch for the change.
    public static func verify(_ change: Change, key: ReplicaPublicKey?) throws(ClusterSyncError) {
        guard let sig = change.sig, let signature = bytes(of: sig) else {
            throw ClusterSyncError(.badSignature,
                "change \(change.id) is not signed: every change must carry its maker's signature (sig); it was made by a ClusterSync "
                + "older than signed changes, which must be upgraded", field: "sig")
        }
        guard let key else {
            throw ClusterSyncError(.badSignature,
                "change \(change.id) was made by replica \(change.id.replica), whose key is not registered: that replica must sync once "
                + "itself before another can pass on its changes", field: "sig")
        }
        guard key.isValidSignature(signature, for: signedBytes(change)) else {
            throw ClusterSyncError(.badSignature,
                "change \(change.id)'s signature does not match replica \(change.id.replica)'s registered key: the change was altered "
                + "after it was made, or was not made by that replica", field: "sig")
        }
    }

    /// The 64 signature bytes of a `sig` text; nil unless it is exactly 64 bytes in standard
    /// base64 with padding, in its one spelling.
    public static func bytes(of text: String) -> [UInt8]? {
        StrictBase64.decode(text, count: 64)
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

    public var base64: String { Base64.encodeToString(bytes: rawRepresentation) }
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
        // Signing with a valid key does not fail.
        (try? key.signature(for: message)).map { Base64.encodeToString(bytes: $0) } ?? ""
    }
}

/// Standard base64 with padding, read strictly: exactly `count` bytes, and only the one spelling
/// that encodes them (so a signature or key has one text, as canonical JSON needs). Through
/// swift-extras-base64, not Foundation, whose decoder on Linux took a fifth of the time of
/// reading a change (MEASUREMENTS.md, thirtieth session).
enum StrictBase64 {
    static func decode(_ text: String, count: Int) -> [UInt8]? {
        guard text.utf8.count == (count + 2) / 3 * 4, let bytes = try? Base64.decode(string: text), bytes.count == count,
              Base64.encodeToString(bytes: bytes) == text else { return nil }
        return bytes
    }
}
