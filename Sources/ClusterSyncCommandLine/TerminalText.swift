/// Text made safe to write to a terminal.
///
/// Values come from every practice of a cluster, and a terminal acts on the control characters
/// in what it is sent: an escape sequence in a title (`ESC ] 0 ; … BEL` retitles the window,
/// `ESC [ 2 J` clears it, others move the cursor to draw over what is shown). Values are kept as
/// written (they are data: an export must give them back), so what is neutralised is their
/// showing: every control character but line feed and tab becomes a visible picture (`␛`), and
/// only the colour sequences the CLI itself writes (`ownColours`) pass; a value's own colour
/// sequence (`ESC [ 8 m` hides the rest of the line) is shown, not obeyed.
public enum TerminalText {
    public static func neutralised(_ text: String) -> String {
        // Most output has no control character at all.
        guard text.utf8.contains(where: { $0 < 0x20 && $0 != 0x0A && $0 != 0x09 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let v = scalars[i].value
            if v == 0x1B, let end = colourSequenceEnd(scalars, from: i) {
                out.append(contentsOf: scalars[i...end])
                i = end + 1
                continue
            }
            if v == 0x0A || v == 0x09 || !(v < 0x20 || (v >= 0x7F && v <= 0x9F)) {
                out.append(scalars[i])
            } else if v < 0x20 {
                out.append(Unicode.Scalar(0x2400 + v)!)  // ␀ … ␟
            } else {
                out.append(Unicode.Scalar(0xFFFD)!)  // DEL and the C1 controls
            }
            i += 1
        }
        return String(out)
    }

    /// The colour parameters the CLI writes: `Output.Style` (reset, bold, dim, red, green,
    /// yellow) and the roll-up's heat map bands (`RollupText.background`). A new style is added here.
    public static let ownColours: Set<String> = ["0", "1", "2", "31", "32", "33", "30;41", "30;42", "30;43", "30;48;5;214"]

    /// The index of the `m` ending a colour sequence of `ownColours` starting at `start`.
    static func colourSequenceEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 2 < scalars.count, scalars[start + 1] == "[" else { return nil }
        var j = start + 2
        var parameters = ""
        while j < scalars.count, scalars[j] == ";" || ("0"..."9").contains(scalars[j]), parameters.count < 16 {
            parameters.unicodeScalars.append(scalars[j])
            j += 1
        }
        return j < scalars.count && scalars[j] == "m" && ownColours.contains(parameters) ? j : nil
    }
}
