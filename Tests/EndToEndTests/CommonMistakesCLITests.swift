import Foundation
import Testing

/// Transcripts of mistakes a new user makes, in the style of age's cmd/age/testdata: the command, the exact standard
/// error and the exit code (issue 12: "a transcript test per common mistake"). Each leaves the keyring as it was.
@Suite struct CommonMistakesCLITests {
    /// alice administers `team` with bob; carol and dave are her contacts, not members.
    static func world() throws -> RoomWorld {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        return w
    }

    @Test func membershipMistakes() throws {
        let w = try Self.world()
        let before = try w.snapshot("alice")
        try w.rk("alice", ["room", "add", "team", "bob"]).expect(exit: 6, stderr: """
            roomkey: error: "bob" is already a member of room "team"

            """)
        try w.rk("alice", ["room", "remove", "team", "carol"]).expect(exit: 6, stderr: """
            roomkey: error: "carol" is not a member of room "team"

            """)
        try w.rk("alice", ["room", "create", "team", "--member", "carol"]).expect(exit: 6, stderr: """
            roomkey: error: a room named "team" already exists
            roomkey: hint: choose another name; 'roomkey room list' shows the rooms you have

            """)
        try w.rk("alice", ["room", "add", "team", "zed"]).expect(exit: 4, stderr: """
            roomkey: error: no contact named "zed"
            roomkey: hint: list contacts with 'roomkey contact list'

            """)
        try w.rk("alice", ["room", "promote", "nowhere", "bob"]).expect(exit: 4, stderr: """
            roomkey: error: no room named "nowhere"
            roomkey: hint: list rooms with 'roomkey room list'

            """)
        try w.rk("alice", ["room", "add", "team"]).expect(exit: 64, stderr: """
            roomkey: error: name at least one contact, or --members-file
            roomkey: hint: see 'roomkey room add --help'

            """)
        try w.rk("alice", ["room", "members", "team"]).expect(exit: 64, stderr: """
            roomkey: error: missing expected argument '--members-file <file>'
            roomkey: hint: see 'roomkey room members --help'

            """)
        try w.rk("alice", ["room", "ad", "team", "dave"]).expect(exit: 64, stderr: """
            roomkey: error: 'ad' is not a 'roomkey room' command
            roomkey: hint: did you mean 'add'?

            """)
        #expect(try w.snapshot("alice") == before)
    }

    /// Naming the same person twice in one command is one change, not an integrity failure (it used to exit 2).
    @Test func theSameNameTwiceIsOneChange() throws {
        let w = try Self.world()
        let add = try w.rk("alice", ["room", "add", "team", "dave", "dave", "--json"])
        #expect(add.code == 0, "\(add)")
        #expect(try add.json()["epoch"] as? Int == 1)
        let remove = try w.rk("alice", ["room", "remove", "team", "dave", "dave", "--json"])
        #expect(remove.code == 0, "\(remove)")
        #expect(try remove.json()["epoch"] as? Int == 2)
        #expect((try w.show("alice")["members"] as? [Any])?.count == 2)
    }

    @Test func fileMistakes() throws {
        let w = try Self.world()
        let bundle = try #require(try w.bundles().first)
        try Data("hi\n".utf8).write(to: URL(fileURLWithPath: w.s.path("hi.txt")))
        #expect(try w.rk("alice", ["encrypt", "team", w.s.path("hi.txt"), "-o", w.s.path("hi.msg")]).code == 0)
        try w.rk("bob", ["decrypt", bundle]).expect(exit: 65, stderr: """
            roomkey: error: message is invalid: not a roomkey message
            roomkey: hint: \(bundle) is a bundle, not a room message: apply it with 'roomkey receive'

            """)
        let message = w.s.path("hi.msg")
        let r = try w.rk("bob", ["receive", message])
        #expect(r.code == 65)
        #expect(r.stderr == """
            roomkey: error: \(message): bundle is invalid: not a roomkey bundle
            roomkey: hint: \(message) is a room message, not a bundle: read it with 'roomkey decrypt'

            """)
        try w.rk("alice", ["apply", w.s.path("missing.txt")]).expect(exit: 4, stderr: "roomkey: error: cannot read \(w.s.path("missing.txt"))\n")
        try w.rk("alice", ["backup"]).expect(exit: 64, stderr: """
            roomkey: error: missing expected argument '--output <file>'
            roomkey: hint: see 'roomkey backup --help'

            """)
        try w.rk("alice", ["prune", "--older-than", "forever"]).expect(exit: 64, stderr: """
            roomkey: error: "forever" is not a duration (at most 100 years)
            roomkey: hint: write a duration like 72h, 30m, 7d or 3600s

            """)
    }

    @Test func keyringAndVerifyMistakes() throws {
        let w = try Self.world()
        try w.s.roomkey("nobody", ["room", "list"]).expect(exit: 4, stderr: """
            roomkey: error: no keyring at \(w.s.keyring("nobody"))
            roomkey: hint: create one with 'roomkey init --name HANDLE', or pass --keyring PATH

            """)
        try w.rk("alice", ["init", "--name", "alice", "--no-passphrase"]).expect(exit: 1, stderr: """
            roomkey: error: a keyring already exists at \(w.s.keyring("alice"))
            roomkey: hint: choose another path with --keyring, or remove the old keyring yourself

            """)
        try w.rk("alice", ["verify", "bob", "--confirm", "123"]).expect(exit: 64, stderr: """
            roomkey: error: --confirm takes the 60 digits of the safety number; "123" is not (3 characters)
            roomkey: hint: give all 60 digits that 'roomkey verify bob' shows (spaces between groups are fine)

            """)
        try w.rk("alice", ["contact", "show", "zed"]).expect(exit: 4, stderr: """
            roomkey: error: no contact named "zed"
            roomkey: hint: list contacts with 'roomkey contact list'

            """)
    }

    /// Reading a message twice says why it cannot be read again (issue 12, finding 6).
    @Test func readingAMessageTwiceExplainsWhy() throws {
        let w = try Self.world()
        #expect(try w.rk("bob", ["receive", w.shared, "-q"]).code == 0)
        #expect(try w.rk("alice", ["receive", w.shared, "-q"]).code == 0)
        try Data("hi\n".utf8).write(to: URL(fileURLWithPath: w.s.path("hi.txt")))
        #expect(try w.rk("alice", ["encrypt", "team", w.s.path("hi.txt"), "-o", w.s.path("hi.msg")]).code == 0)
        try w.rk("bob", ["decrypt", w.s.path("hi.msg"), "-q"]).expect(exit: 0, stderr: "", stdout: "hi\n")
        try w.rk("bob", ["decrypt", w.s.path("hi.msg")]).expect(exit: 6, stderr: """
            roomkey: error: replayed message: iteration 0 was already decrypted
            roomkey: hint: each message can be read once: its key is deleted when it is read, so a stolen keyring cannot \
            read it later; keep the plaintext (decrypt -o FILE) to read it again

            """, stdout: "")
    }

    /// `roomkey help` of a name that is no command is the usage error that name is without `help` (it printed the
    /// top-level help and exited 0; a CLI review), with the same suggestion.
    @Test func helpOfANameThatIsNoCommandIsAUsageError() throws {
        let r = try CLI.run(["help", "recieve"])
        #expect(r.code == 64, "\(r)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "roomkey: error: 'recieve' is not a 'roomkey' command\nroomkey: hint: did you mean 'receive'?\n", "\(r.stderr)")
        let nested = try CLI.run(["help", "room", "frobnicate"])
        #expect(nested.code == 64, "\(nested)")
        #expect(nested.stderr.hasPrefix("roomkey: error: 'frobnicate' is not a 'roomkey room' command\n"), "\(nested.stderr)")
        let good = try CLI.run(["help", "room", "add"])
        #expect(good.code == 0 && good.stdout.contains("USAGE: roomkey room add"), "\(good)")
    }

    /// Help is text whatever the output flags, as `room --help --json` is: `--json help room` was "unknown option".
    @Test func helpTakesTheOutputFlags() throws {
        for arguments in [["--json", "help", "room"], ["help", "room", "--json"], ["-q", "help", "room", "add"]] {
            let r = try CLI.run(arguments)
            #expect(r.code == 0 && r.stdout.contains("USAGE: roomkey room"), "\(arguments): \(r)")
            #expect(r.stderr.isEmpty, "\(arguments): \(r.stderr)")
        }
        let bad = try CLI.run(["--json", "help", "recieve"])
        #expect(bad.code == 64, "\(bad)")
        #expect(bad.stdout.contains("\"kind\""), "the error is the JSON document --json asks for: \(bad)")
    }

    /// A members file that cannot be read as names is named in the error, as a card file is.
    @Test func aBadMembersFileIsNamed() throws {
        let s = try Sandbox()
        try s.person("alice")
        let file = s.path("members.txt")
        try Data([0x62, 0x6f, 0x62, 0xff, 0x0a]).write(to: URL(fileURLWithPath: file))
        let r = try s.roomkey("alice", ["room", "create", "team", "--members-file", file])
        #expect(r.code == 65, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: members file \(file) is invalid: not UTF-8\n"), "\(r.stderr)")
    }

    /// An empty path for an option that names a file is a usage error, for every such option, as `--keyring ""` was:
    /// `-o ""` failed as a write (exit 1), `--passphrase-file ""` as a missing file (exit 4) or not at all.
    @Test(arguments: [["id", "export", "-o", ""], ["room", "list", "--passphrase-file", ""], ["id", "export", "--output="],
                      ["verify", "bob", "--qr-png", ""], ["room", "create", "t", "--members-file", ""], ["--keyring", "", "id"]])
    func anEmptyPathIsAUsageError(_ args: [String]) throws {
        let s = try Sandbox()
        try s.person("alice")
        let before = s.rawBytes(of: "alice")
        let r = try s.roomkey("alice", args)
        #expect(r.code == 64, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: ") && r.stderr.contains("needs a path"), "\(r.stderr)")
        #expect(s.rawBytes(of: "alice") == before)
    }
}
