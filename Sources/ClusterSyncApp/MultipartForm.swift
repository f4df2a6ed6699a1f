import Foundation

/// A `multipart/form-data` body (RFC 7578), as a browser sends a form with a file: the only
/// way to upload a file without a script. Reads the parts' names, file names and bytes; the
/// caller has already bounded the body's size.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var data: [UInt8]
    }

    var parts: [Part]

    subscript(_ name: String) -> Part? { parts.first { $0.name == name } }

    func text(_ name: String) -> String? { self[name].map { String(decoding: $0.data, as: UTF8.self) } }

    /// Nil when the content type names no boundary or the body is not made of parts.
    init?(contentType: String, body: [UInt8]) {
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = Self.parameter("boundary", in: contentType), !boundary.isEmpty else { return nil }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        var sections = Self.split(body, on: delimiter)
        // Before the first delimiter is a preamble; after the last ("--") an epilogue.
        guard sections.count >= 2 else { return nil }
        sections.removeFirst()
        for section in sections {
            if section.starts(with: Array("--".utf8)) { break }
            // Each part: CRLF, headers, CRLF CRLF, content, CRLF (before the next delimiter).
            var part = section[...]
            if part.starts(with: [13, 10]) { part = part.dropFirst(2) }
            guard let headerEnd = Self.firstRange(of: [13, 10, 13, 10], in: part) else { return nil }
            let headers = String(decoding: part[part.startIndex..<headerEnd], as: UTF8.self)
            var content = part[(headerEnd + 4)...]
            if content.suffix(2).elementsEqual([13, 10]) { content = content.dropLast(2) }
            guard let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }),
                  let name = Self.parameter("name", in: String(disposition)) else { return nil }
            parts.append(Part(name: name, filename: Self.parameter("filename", in: String(disposition)), data: Array(content)))
        }
        self.parts = parts
    }

    /// `key=value` or `key="value"` among a header's `;`-separated parameters.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "="), pair[..<equals].lowercased() == key else { continue }
            var value = pair[pair.index(after: equals)...]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }

    static func split(_ bytes: [UInt8], on delimiter: [UInt8]) -> [[UInt8]] {
        var sections: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + delimiter.count <= bytes.count {
            if bytes[index] == delimiter[0], bytes[index..<(index + delimiter.count)].elementsEqual(delimiter) {
                sections.append(Array(bytes[start..<index]))
                index += delimiter.count
                start = index
            } else {
                index += 1
            }
        }
        sections.append(Array(bytes[start...]))
        return sections
    }

    static func firstRange(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = bytes.startIndex
        while index + needle.count <= bytes.endIndex {
            if bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
