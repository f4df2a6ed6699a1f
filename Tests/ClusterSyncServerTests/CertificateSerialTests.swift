import ClusterSyncCore
import ClusterSyncTLS
import Testing

/// A certificate serial as ClusterSync writes and reads it: lowercase hex without leading zeros,
/// held to the plain formula over edge and random serials, and read back from openssl's forms.
@Suite struct CertificateSerialTests {
    @Test func serialsAreLowercaseHexWithoutLeadingZeros() {
        var generator = SplitMix64(seed: 23)
        var serials: [[UInt8]] = [[], [0], [0, 0], [0, 1], [0x0a, 0x1b], [0xff, 0, 0x10]]
        serials += (0..<200).map { _ in (0..<Int(1 + generator.next() % 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
        for bytes in serials {
            let plain = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined().drop { $0 == "0" }
            let text = CertificateSerial.hex(bytes)
            #expect(text == (plain.isEmpty ? "0" : String(plain)))
            #expect(CertificateSerial.normalised("serial=" + text.uppercased()) == text)
        }
    }
}
