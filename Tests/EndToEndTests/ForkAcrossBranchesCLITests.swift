import Foundation
import Testing

/// Two admins' commits for one epoch, each delivered to one half of the room: the next commit of one branch, reaching a
/// member of the other, is refused with an error that says the room may have split (a protocol review: with the same
/// members on both branches nothing but "does not chain" was said). It marks nothing: a rule that marked the room forked
/// let a branch resolved earlier, replayed, freeze the room again (two reviews of it).
@Suite struct ForkAcrossBranchesCLITests {
    @Test func theNextCommitOfTheOtherBranchSaysTheRoomMayHaveSplit() throws {
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
        // Alice's next commit (epoch 3 of her branch) reaches dave.
        #expect(try w.rk("alice", ["room", "demote", "team", "carol", "-o", a3]).code == 0)
        let r = try w.rk("dave", ["receive", a3])
        #expect(r.code == 2 && r.stderr.contains("follows another commit for epoch 2 than the one accepted here: the room may have split"),
                "\(r.stdout) \(r.stderr)")
        let dave = try w.show("dave")
        #expect(dave["forked"] as? Bool == false && dave["epoch"] as? Int == 2, "\(dave)")
    }

    /// Fork evidence received again changes nothing, nor does other evidence in a room marked forked already (a review:
    /// every replay exited 2, "nothing stored", and wrote another audit entry, so anyone holding the file could grow
    /// the log without end; the review of the first fix alternated two pieces of evidence).
    @Test func forkEvidenceReplayedChangesNothing() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.exchange()
        #expect(try w.rk("alice", ["room", "promote", "team", "dave"]).code == 0)
        try w.exchange()
        // Epoch 3 three times: alice's reaches carol first, then bob's and dave's.
        let a = w.s.path("a3.roomkey"), b = w.s.path("b3.roomkey"), d = w.s.path("d3.roomkey")
        #expect(try w.rk("alice", ["room", "demote", "team", "dave", "-o", a]).code == 0)
        #expect(try w.rk("bob", ["room", "promote", "team", "carol", "-o", b]).code == 0)
        #expect(try w.rk("dave", ["room", "demote", "team", "bob", "-o", d]).code == 0)
        #expect(try w.rk("carol", ["receive", a]).code == 0)
        let first = try w.rk("carol", ["receive", b])
        #expect(first.code == 2 && first.stderr.contains("fork at epoch 3"), "\(first)")
        #expect(try w.show("carol")["forked"] as? Bool == true)
        let marked = try w.snapshot("carol")
        let entries = try w.rk("carol", ["audit", "--json"]).stdout
        for file in [b, d, b, d] {
            let again = try w.rk("carol", ["receive", file])
            #expect(again.code == 2 && again.stderr.contains("fork at epoch 3"), "\(again)")
            #expect(try w.snapshot("carol") == marked)
        }
        #expect(try w.rk("carol", ["audit", "--json"]).stdout == entries)
    }

    /// A branch resolved here, replayed later, changes nothing, whatever the times of its commits.
    @Test func aResolvedBranchReplayedMarksNothing() throws {
        let w = try RoomWorld()
        let t0 = 1_800_000_000
        func at(_ who: String, _ seconds: Int, _ args: [String]) throws -> Run {
            try w.s.roomkey(who, args, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_NOW": String(t0 + seconds)])
        }
        #expect(try at("alice", 0, ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        for p in ["bob", "carol", "dave"] { #expect(try at(p, 1, ["receive"] + (try w.bundles())).code == 0) }
        #expect(try at("alice", 10, ["room", "promote", "team", "bob", "-o", w.s.path("a1")]).code == 0)
        for p in ["bob", "carol", "dave"] { #expect(try at(p, 11, ["receive", w.s.path("a1")]).code == 0) }
        // Epoch 2 twice; bob's branch, its clock an hour ahead, goes on to epochs 3 and 4.
        #expect(try at("alice", 20, ["room", "promote", "team", "carol", "-o", w.s.path("a2")]).code == 0)
        #expect(try at("bob", 3621, ["room", "promote", "team", "dave", "-o", w.s.path("b2")]).code == 0)
        #expect(try at("bob", 3622, ["room", "demote", "team", "dave", "-o", w.s.path("b3")]).code == 0)
        #expect(try at("bob", 3623, ["room", "promote", "team", "dave", "-o", w.s.path("b4")]).code == 0)
        #expect(try at("carol", 30, ["receive", w.s.path("a2")]).code == 0)
        // alice sees the fork (bob's commit for her epoch 2), keeps her branch and commits on it.
        #expect(try at("alice", 40, ["receive", w.s.path("b2")]).code == 2)
        #expect(try at("alice", 41, ["room", "resolve", "team"]).code == 0)
        #expect(try at("alice", 42, ["room", "promote", "team", "dave", "-o", w.s.path("a3")]).code == 0)
        #expect(try at("carol", 43, ["receive", w.s.path("a3")]).code == 0)
        // bob's old epochs 3 and 4, replayed: refused, nothing marked, the room goes on.
        for old in ["b3", "b4"] {
            for p in ["carol", "alice"] {
                let replay = try at(p, 50, ["receive", w.s.path(old)])
                #expect(replay.code == 2, "\(p) \(old): \(replay)")
                #expect(try w.show(p)["forked"] as? Bool == false, "\(p) \(old)")
            }
        }
        #expect(try at("carol", 60, ["encrypt", "team", "-o", w.s.path("m")], ).code == 0)
    }
}
