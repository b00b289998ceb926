import Foundation
import Testing

/// A room someone else makes can be named like a room the user holds ("tеam" with a Cyrillic е, or "team" itself):
/// every line that names it then reads as that room. Joining such a room warns, naming both (a review left this open:
/// handles had a lookalike check, room names none).
@Suite struct RoomNameLookalikeCLITests {
    @Test func joiningARoomNamedLikeAHeldOneWarns() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        try w.exchange(["bob"])
        let team = try #require(try w.show("bob")["room_id"] as? String)
        // dave and bob know each other; dave makes rooms with bob named like alice's.
        #expect(try w.rk("bob", ["contact", "add", "-", "-q"], stdin: Data(try w.rk("dave", ["id", "export"]).stdout.utf8)).code == 0)
        #expect(try w.rk("dave", ["contact", "add", "-", "-q"], stdin: Data(try w.rk("bob", ["id", "export"]).stdout.utf8)).code == 0)
        for (name, warned) in [("t\u{0435}am", true), ("team", true), ("Team", false), ("other", false)] {
            let genesis = w.s.path("g-\(UUID().uuidString)")
            #expect(try w.rk("dave", ["room", "create", name, "--member", "bob", "-o", genesis, "-q"]).code == 0)
            let r = try w.rk("bob", ["receive", genesis])
            #expect(r.code == 0, "\(r)")
            let said = r.stderr.contains("named like it: \"team\" (\(team))")
            #expect(said == warned, "\(name): \(r)")
            if warned { #expect(r.stderr.contains("roomkey: warning: the new room \""), "\(r)") }
        }
        // Receiving the same room again (a later bundle of it) does not warn again.
        #expect(try w.rk("alice", ["room", "rotate", "team", "-o", w.s.path("rot"), "-q"]).code == 0)
        let again = try w.rk("bob", ["receive", w.s.path("rot")])
        #expect(again.code == 0 && !again.stderr.contains("named like"), "\(again)")
    }

    /// Through a git remote too: `sync` printed no result's warning, and its JSON had no field for one (a review).
    @Test(.enabled(if: GitWorld.gitAvailable, "needs the system git"))
    func syncWarnsToo() throws {
        let w = try GitSyncCLITests.team()
        let team = try #require(try w.show("bob")["room_id"] as? String)
        #expect(try w.rk("dave", ["room", "create", "t\u{0435}am", "--member", "bob", "-q"]).code == 0)
        try w.sync("dave")
        let r = try w.rk("bob", ["sync"])
        #expect(r.code == 0, "\(r)")
        #expect(r.stderr.contains("named like it: \"team\" (\(team))"), "\(r)")
        #expect(try w.rk("dave", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        try w.sync("dave")
        let doc = try w.sync("bob")
        let warnings = (doc["received"] as? [[String: Any]] ?? []).compactMap { $0["warning"] as? String }
        #expect(warnings.contains { $0.contains("named like it: \"team\" (\(team))") }, "\(doc)")
        let again = try w.rk("bob", ["sync"])
        #expect(again.code == 0 && !again.stderr.contains("named like it"), "\(again)")
    }
}
