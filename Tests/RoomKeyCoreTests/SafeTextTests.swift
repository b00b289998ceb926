import Testing
@testable import RoomKeyCore

/// Untrusted text on a terminal (#11 finding 1): what is escaped in text output, and what a message may hold to be
/// written raw to a terminal.
struct SafeTextTests {
    /// (what, input, expected output of `SafeText.escaped`).
    static let escapeCases: [(String, String, String)] = [
        ("plain ASCII", "bundles/2026-alice.rkb", "bundles/2026-alice.rkb"),
        ("an OSC title sequence", "a\u{1B}]0;owned\u{07}b", "a\\u{1b}]0;owned\\u{7}b"),
        ("clear screen", "\u{1B}[2J\u{1B}[H", "\\u{1b}[2J\\u{1b}[H"),
        ("colours", "\u{1B}[31mred\u{1B}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
        ("CR and erase line draw a forged line", "x\r\u{1B}[2Kapplied  forged", "x\\u{d}\\u{1b}[2Kapplied  forged"),
        ("a newline splits one line in two", "a\nb", "a\\u{a}b"),
        ("a tab", "a\tb", "a\\u{9}b"),
        ("DEL", "a\u{7F}", "a\\u{7f}"),
        ("a C1 control (CSI)", "a\u{9B}2J", "a\\u{9b}2J"),
        ("right-to-left override", "invoice\u{202E}fdp.exe", "invoice\\u{202e}fdp.exe"),
        ("a bidi isolate", "\u{2067}x\u{2069}", "\\u{2067}x\\u{2069}"),
        ("zero-width space", "bob\u{200B}", "bob\\u{200b}"),
        ("byte order mark", "\u{FEFF}bob", "\\u{feff}bob"),
        ("a line separator", "a\u{2028}b", "a\\u{2028}b"),
        ("a soft hyphen (invisible)", "bo\u{AD}b", "bo\\u{ad}b"),
        ("letters of any script stay", "josé 日本 аlice 🙂", "josé 日本 аlice 🙂"),
        ("no-break space is visible as a space and stays", "a\u{A0}b", "a\u{A0}b"),
        ("a backslash is doubled", "a\\b", "a\\\\b"),
        ("an escape spelled out in the input stays distinct from the character", "\\u{1b}[2J", "\\\\u{1b}[2J"),
    ]

    @Test(arguments: escapeCases)
    func escaped(_ what: String, _ input: String, _ expected: String) {
        #expect(SafeText.escaped(input) == expected, "\(what)")
        #expect(!SafeText.escaped(input).unicodeScalars.contains(where: SafeText.isHidden), "\(what): nothing hidden is left")
    }

    /// Escaping is unambiguous: different inputs never show the same text.
    @Test func differentInputsShowDifferently() {
        let inputs = ["a\nb", "a\\u{a}b", "a\\\\u{a}b", "\u{1B}[2J", "\\u{1b}[2J", "bob", "bob\u{200B}", "bob\u{FEFF}"]
        let shown = inputs.map(SafeText.escaped)
        #expect(Set(shown.map { Array($0.utf8) }).count == inputs.count, "\(shown)")
    }

    /// (what, message text, may be written raw to a terminal).
    static let terminalCases: [(String, String, Bool)] = [
        ("lines", "hello\nworld\n", true),
        ("CRLF line ends", "a\r\nb\r\n", true),
        ("tabs", "a\tb", true),
        ("a lone CR overdraws the line", "ok\rforged", false),
        ("a final CR", "ok\r", false),
        ("ESC", "\u{1B}[2J", false),
        ("a C1 control", "a\u{9B}2J", false),
        ("right-to-left override", "abc\u{202E}def", false),
        ("a bidi isolate", "\u{2066}x", false),
        ("right-to-left text", "مرحبا بالعالم", true),
        ("an emoji ZWJ sequence", "👨‍👩‍👧", true),
    ]

    @Test(arguments: terminalCases)
    func terminalSafe(_ what: String, _ text: String, _ safe: Bool) {
        #expect(SafeText.isTerminalSafe(text) == safe, "\(what)")
    }

    /// A name list: each name quoted, a quote inside doubled (by scalar), so no name reads as two.
    @Test func quotedListsDoubleQuotesInsideNames() {
        #expect(SafeText.quotedList(["bob, carol", "dave"]) == "\"bob, carol\", \"dave\"")
        #expect(SafeText.quotedList(["ev\"e, \"bob"]) == "\"ev\"\"e, \"\"bob\"")
        #expect(SafeText.quotedList(["a\"\u{301}b"]) == "\"a\"\"\u{301}b\"")
        #expect(SafeText.quotedList([String]()) == "")
    }
}
