import Foundation

/// A submitted `application/x-www-form-urlencoded` form: every value of every name, in order.
struct FormBody: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ text: String) {
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // A browser sends every line break of a form as CR LF; values keep the LF that the
            // CLI, imports and other practices write, so a value shown and sent back unchanged
            // reads as unchanged, and no CR reaches another practice's terminal.
            func decode(_ s: Substring) -> String {
                (String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "")
                    .replacingOccurrences(of: "\r\n", with: "\n")
            }
            pairs.append((decode(halves[0]), halves.count > 1 ? decode(halves[1]) : ""))
        }
    }

    subscript(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    /// `name`'s first value replaced by `value` (a link's finder read into its choice).
    mutating func set(_ name: String, _ value: String) {
        if let index = pairs.firstIndex(where: { $0.0 == name }) { pairs[index].1 = value } else { pairs.append((name, value)) }
    }

    /// The value of `name` with surrounding spaces removed; empty when absent.
    func trimmed(_ name: String) -> String { (self[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
}
