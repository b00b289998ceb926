import Foundation
import Testing

/// A group of short flags holding `h` shows help only when every letter of it is a flag of the command; an unknown
/// letter is a usage error (swift-argument-parser printed help and exited 0 for `remote add r1 -uhoh`, adding nothing).
/// The argument parser's own line breaks are folded into one error line.
@Suite struct GroupedHelpCLITests {
    @Test func aGroupWithAnUnknownLetterIsAUsageError() throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.roomkey("alice", ["remote", "add", "r1", "-uhoh"]).expect(exit: 64, stderr: """
            roomkey: error: unknown option '-u' in '-uhoh'
            roomkey: hint: see 'roomkey remote add --help'

            """)
        try s.roomkey("alice", ["room", "show", "-hz"]).expect(exit: 64, stderr: """
            roomkey: error: unknown option '-z' in '-hz'
            roomkey: hint: see 'roomkey room show --help'

            """)
        try s.roomkey("alice", ["-hx"]).expect(exit: 64, stderr: """
            roomkey: error: unknown option '-x' in '-hx'
            roomkey: hint: see 'roomkey --help'

            """)
        let json = try s.roomkey("alice", ["--json", "remote", "add", "r1", "-hu"])
        #expect(json.code == 64)
        let error = try #require(try json.json()["error"] as? [String: Any])
        #expect(error["kind"] as? String == "usage")
        #expect(error["message"] as? String == "unknown option '-u' in '-hu'")
        // Nothing was added.
        let list = try s.roomkey("alice", ["remote", "list", "--json"])
        #expect(list.code == 0 && !list.stdout.contains("r1"), "\(list)")
    }

    @Test func aGroupOfKnownFlagsStillShowsHelp() throws {
        let s = try Sandbox()
        try s.person("alice")
        for arguments in [["id", "-qh"], ["-qh", "id"], ["room", "show", "x", "-hq"], ["room", "show", "-h"]] {
            let r = try s.roomkey("alice", arguments)
            #expect(r.code == 0 && r.stdout.contains("USAGE:") && r.stderr.isEmpty, "\(arguments): \(r)")
        }
    }

    @Test func theParsersOwnLineBreaksAreFolded() throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.roomkey("alice", ["room", "create", "x", "-oh"]).expect(exit: 64, stderr: """
            roomkey: error: unknown option '-oh' or: Missing value for '-o <bundle>' in '-oh'
            roomkey: hint: see 'roomkey room create --help'

            """)
        // A line feed inside a quoted argument is the argument's own: it stays, escaped.
        try s.roomkey("alice", ["room", "create", "x", "--bo\n  gus"]).expect(exit: 64, stderr: """
            roomkey: error: unknown option '--bo\\u{a}  gus'
            roomkey: hint: see 'roomkey room create --help'

            """)
    }
}
