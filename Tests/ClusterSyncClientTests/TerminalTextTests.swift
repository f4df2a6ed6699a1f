import ClusterSyncCommandLine
import Testing

/// A value written by another practice reaches this terminal as text, never as a command to it.
@Suite struct TerminalTextTests {
    @Test func controlCharactersOfValuesAreShownNotObeyed() {
        #expect(TerminalText.neutralised("Lift\u{1B}]0;pwned\u{07}\u{1B}[2J") == "Lift␛]0;pwned␇␛[2J")
        #expect(TerminalText.neutralised("csi\u{9B}2J del\u{7F}") == "csi\u{FFFD}2J del\u{FFFD}")
        // Line breaks, tabs, Welsh, pounds and the CLI's own colours pass as they are.
        let plain = "Ŵyl Dewi\n\t£12,000 \u{1B}[31mextreme\u{1B}[0m \u{1B}[30;48;5;214m H \u{1B}[0m"
        #expect(TerminalText.neutralised(plain) == plain)
        // A colour a value carries that the CLI never writes (hidden, black on black) is shown.
        #expect(TerminalText.neutralised("Lift\u{1B}[8m owner") == "Lift␛[8m owner")
        #expect(TerminalText.neutralised("\u{1B}[30;40mx") == "␛[30;40mx")
    }
}
