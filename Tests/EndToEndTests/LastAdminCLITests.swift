import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A change of your own that the log's rules do not allow is refused (exit 6), by a command and by an `apply` line
/// alike (found by a hostile review: the last admin leaving or stepping down exited 2, "rejected", and 65 in `apply`).
@Suite struct LastAdminCLITests {
    @Test(arguments: [
        (["room", "leave", "team"], "the change would leave the room without an admin"),
        (["room", "demote", "team", "alice"], "the change would leave the room without an admin"),
        (["room", "remove", "team", "alice"], "an author removes itself with leave"),
    ])
    func aRuleOfTheLogRefusesTheChange(_ args: [String], _ reason: String) throws {
        let w = try RoomWorld.team(["bob"])
        let before = try w.snapshot("alice")
        let r = try w.rk("alice", args + ["--json"])
        #expect(r.code == 6, "\(r)")
        let error = try #require(try r.json()["error"] as? [String: Any])
        #expect(error["kind"] as? String == "refused")
        #expect((error["message"] as? String ?? "").contains(reason))
        #expect(try w.snapshot("alice") == before)
        // The same change as a line of a script.
        let script = w.s.path("script")
        try Data((args.dropFirst().joined(separator: " ") + "\n").utf8).write(to: URL(fileURLWithPath: script))
        if args[1] != "leave" {
            let applied = try w.rk("alice", ["apply", script])
            #expect(applied.code == 6, "\(applied)")
            #expect(applied.stderr.contains("line 1: "), "\(applied.stderr)")
        }
    }

    /// A room or contact this keyring does not have: exit 4 from the direct command and from an `apply` line alike
    /// (DESIGN §5; a CLI review found 4 and 65), the line named, nothing changed.
    @Test(arguments: [
        (["room", "add", "nosuchroom", "bob"], "no room named \"nosuchroom\""),
        (["room", "add", "team", "nobody"], "no contact named \"nobody\""),
    ])
    func aRoomOrContactThatIsNotHereIsNotFoundInAScriptToo(_ args: [String], _ reason: String) throws {
        let w = try RoomWorld.team(["bob"])
        let before = try w.snapshot("alice")
        let direct = try w.rk("alice", args)
        #expect(direct.code == 4, "\(direct)")
        #expect(direct.stderr.contains(reason), "\(direct.stderr)")
        let script = w.s.path("script")
        try Data(("rotate team\n" + args.dropFirst().joined(separator: " ") + "\n").utf8).write(to: URL(fileURLWithPath: script))
        let applied = try w.rk("alice", ["apply", script])
        #expect(applied.code == 4, "\(applied)")
        #expect(applied.stderr.hasPrefix("roomkey: error: line 2: "), "\(applied.stderr)")
        #expect(applied.stderr.contains(reason), "\(applied.stderr)")
        #expect(try w.snapshot("alice") == before)
    }

    /// A member who is not an admin is told so, with the next step.
    @Test func aMemberWhoIsNotAnAdminIsRefusedWithTheNextStep() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let r = try w.rk("bob", ["room", "remove", "team", "carol"])
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr.contains("you are not an admin of this room"), "\(r.stderr)")
        #expect(r.stderr.contains("roomkey: hint: ask an admin of the room to make this change"), "\(r.stderr)")
    }
}
