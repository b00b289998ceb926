import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// The batch script parser: verbs, comments, and errors that name their line (grouping by room is the keyring's:
/// a room may be named by name or by id).
struct ApplyScriptTests {
    @Test func parsesVerbsCommentsAndBlankLines() throws {
        let s = try ApplyScript(parsing: "# header\ncreate eng bob carol\n\n  add eng dave   # trailing\nrotate ops\r\npromote eng bob\n")
        #expect(s.lines.map(\.number) == [2, 4, 5, 6])
        #expect(s.lines.map(\.verb) == [.create, .add, .rotate, .promote])
        #expect(s.lines[0].arguments == ["bob", "carol"])
        #expect(s.lines[1].arguments == ["dave"])
        #expect(s.lines.map(\.room) == ["eng", "eng", "ops", "eng"])
    }

    @Test(arguments: [("frob eng\n", 1, "unknown verb"), ("create eng\nadd eng\n", 2, "needs at least one contact"),
                      ("remove\n", 1, "needs a room"), ("rotate eng bob\n", 1, "rotate takes only a room"),
                      ("\n\npromote eng\n", 3, "needs at least one member"),
                      // Only a line feed ends a line, as `wc -l` counts them (a hostile review: a vertical tab, form feed
                      // or U+2028 made later errors name other lines).
                      ("rotate eng\u{2028}\u{0B}\u{0C}\nfrob eng\n", 2, "unknown verb"),
                      ("rotate eng\r\nfrob eng\r\n", 2, "unknown verb"),
                      // A lone carriage return still ends a line (an old Mac file), so none sits inside a word (found by
                      // Fuzz/FuzzApplyScript: a word ending in CR, written back, joined the next line feed).
                      ("promote eng bob\r\r\r\r\nrotate eng\rfrob eng\n", 6, "unknown verb")])
    func badLinesAreNamed(script: String, line: Int, reason: String) {
        do throws(ScriptError) {
            _ = try ApplyScript(parsing: script)
            Issue.record("accepted: \(script)")
        } catch {
            guard case let .line(number, why) = error else { return }
            #expect(number == line)
            #expect(why.contains(reason))
        }
    }

    /// A space, tab or `#` followed by a combining mark is one Swift character, but still a separator (found by fuzzing:
    /// `add eng bob \u{301}carol` used to name one contact "bob \u{301}carol", and `#\u{301}` was no comment).
    @Test func separatorsBeforeCombiningMarksStillSeparate() throws {
        let s = try ApplyScript(parsing: "add eng bob \u{301}carol\t\u{30D}dave\nrotate eng #\u{301} comment\n")
        #expect(s.lines[0].arguments == ["bob", "\u{301}carol", "\u{30D}dave"])
        #expect(s.lines[1].verb == .rotate && s.lines[1].arguments.isEmpty)
    }

    @Test func scriptErrorsAreMalformedInput() {
        #expect(ScriptError.line(3, "x").category == .malformed)
        #expect(ScriptError.line(3, "x").message == "line 3: x")
    }
}
