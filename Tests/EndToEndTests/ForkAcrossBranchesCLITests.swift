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
}
