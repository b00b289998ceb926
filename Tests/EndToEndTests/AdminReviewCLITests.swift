import Foundation
import Testing

/// Findings of a review of several admins, `apply`, the outbox and `room forget`, each as it was found.
@Suite struct AdminReviewCLITests {
    /// alice's room "team" forked at alice: bob (a second admin) and alice each committed epoch 2.
    static func forkedAtAlice() throws -> RoomWorld {
        let w = try RoomWorld()
        try w.twoAdminTeam(members: ["bob", "carol"], admin: "bob", promotedTo: ["bob", "carol"])
        #expect(try w.rk("alice", ["room", "promote", "team", "carol", "-o", w.s.path("a2")]).code == 0)
        #expect(try w.rk("bob", ["room", "demote", "team", "alice", "-o", w.s.path("b2")]).code == 0)
        #expect(try w.rk("alice", ["receive", w.s.path("b2")]).code == 2)
        #expect(try w.show("alice")["forked"] as? Bool == true)
        return w
    }

    /// A line of `apply` about a forked room exits 2, as the direct command does, not 65 "fix the line".
    @Test func applyOnAForkedRoomExitsAsTheDirectCommand() throws {
        let w = try Self.forkedAtAlice()
        let direct = try w.rk("alice", ["room", "rotate", "team"])
        #expect(direct.code == 2, "\(direct)")
        let before = try w.snapshot("alice")
        for line in ["rotate team\n", "add team dave\n"] {
            let script = try w.rk("alice", ["apply", "-"], stdin: Data(line.utf8))
            #expect(script.code == 2, "\(script)")
            #expect(script.stderr.contains("roomkey: error: line 1: "), "\(script)")
            #expect(!script.stderr.contains("fix the line"), "\(script)")
        }
        #expect(try w.snapshot("alice") == before)
    }

    /// `room resolve` by a member who is not an admin is refused (exit 6), not reported as someone's commit (exit 2).
    @Test func resolveByAMemberIsRefused() throws {
        let w = try RoomWorld()
        try w.twoAdminTeam(members: ["bob", "carol"], admin: "bob", promotedTo: ["bob", "carol"])
        #expect(try w.rk("alice", ["room", "promote", "team", "carol", "-o", w.s.path("a2")]).code == 0)
        #expect(try w.rk("bob", ["room", "demote", "team", "alice", "-o", w.s.path("b2")]).code == 0)
        #expect(try w.rk("carol", ["receive", w.s.path("b2"), w.s.path("a2")]).code == 2)
        #expect(try w.show("carol")["forked"] as? Bool == true)
        let before = try w.snapshot("carol")
        let r = try w.rk("carol", ["room", "resolve", "team"])
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr.contains("you are not an admin of this room"), "\(r)")
        #expect(try w.snapshot("carol") == before)
    }

    /// `room forget` of a room whose commit was recorded but never written (the command killed after its transaction)
    /// writes that bundle first: dropping it left the other members at the epoch before, for good.
    @Test func forgetWritesTheRoomsUnsentCommitFirst() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["bob", "carol"])
        let killed = try w.s.roomkey("alice", ["room", "remove", "team", "carol"],
                                     env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": "after-commit"])
        #expect(killed.code == SIGKILL, "\(killed)")
        let before = Set(try w.bundles())
        let forget = try w.rk("alice", ["room", "forget", "team", "--force"])
        #expect(forget.code == 0, "\(forget)")
        let written = Set(try w.bundles()).subtracting(before)
        #expect(written.count == 1, "\(written)")
        #expect(try w.rk("bob", ["receive"] + written.sorted()).code == 0)
        #expect(try w.show("bob")["epoch"] as? Int == 1)
    }
}
