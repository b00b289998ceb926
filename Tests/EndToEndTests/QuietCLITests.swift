import Foundation
import Testing

/// `-q` prints nothing but errors and the data asked for (issue 12, finding 10 and deliverable 4): every command that
/// changes something is silent on success, a listing still prints, and `--json` still prints its document.
@Suite struct QuietCLITests {
    /// Each of these commands succeeds with `-q`, and must print nothing on stdout or stderr.
    @Test func changesAreSilentWithQuiet() throws {
        let w = try RoomWorld()
        let members = w.s.path("members.txt")
        try Data("bob\ncarol\n".utf8).write(to: URL(fileURLWithPath: members))
        let script = w.s.path("script.txt")
        try Data("add team dave\n".utf8).write(to: URL(fileURLWithPath: script))
        let fresh = try Sandbox()
        // A warning is never silenced: it asks the user to act.
        try fresh.roomkey("erin", ["init", "--name", "erin", "--no-passphrase", "-q"]).expect(exit: 0, stderr: """
            roomkey: warning: the keyring key is stored unwrapped: anyone who can read \(fresh.keyring("erin")) can use it

            """, stdout: "")
        try Data("pass\n".utf8).write(to: URL(fileURLWithPath: fresh.path("pass")))
        try fresh.roomkey("erin", ["passwd", "--new-passphrase-file", fresh.path("pass"), "-q"]).expect(exit: 0, stderr: "", stdout: "")
        let steps: [[String]] = [
            ["room", "create", "team", "--member", "bob"],
            ["room", "add", "team", "carol"],
            ["room", "promote", "team", "carol"],
            ["room", "demote", "team", "carol"],
            ["room", "remove", "team", "carol"],
            ["room", "members", "team", "--members-file", members],
            ["room", "rotate", "team"],
            ["room", "set", "team", "--retention", "30d"],
            ["apply", script],
            ["room", "add", "team", "dave", "--if-missing"],
            ["room", "remove", "team", "zed", "--if-present"],
            ["outbox", "flush"],
            ["prune"],
            ["audit", "--verify"],
            ["backup", "-o", w.s.path("alice.backup")],
            ["room", "remove", "team", "dave"],
            ["contact", "remove", "dave"],
        ]
        for step in steps {
            try w.rk("alice", step + ["-q"]).expect(exit: 0, stderr: "", stdout: "")
        }
        // The same commands still print their document when JSON was asked for.
        let json = try w.rk("alice", ["room", "rotate", "team", "-q", "--json"])
        #expect(json.code == 0, "\(json)")
        #expect(try json.json()["epoch"] != nil, "\(json)")
    }

    /// A listing is the data asked for: `-q` keeps it.
    @Test func listingsStillPrintWithQuiet() throws {
        let w = try RoomWorld()
        try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).expect(exit: 0, stderr: "", stdout: "")
        let list = try w.rk("alice", ["room", "list", "-q"])
        #expect(list.code == 0)
        #expect(list.stdout.contains("team  "), "\(list)")
        let show = try w.rk("alice", ["room", "show", "team", "-q"])
        #expect(show.stdout.contains("bob"), "\(show)")
    }

    /// A dry run's plan is the data asked for.
    @Test func aDryRunStillPrintsItsPlanWithQuiet() throws {
        let w = try RoomWorld()
        try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).expect(exit: 0, stderr: "", stdout: "")
        let members = w.s.path("members.txt")
        try Data("bob\ncarol\n".utf8).write(to: URL(fileURLWithPath: members))
        let plan = try w.rk("alice", ["room", "members", "team", "--members-file", members, "--dry-run", "-q"])
        #expect(plan.code == 0 && plan.stdout.contains("would change"), "\(plan)")
        let script = w.s.path("script.txt")
        try Data("add team dave\n".utf8).write(to: URL(fileURLWithPath: script))
        let applied = try w.rk("alice", ["apply", script, "--dry-run", "-q"])
        #expect(applied.code == 0 && applied.stdout.contains("would commit team"), "\(applied)")
    }

    /// Errors are never silenced.
    @Test func errorsStillPrintWithQuiet() throws {
        let w = try RoomWorld()
        try w.rk("alice", ["room", "add", "nowhere", "bob", "-q"]).expect(exit: 4, stderr: """
            roomkey: error: no room named "nowhere"
            roomkey: hint: list rooms with 'roomkey room list'

            """, stdout: "")
    }
}
