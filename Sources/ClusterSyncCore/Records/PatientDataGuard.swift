/// Refuses free text that looks like it holds a patient's NHS number.
///
/// Patient data has no place in cluster registers (guide §14.9), and a replicated history keeps
/// every value ever written on every replica, so a slip cannot be undone later. A ten-digit number
/// that passes the NHS number check digit is almost certainly one.
public enum PatientDataGuard {
    /// The first NHS-number-like run in `text`, written as found, or nil.
    public static func nhsNumber(in text: String) -> String? {
        // Digit groups and what separates them: "943 476 5919" is three groups split by spaces.
        var groups: [(digits: [UInt8], separatorAfter: UInt8?)] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                current.append(byte - UInt8(ascii: "0"))
            } else {
                if !current.isEmpty { groups.append((current, byte)) }
                else if !groups.isEmpty { groups[groups.count - 1].separatorAfter = nil }
                current = []
            }
        }
        if !current.isEmpty { groups.append((current, nil)) }

        for (i, group) in groups.enumerated() {
            if group.digits.count == 10, isValidNHSNumber(group.digits) {
                return group.digits.map(String.init).joined()
            }
            if i + 2 < groups.count, group.digits.count == 3, groups[i + 1].digits.count == 3, groups[i + 2].digits.count == 4 {
                let separators = [group.separatorAfter, groups[i + 1].separatorAfter]
                guard separators.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") }) else { continue }
                let digits = group.digits + groups[i + 1].digits + groups[i + 2].digits
                if isValidNHSNumber(digits) { return digits.map(String.init).joined() }
            }
        }
        return nil
    }

    /// The modulus 11 check: weights 10 down to 2 on the first nine digits.
    public static func isValidNHSNumber(_ digits: [UInt8]) -> Bool {
        guard digits.count == 10 else { return false }
        var sum = 0
        for i in 0..<9 { sum += Int(digits[i]) * (10 - i) }
        var check = 11 - sum % 11
        if check == 11 { check = 0 }
        return check != 10 && check == Int(digits[9])
    }
}
