import Foundation
import Testing

/// Two admins' commits for one epoch, each delivered to one half of the room: the next commit of one branch, reaching a
/// member of the other, marks the room forked at the epoch they split (a protocol review: with the same members on both
/// branches nothing showed the fork, sender keys crossed over, and the next commits were only refused as unchained).
@Suite struct ForkAcrossBranchesCLITests {
    @Test func theNextCommitOfTheOtherBranchMarksTheRoomForked() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.exchange()
        #expect(try w.show("dave")["epoch"] as? Int == 1)
        // Epoch 2 twice: alice's reaches carol only, bob's dave only.
        let a2 = w.s.path("a2.roomkey"), b2 = w.s.path("b2.roomkey"), a3 = w.s.path("a3.roomkey")
        #expect(try w.rk("alice", ["room", "promote", "team", "carol", "-o", a2]).code == 0)
        #expect(try w.rk("bob", ["room", "promote", "team", "dave", "-o", b2]).code == 0)
        #expect(try w.rk("carol", ["receive", a2]).code == 0)
        #expect(try w.rk("dave", ["receive", b2]).code == 0)
        #expect(try w.show("dave")["forked"] as? Bool == false)
        // Alice's next commit (epoch 3 of her branch) reaches dave.
        #expect(try w.rk("alice", ["room", "demote", "team", "carol", "-o", a3]).code == 0)
        let r = try w.rk("dave", ["receive", a3])
        #expect(r.code == 2 && r.stderr.contains("fork at epoch 2"), "\(r.stdout) \(r.stderr)")
        let dave = try w.show("dave")
        #expect(dave["forked"] as? Bool == true && dave["epoch"] as? Int == 2, "\(dave)")
        let msg = w.s.path("dave.msg")
        #expect(try w.rk("dave", ["encrypt", "team", "-o", msg], stdin: Data("split".utf8)).code != 0, "a forked room distributes nothing")
    }

    /// A branch resolved here, replayed later, changes nothing: its next commit was made before the commits that
    /// followed the resolution (a review of the rule above: replaying it marked the room forked again, and froze it).
    @Test func aResolvedBranchReplayedDoesNotMarkTheRoomAgain() throws {
        let w = try RoomWorld()
        let t0 = 1_800_000_000
        func at(_ who: String, _ seconds: Int, _ args: [String]) throws -> Run {
            try w.s.roomkey(who, args, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_NOW": String(t0 + seconds)])
        }
        #expect(try at("alice", 0, ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        for p in ["bob", "carol", "dave"] { #expect(try at(p, 1, ["receive"] + (try w.bundles())).code == 0) }
        #expect(try at("alice", 10, ["room", "promote", "team", "bob", "-o", w.s.path("a1")]).code == 0)
        for p in ["bob", "carol", "dave"] { #expect(try at(p, 11, ["receive", w.s.path("a1")]).code == 0) }
        // Epoch 2 twice; bob's branch goes on to epochs 3 and 4.
        #expect(try at("alice", 20, ["room", "promote", "team", "carol", "-o", w.s.path("a2")]).code == 0)
        #expect(try at("bob", 21, ["room", "promote", "team", "dave", "-o", w.s.path("b2")]).code == 0)
        #expect(try at("bob", 22, ["room", "demote", "team", "dave", "-o", w.s.path("b3")]).code == 0)
        #expect(try at("bob", 23, ["room", "promote", "team", "dave", "-o", w.s.path("b4")]).code == 0)
        #expect(try at("carol", 30, ["receive", w.s.path("a2")]).code == 0)
        #expect(try at("carol", 31, ["receive", w.s.path("b3")]).code == 2, "bob's next commit shows the fork")
        #expect(try w.show("carol")["forked"] as? Bool == true)
        // alice keeps her branch and commits on it; carol takes that commit, which clears her mark.
        #expect(try at("alice", 40, ["receive", w.s.path("b2")]).code == 2)
        #expect(try at("alice", 41, ["room", "resolve", "team"]).code == 0)
        #expect(try at("alice", 42, ["room", "promote", "team", "dave", "-o", w.s.path("a3")]).code == 0)
        #expect(try at("carol", 43, ["receive", w.s.path("a3")]).code == 0)
        #expect(try w.show("carol")["forked"] as? Bool == false && w.show("carol")["epoch"] as? Int == 3)
        // bob's old epoch 4, replayed to carol: made before alice's epoch 3, it proves nothing.
        let replay = try at("carol", 50, ["receive", w.s.path("b4")])
        #expect(replay.code == 2 && !replay.stderr.contains("fork"), "\(replay)")
        #expect(try w.show("carol")["forked"] as? Bool == false)
    }
}
