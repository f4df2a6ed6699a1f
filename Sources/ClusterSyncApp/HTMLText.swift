import Foundation

/// Escaping for the few parts of a page built in Swift rather than by a template: the rows of a
/// long register, where the template engine's per-value lookups cost more than the data read.
/// Escapes what Mustache's `{{value}}` escapes, byte by byte.
enum HTMLText {
    static func append(_ text: String, to html: inout String) {
        guard text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }) else {
            html += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case "&": html += "&amp;"
            case "\"": html += "&quot;"
            case "'": html += "&#39;"
            default: html.unicodeScalars.append(scalar)
            }
        }
    }
}
