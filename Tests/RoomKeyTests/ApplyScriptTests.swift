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

    /// `#` is valid inside names: it starts a comment only at the start of a word (a review: `add proj carol#work` added
    /// the contact "carol", and the dry run did not say who).
    @Test func aHashInsideAWordIsPartOfTheName() throws {
        let s = try ApplyScript(parsing: "add proj#1 carol#work #carol\nadd proj carol# #x\n#add proj bob\n\tremove proj dave\t# gone\n")
        #expect(s.lines.map(\.room) == ["proj#1", "proj", "proj"])
        #expect(s.lines.map(\.arguments) == [["carol#work"], ["carol#"], ["dave"]])
    }

    /// Names are bounded per line (as a room is) and over the script (a review: one line of 400,000 names took 1.1 GB).
    @Test func namesAreBoundedPerLineAndInAll() {
        let long = "add eng " + Array(repeating: "dave", count: Roster.maxMembers + 1).joined(separator: " ") + "\n"
        #expect(throws: ScriptError.line(1, "more than \(Roster.maxMembers) names on one line (a room holds at most that many members)")) {
            try ApplyScript(parsing: long)
        }
        // A members line's admins (named among its members too) and its flags do not count twice (a review).
        let members = (0..<60_000).map { "u\($0)" }
        let withAdmins = "members eng " + members.joined(separator: " ") + " --admins " + members.prefix(50_000).joined(separator: " ") + "\n"
        #expect((try? ApplyScript(parsing: withAdmins))?.lines.first?.admins?.count == 50_000)
        let fine = "add eng " + Array(repeating: "dave", count: Roster.maxMembers).joined(separator: " ") + "\n"
        let many = String(repeating: fine, count: ApplyScript.maxNames / Roster.maxMembers) + "add eng erin\n"
        #expect(throws: ScriptError.line(ApplyScript.maxNames / Roster.maxMembers + 1, "the script names more than \(ApplyScript.maxNames) members in all")) {
            try ApplyScript(parsing: many)
        }
        // Flags are not names (review r: `--if-missing` counted as a member toward the script's limit).
        let flagged = "add eng --if-missing " + Array(repeating: "dave", count: Roster.maxMembers).joined(separator: " ") + "\n"
        let allowed = String(repeating: flagged, count: ApplyScript.maxNames / Roster.maxMembers)
        #expect((try? ApplyScript(parsing: allowed))?.lines.count == ApplyScript.maxNames / Roster.maxMembers)
    }

    @Test func scriptErrorsAreMalformedInput() {
        #expect(ScriptError.line(3, "x").category == .malformed)
        #expect(ScriptError.line(3, "x").message == "line 3: x")
    }
}
