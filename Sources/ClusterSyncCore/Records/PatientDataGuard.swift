/// Refuses free text that looks like it holds a patient's NHS number.
///
/// Patient data has no place in cluster registers (guide §14.9), and a replicated history keeps
/// every value ever written on every replica, so a slip cannot be undone later. A ten-digit number
/// that passes the NHS number check digit is almost certainly one.
public enum PatientDataGuard {
    /// The ten digits (in ASCII) of the first NHS-number-like run in `text`, or nil.
    ///
    /// Digits are ASCII `0`–`9` and full-width `０`–`９` (U+FF10–U+FF19). A run of digits is a
    /// group; two groups are split by a separator when everything between them is separator
    /// characters (`isSeparator`): spaces of any kind, `-`, `.`, `/` and their look-alikes, any
    /// number of them (`943  476 - 5919`).
    public static func nhsNumber(in text: String) -> String? {
        // Most register text is ASCII with few digits: such text cannot hold ten.
        var asciiDigits = 0
        var allASCII = true
        for byte in text.utf8 {
            if byte >= 0x80 { allASCII = false; break }
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { asciiDigits += 1 }
        }
        if allASCII && asciiDigits < 10 { return nil }

        var groups: [(digits: [UInt8], separatedFromNext: Bool)] = []
        var current: [UInt8] = []
        // Between groups: whether every character since the last group is a separator.
        var gapIsSeparator = false
        for scalar in text.unicodeScalars {
            if let digit = digitValue(scalar) {
                if current.isEmpty, !groups.isEmpty { groups[groups.count - 1].separatedFromNext = gapIsSeparator }
                current.append(digit)
            } else {
                if !current.isEmpty {
                    groups.append((current, false))
                    current = []
                    gapIsSeparator = true
                }
                if !isSeparator(scalar) { gapIsSeparator = false }
            }
        }
        if !current.isEmpty { groups.append((current, false)) }

        for (i, group) in groups.enumerated() {
            if group.digits.count == 10, isValidNHSNumber(group.digits) {
                return ascii(group.digits)
            }
            if i + 2 < groups.count, group.digits.count == 3, groups[i + 1].digits.count == 3, groups[i + 2].digits.count == 4,
               group.separatedFromNext, groups[i + 1].separatedFromNext {
                let digits = group.digits + groups[i + 1].digits + groups[i + 2].digits
                if isValidNHSNumber(digits) { return ascii(digits) }
            }
        }
        return nil
    }

    /// The value of an ASCII or full-width digit.
    static func digitValue(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        case 0x30...0x39: UInt8(scalar.value - 0x30)
        case 0xFF10...0xFF19: UInt8(scalar.value - 0xFF10)
        default: nil
        }
    }

    /// Characters that may stand between the digit groups of one number: tab, space, no-break,
    /// figure, narrow no-break and ideographic spaces; hyphen-minus, hyphen, non-breaking hyphen,
    /// figure dash, en dash and full-width hyphen-minus; full stop and full-width full stop;
    /// solidus and full-width solidus.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x20, 0xA0, 0x2007, 0x202F, 0x3000: true
        case 0x2D, 0x2010, 0x2011, 0x2012, 0x2013, 0xFF0D: true
        case 0x2E, 0xFF0E, 0x2F, 0xFF0F: true
        default: false
        }
    }

    private static func ascii(_ digits: [UInt8]) -> String {
        String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
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

    /// `text` itself when it may be repeated in an error message, else nil: it must be short (at
    /// most 40 characters) and hold fewer than ten digits (or other numeric characters) of any
    /// script, so that it cannot carry an NHS number however it is spaced. Messages quote only
    /// values that are not free text, or what the person has just typed (a member to remove).
    public static func quotable(_ text: String) -> String? {
        // Bytes as well as characters: one character may carry any number of combining marks
        // (found by FuzzChangeCodec: a 40-character field name of 1,300 bytes was echoed).
        guard text.utf8.count <= 160, text.count <= 40 else { return nil }
        let digits = text.unicodeScalars.lazy.filter { $0.properties.numericType != nil }.count
        return digits < 10 ? text : nil
    }
}
