import Foundation
import Testing

/// A mistyped subcommand gets the closest real ones, and usage errors point at the subcommand's own help
/// (issue 12, finding 3).
@Suite struct SubcommandSuggestionCLITests {
    @Test func aMistypedCommandSuggestsTheClosest() throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.roomkey("alice", ["recieve", "a.bundle", "b.bundle"]).expect(exit: 64, stderr: """
            roomkey: error: 'recieve' is not a 'roomkey' command
            roomkey: hint: did you mean 'receive'?

            """)
        try s.roomkey("alice", ["room", "ad", "team", "bob"]).expect(exit: 64, stderr: """
            roomkey: error: 'ad' is not a 'roomkey room' command
            roomkey: hint: did you mean 'add'?

            """)
        try s.roomkey("alice", ["contcat", "list"]).expect(exit: 64, stderr: """
            roomkey: error: 'contcat' is not a 'roomkey' command
            roomkey: hint: did you mean 'contact'?

            """)
    }

    @Test func aWordFarFromEveryCommandPointsAtTheHelp() throws {
        let s = try Sandbox()
        try s.roomkey("alice", ["xyzzy"]).expect(exit: 64, stderr: """
            roomkey: error: 'xyzzy' is not a 'roomkey' command
            roomkey: hint: see 'roomkey --help' for its commands

            """)
    }

    @Test func withJSONTheErrorIsAlsoADocument() throws {
        let s = try Sandbox()
        let r = try s.roomkey("alice", ["--json", "recieve"])
        #expect(r.code == 64)
        let error = try #require(try r.json()["error"] as? [String: Any])
        #expect(error["kind"] as? String == "usage")
        #expect(error["message"] as? String == "'recieve' is not a 'roomkey' command")
    }

    @Test(arguments: [
        (["room", "add"], "roomkey room add"),
        (["contact", "show"], "roomkey contact show"),
        (["receive", "--bogus"], "roomkey receive"),
        (["--keyring", "k", "room", "promote", "team"], "roomkey room promote"),
        (["--bogus"], "roomkey"),
    ])
    func usageHintsNameTheSubcommandsOwnHelp(arguments: [String], command: String) throws {
        let s = try Sandbox()
        let r = try s.roomkey("alice", arguments)
        #expect(r.code == 64, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: "), "\(r)")
        #expect(r.stderr.hasSuffix("roomkey: hint: see '\(command) --help'\n"), "\(r)")
        #expect(!r.stderr.contains("roomkey help"), "\(r)")
    }
}
