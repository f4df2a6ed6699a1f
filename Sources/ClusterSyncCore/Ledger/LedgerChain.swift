import Crypto
import Foundation

/// The rule of a tenant's tamper-evident log (Protocol/PROTOCOL.md §15): every change the server
/// accepts gets one entry, chained by hash to the entry before it in the tenant's sequence.
///
/// - content hash = SHA-256(salt ‖ the change's canonical text as accepted), with 16 random
///   bytes of salt per entry. The salt is there for redaction: a redacted entry keeps its content
///   hash (so the chain still verifies) but loses its salt, so nobody can find the erased value
///   by hashing guesses (a surname list) against the hash that stays.
/// - entry hash = SHA-256("clustersync-ledger-v1" 0x00 tenant 0x00 seq 0x00 content hash ‖
///   previous entry hash), the previous entry hash of the first entry being 32 zero bytes.
///
/// Pure: stores write and read the rows, `LedgerVerifier` walks them.
public enum LedgerChain {
    public static let domain = "clustersync-ledger-v1"
    public static let genesis = Data(repeating: 0, count: 32)

    public static func newSalt() -> Data {
        SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
    }

    /// `count` salts for one push: ChaCha20's keystream under a key drawn from the system's
    /// generator for this call alone (and dropped after it), cut into 16-byte salts. Drawing
    /// them all from the system instead cost 2,000 system calls a push of 1,000 changes
    /// (swift-crypto fills random bytes 8 at a time on Linux): a quarter of the chain's cost,
    /// MEASUREMENTS.md sixteenth session. A keystream under a fresh secret key is as unguessable
    /// as the key, which is all a salt needs.
    public static func newSalts(_ count: Int) -> [Data] {
        guard count > 0 else { return [] }
        let stream: Data
        do {
            // The key is never used twice, so one fixed nonce is safe.
            stream = try ChaChaPoly.seal(Data(count: 16 * count), using: SymmetricKey(size: .bits256),
                                         nonce: ChaChaPoly.Nonce(data: Data(count: 12))).ciphertext
        } catch {
            // Only a nonce of the wrong length throws, and this one is 12 bytes.
            preconditionFailure("ChaChaPoly refused a 12-byte nonce: \(error)")
        }
        return (0..<count).map { stream.subdata(in: stream.startIndex + $0 * 16 ..< stream.startIndex + $0 * 16 + 16) }
    }

    public static func contentHash(salt: Data, canonicalText: String) -> Data {
        var hasher = SHA256()
        salt.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        // The text's own bytes, not a copy of them (this runs for every change a push stores).
        var text = canonicalText
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return Data(hasher.finalize())
    }

    public static func entryHash(tenant: String, seq: Int64, contentHash: Data, previous: Data) -> Data {
        // The prefix's bytes written straight into one buffer: an interpolated String here was
        // 0.9 µs of an entry's 2.1 (MEASUREMENTS.md, seventeenth session).
        var prefix: [UInt8] = []
        prefix.reserveCapacity(domain.utf8.count + tenant.utf8.count + 24)
        prefix.append(contentsOf: domain.utf8)
        prefix.append(0)
        prefix.append(contentsOf: tenant.utf8)
        prefix.append(0)
        prefix.append(contentsOf: String(seq).utf8)
        prefix.append(0)
        var hasher = SHA256()
        prefix.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        contentHash.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Data(hasher.finalize())
    }

    /// The entry for a change accepted at `seq` after an entry whose hash is `previous`.
    public static func entry(tenant: String, seq: Int64, canonicalText: String, previous: Data, salt: Data = newSalt()) -> LedgerEntry {
        let content = contentHash(salt: salt, canonicalText: canonicalText)
        return LedgerEntry(seq: seq, salt: salt, contentHash: content,
                           entryHash: entryHash(tenant: tenant, seq: seq, contentHash: content, previous: previous))
    }

    /// The entries of changes accepted at `after + 1`, `after + 2`, ... (their canonical texts
    /// in that order), chained after an entry whose hash is `previous`.
    public static func entries(tenant: String, after last: Int64, canonicalTexts texts: [String], previous: Data) -> [LedgerEntry] {
        var previous = previous
        return zip(texts, newSalts(texts.count)).enumerated().map { offset, pair in
            let made = entry(tenant: tenant, seq: last + 1 + Int64(offset), canonicalText: pair.0, previous: previous, salt: pair.1)
            previous = made.entryHash
            return made
        }
    }

    /// Lowercase hex, two digits a byte (how heads, checkpoints and PostgreSQL's chain rows
    /// write hashes).
    public static func hex(_ data: Data) -> String { ASCIIDigits.hex(data) }

    public static func data(hex text: String) -> Data? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = Data(capacity: 32)
        var index = 0
        while index < utf8.count {
            guard let byte = UInt8(String(decoding: utf8[index..<index + 2], as: UTF8.self), radix: 16),
                  utf8[index..<index + 2].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
            else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}

/// One entry of a tenant's chain, as stored. `salt` is nil once the change's value is redacted.
public struct LedgerEntry: Sendable, Equatable {
    public var seq: Int64
    public var salt: Data?
    public var contentHash: Data
    public var entryHash: Data

    public init(seq: Int64, salt: Data?, contentHash: Data, entryHash: Data) {
        self.seq = seq
        self.salt = salt
        self.contentHash = contentHash
        self.entryHash = entryHash
    }
}
