import Testing
import RoomKeyCore
@testable import roomkey

/// `Output.escapedLines`, the fast path of streamed listings, gives exactly what escaping each line with
/// `SafeText.escaped` gives: for plain ASCII, controls, backslashes, non-ASCII text, CR, CR LF and empty lines.
struct StreamEscapingTests {
    /// The rule the fast path must equal: split at line feeds (as characters), escape each line, join.
    static func reference(_ chunk: String) -> String {
        chunk.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escaped(String($0)) }.joined(separator: "\n")
    }

    @Test(arguments: [
        "", "\n", "\n\n", "alice  bob\ncarol\n", "no newline at the end",
        "a\u{1b}[31mred\u{1b}[0m\n", "back\\slash\n", "\\u{1b}\n", "tab\there\n", "del\u{7f}\n",
        "élodie\n日本\n", "bidi \u{202e}evil\n", "zero\u{200b}width\n", "line\u{2028}separator\n",
        "cr\ronly\n", "crlf\r\nnext\n", "\r\n", "mixed é\r\n\u{1b}\n", "combining e\u{301}\n",
    ])
    func fastPathEqualsTheLineByLineRule(chunk: String) {
        #expect(Output.escapedLines(chunk) == Self.reference(chunk), "\(chunk.debugDescription)")
    }
}
