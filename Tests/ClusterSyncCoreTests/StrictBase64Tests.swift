@testable import ClusterSyncCore
import Foundation
import Testing

/// `StrictBase64` (through swift-extras-base64) takes exactly the texts its rule names: Foundation's
/// decoder as the reference, the length asked for, and only the one spelling of those bytes.
struct StrictBase64Tests {
    static func reference(_ text: String, count: Int) -> [UInt8]? {
        guard let data = Data(base64Encoded: text), data.count == count, data.base64EncodedString() == text else { return nil }
        return Array(data)
    }

    @Test(arguments: [32, 64])
    func itAgreesWithFoundationOnValidAndDamagedTexts(count: Int) {
        var random = SplitMix64(seed: UInt64(count))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n".unicodeScalars)
        for _ in 0..<500 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            let text = Data(bytes).base64EncodedString()
            #expect(StrictBase64.decode(text, count: count) == bytes)
            // One character changed, dropped or added; and the last data character moved by one,
            // which changes the unused low bits (a second spelling of the same bytes).
            var scalars = Array(text.unicodeScalars)
            let place = Int.random(in: 0..<scalars.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: scalars[place] = alphabet.randomElement(using: &random)!
            case 1: scalars.remove(at: place)
            case 2: scalars.insert(alphabet.randomElement(using: &random)!, at: place)
            default:
                let last = scalars.lastIndex { $0 != "=" }!
                scalars[last] = alphabet[(alphabet.firstIndex(of: scalars[last])! + 1) % 64]
            }
            let damaged = String(String.UnicodeScalarView(scalars))
            #expect(StrictBase64.decode(damaged, count: count) == Self.reference(damaged, count: count), "\(damaged)")
        }
        #expect(StrictBase64.decode("", count: count) == nil)
    }
}
