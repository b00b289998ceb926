import Foundation
import Testing
@testable import roomkey

/// A line on stderr (error, warning, note, hint) is cut to `Output.maxLineCharacters` characters before escaping, with
/// a count of the rest; `--json` keeps the message whole (left from the review of untrusted text: error lines quoting
/// input had no bound).
@Suite struct ErrorLineBoundTests {
    @Test func aShortLineIsOnlyEscaped() {
        #expect(Output.bounded("no room named \"a\u{1b}b\"") == "no room named \"a\\u{1b}b\"")
        let limit = String(repeating: "x", count: Output.maxLineCharacters)
        #expect(Output.bounded(limit) == limit)
    }

    @Test func aLongLineIsCutAndCounted() {
        let long = String(repeating: "a", count: Output.maxLineCharacters + 904)
        #expect(Output.bounded(long) == String(repeating: "a", count: Output.maxLineCharacters) + " ... (904 more characters not shown)")
        // The cut falls between characters, never inside an escape: 4,096 ESCs are kept, each escaped whole.
        let escapes = String(repeating: "\u{1b}", count: Output.maxLineCharacters + 1)
        #expect(Output.bounded(escapes) == String(repeating: "\\u{1b}", count: Output.maxLineCharacters)
                + " ... (1 more character not shown)")
        // Code points are counted, not characters drawn: one character can hold any number of combining marks (a review
        // found "q" and 30,000 U+0301 kept whole as one character, a 60,033-byte line).
        let marks = "q" + String(repeating: "\u{301}", count: 30_000)
        #expect(Output.bounded(marks) == "q" + String(repeating: "\u{301}", count: Output.maxLineCharacters - 1)
                + " ... (\(30_001 - Output.maxLineCharacters) more characters not shown)")
    }

    @Test func anErrorQuotingLongInputStaysOneBoundedLine() throws {
        let s = try Sandbox()
        try s.person("alice")
        let name = String(repeating: "q", count: 20_000)
        let r = try s.roomkey("alice", ["room", "show", name])
        #expect(r.code == 4, "\(r.code)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count <= 2 && lines.allSatisfy { $0.count < Output.maxLineCharacters + 100 }, "\(lines.map(\.count))")
        #expect(r.stderr.hasPrefix("roomkey: error: no room named \"qqq") && r.stderr.contains("more characters not shown)"))
        let json = try s.roomkey("alice", ["room", "show", name, "--json"])
        let message = try #require((try json.json()["error"] as? [String: Any])?["message"] as? String)
        #expect(message.contains(name), "JSON keeps the message whole")
    }
}
