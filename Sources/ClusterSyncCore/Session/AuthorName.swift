import Foundation

/// The one rule for a name shown as the author of a change, wherever it enters: a replica's
/// display name (`init --name`), a token's label, the author the server stamps, and the name a
/// relayed change claims.
///
/// A name people read must look like what it is. So a name holds no control characters, no
/// invisible format characters (bidi overrides and isolates, zero-width joiners and spaces, soft
/// hyphens, tags, variation selectors and other default-ignorable code points), no private-use or
/// unassigned code points and no line breaks; runs of white space are one space, with none at
/// either end; it is in Unicode NFC; it is 1 to `maxScalars` Unicode scalars long (so a pile of
/// combining marks counts against it); and it never contains the word "via", which marks a
/// relayed change (`<maker> via <relayer>`, see ``AuthorStamp``), in any letter case or in
/// look-alike letters (`VIA`, `vía`, Cyrillic `vіа`, fullwidth `ｖｉａ`).
///
/// Two ways to apply it, one rule: ``sanitised(_:)`` for names that arrive in data and cannot be
/// sent back (a relayed change's author, a label stored before this rule), which drops what is
/// not allowed and cuts the name at "via" and at the length bound; ``validated(_:field:)`` for a
/// name a person is typing, which refuses instead, naming what is wrong.
public enum AuthorName {
    /// The longest name, in Unicode scalars.
    public static let maxScalars = 64

    /// The word between the maker and the relayer of a relayed change.
    public static let relayWord = "via"

    /// What `validated` refuses; `sanitised` removes the same things.
    public enum Problem: Equatable, Sendable {
        /// Nothing visible is left.
        case empty
        /// A character that is invisible or changes how the rest is shown.
        case invisible(Unicode.Scalar)
        /// The word "via", or a look-alike.
        case relayWord
        /// Longer than `maxScalars` Unicode scalars.
        case tooLong(Int)

        /// The problem's name in `Protocol/vectors/authors/names.jsonl`.
        public var name: String {
            switch self {
            case .empty: "empty"
            case .invisible: "invisible"
            case .relayWord: "relay-word"
            case .tooLong: "too-long"
            }
        }
    }

    /// The first thing `validated` would refuse in `raw`, or nil if it keeps the rule.
    public static func problem(in raw: some StringProtocol) -> Problem? {
        clean(raw).problems.first
    }

    /// The name as it may be shown, or nil when nothing of it is left.
    public static func sanitised(_ raw: some StringProtocol) -> String? {
        let (name, _) = clean(raw)
        return name.isEmpty ? nil : name
    }

    /// The name, with its spacing tidied, if it keeps the rule; else a `invalid-value` error for
    /// `field` saying what is wrong.
    public static func validated(_ raw: String, field: String) throws(ClusterSyncError) -> String {
        let (name, problems) = clean(raw)
        guard let problem = problems.first else { return name }
        let what = field == "label" ? "A token label" : "A name"
        switch problem {
        case .empty:
            throw ClusterSyncError(.invalidValue, "\(what) must have at least one visible character", field: field)
        case .invisible(let scalar):
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            throw ClusterSyncError(
                .invalidValue,
                "\(what) may not contain control, invisible or direction-changing characters; this one has \(code)",
                field: field)
        case .relayWord:
            throw ClusterSyncError(
                .invalidValue,
                "\(what) may not contain the word \"\(relayWord)\", which marks a change relayed by another practice (\"Practice manager via rhyl\")",
                field: field)
        case .tooLong(let count):
            throw ClusterSyncError(
                .invalidValue, "\(what) may be at most \(maxScalars) characters; this one has \(count)", field: field)
        }
    }

    /// The author of a session: the practice, and the token's label when it has one
    /// (`W95010 (Siân Evans)`). The label goes through `sanitised`, so a label stored before the
    /// rule cannot smuggle a "via" into every change the token pushes.
    public static func authenticated(practice: String, label: String?) -> String {
        guard let label = label.flatMap(sanitised) else { return practice }
        return "\(practice) (\(label))"
    }

    /// Whether `author` could be an author a server stamps (`authenticated`: a practice name of
    /// at most 64 characters, and a label as `sanitised` leaves it): no longer than both, with
    /// no control character or line break in it. A client takes an `ack`'s author only so, since
    /// it writes it on every change of the batch (a server sending 60 MB of it filled the
    /// laptop's disk). Not the whole of `isInvisible`, whose unassigned code points depend on
    /// the Unicode tables of each end: a label's emoji newer than the laptop's would have been
    /// refused at every push.
    public static func couldBeStamp(_ author: String) -> Bool {
        let scalars = author.unicodeScalars
        return (1...(64 + " ()".unicodeScalars.count + maxScalars)).contains(scalars.count)
            && !scalars.contains { [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }
    }

    // MARK: The rule

    static func clean(_ raw: some StringProtocol) -> (name: String, problems: [Problem]) {
        var problems: [Problem] = []
        // Drop what is not allowed; every run of white space becomes one space.
        var kept = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in raw.unicodeScalars {
            let invisible = isInvisible(scalar)
            if invisible, problems.isEmpty { problems.append(.invisible(scalar)) }
            // A tab or line break is refused like any control character, but where one is
            // dropped it still separates words.
            if scalar.properties.isWhitespace {
                pendingSpace = !kept.isEmpty
                continue
            }
            if invisible { continue }
            if pendingSpace {
                kept.append(" ")
                pendingSpace = false
            }
            kept.append(scalar)
        }
        // Normalised only now: what was dropped may have separated a letter from its accent.
        var name = String(kept).precomposedStringWithCanonicalMapping
        if name.split(separator: " ").contains(where: isRelayWord) { problems.append(.relayWord) }
        let count = name.unicodeScalars.count
        if count > maxScalars {
            problems.append(.tooLong(count))
            name = prefix(name, scalars: maxScalars)
        }
        // Cut at "via" last, so that cutting for length cannot leave one at the end.
        var words = name.split(separator: " ")
        if let relay = words.firstIndex(where: isRelayWord) {
            words.removeSubrange(relay...)
            name = words.joined(separator: " ")
        }
        if name.isEmpty { problems.append(.empty) }
        return (name, problems)
    }

    /// Control, format (bidi overrides and isolates, zero-width characters), private-use,
    /// unassigned, surrogate and line/paragraph separator code points, and every
    /// default-ignorable one (variation selectors, Hangul fillers, tags): none is visible
    /// on its own, and several change how the text around them is shown.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isDefaultIgnorableCodePoint { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate, .lineSeparator, .paragraphSeparator:
            // Tab and newline are controls too: in a name they are not white space but breaks.
            return true
        default:
            return false
        }
    }

    /// Whether a word reads as "via": compared after compatibility decomposition (fullwidth,
    /// mathematical letters), without accents or punctuation, in lower case, with the Greek and Cyrillic letters
    /// that look like v, i and a taken as those letters.
    static func isRelayWord(_ word: Substring) -> Bool {
        var skeleton = ""
        for scalar in String(word).decomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation:
                continue  // "v.i.a", "via," and "vía" read as "via" too
            default: break
            }
            switch scalar {
            case "\u{03BD}", "\u{0475}", "\u{1D20}", "\u{2174}": skeleton.append("v")  // ν ѵ ᴠ ⅴ
            case "\u{0456}", "\u{0131}", "\u{03B9}", "\u{0269}", "\u{04CF}", "\u{1FBE}", "\u{2170}": skeleton.append("i")  // і ı ι ɩ ӏ ι ⅰ
            case "\u{0430}", "\u{0251}", "\u{03B1}": skeleton.append("a")  // а ɑ α
            default: skeleton.unicodeScalars.append(scalar)
            }
            if skeleton.count > relayWord.count { return false }
        }
        return skeleton == relayWord
    }

    /// The longest prefix of `name` of at most `scalars` Unicode scalars that ends on a character
    /// boundary, without trailing space.
    static func prefix(_ name: String, scalars: Int) -> String {
        var out = ""
        var used = 0
        for character in name {
            let size = character.unicodeScalars.count
            if used + size > scalars { break }
            out.append(character)
            used += size
        }
        while out.last == " " { out.removeLast() }
        return out
    }
}
