import Foundation
import Testing

/// The exit code of `receive` is the worst status among its inputs: a bundle an earlier run kept, rejected once it is
/// retried, is reported but does not fail a run whose inputs all applied (a review: anyone who can send bundles could
/// keep some, and a script's valid bundle then exited 2).
@Suite struct ReceiveKeptExitCLITests {
    /// `who` receives `files`: exit 2, and a retried kept bundle's result says `error`.
    static func expectKeptFailure(_ w: RoomWorld, _ who: String, _ files: [String], saying error: String) throws {
        let r = try w.rk(who, ["receive", "--json"] + files)
        #expect(r.code == 2, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.contains { $0["kept"] as? Bool == true && ($0["error"] as? String)?.contains(error) == true }, "\(results)")
    }

    @Test func aKeptBundleRejectedOnRetryDoesNotFailTheRun() throws {
        let w = try RoomWorld()
        let s = w.s
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave", "-o", s.path("g")]).code == 0)
        for p in ["bob", "carol", "dave"] { #expect(try w.rk(p, ["receive", s.path("g")]).code == 0) }
        #expect(try w.rk("alice", ["room", "promote", "team", "dave", "-o", s.path("p")]).code == 0)
        for p in ["bob", "carol", "dave"] { #expect(try w.rk(p, ["receive", s.path("p")]).code == 0) }
        // Two admins take epoch 2 apart: alice removes dave (carol follows her), dave removes alice (bob follows him).
        #expect(try w.rk("alice", ["room", "remove", "team", "dave", "-o", s.path("a2")]).code == 0)
        #expect(try w.rk("dave", ["room", "remove", "team", "alice", "-o", s.path("d2")]).code == 0)
        let carol = try w.rk("carol", ["receive", s.path("a2"), "--json"])
        #expect(carol.code == 0, "\(carol)")
        let key = try #require(try carol.json()["results"] as? [[String: Any]]).first?["bundles"] as? [String]
        let carolsKey = try #require(key?.first, "carol's new sender key for alice's epoch 2: \(carol.stdout)")
        // bob gets carol's key first: it waits for epoch 2, kept. Then dave's epoch 2: applied, and the kept key, sealed
        // to the other branch's roster, is rejected when retried.
        #expect(try w.rk("bob", ["receive", carolsKey]).code == 5)
        let r = try w.rk("bob", ["receive", s.path("d2")])
        #expect(r.code == 0, "the input applied; only the kept bundle was rejected: \(r)")
        #expect(r.stderr.contains("rejected") || r.stdout.contains("rejected"), "the kept bundle's rejection is still reported: \(r)")
        #expect(try w.show("bob")["epoch"] as? Int == 2)
        let json = try w.rk("bob", ["receive", "--json", s.path("d2")]).json()
        #expect((json["results"] as? [[String: Any]])?.allSatisfy { $0["kept"] == nil } == true, "inputs carry no kept: \(json)")
    }

    /// A kept bundle that turns out to be fork evidence marks the room: that still fails the run (exit 2), and the
    /// result says it was kept (the review of the rule above: the fork was marked and the run exited 0).
    @Test func aKeptBundleThatIsForkEvidenceStillFailsTheRun() throws {
        let w = try RoomWorld()
        let s = w.s
        try w.twoAdminTeam(members: ["bob", "carol"], admin: "bob", promotedTo: ["bob"])
        // (A promotion carries only its own commit; an add would carry the whole log.)
        #expect(try w.rk("alice", ["room", "promote", "team", "carol", "-o", s.path("a2")]).code == 0)
        #expect(try w.rk("bob", ["room", "demote", "team", "alice", "-o", s.path("b2")]).code == 0)
        #expect(try w.rk("carol", ["receive", s.path("a2")]).code == 5, "alice's epoch 2 waits for epoch 1, kept")
        try Self.expectKeptFailure(w, "carol", [s.path("p"), s.path("b2")], saying: "fork at epoch 2")
        #expect(try w.show("carol")["forked"] as? Bool == true)
    }

    /// A kept bundle whose admin-signed commit follows another branch (the room may have split) counts too: it is
    /// no one's to plant (the review of the rule above).
    @Test func aKeptCommitOnAnotherBranchStillFailsTheRun() throws {
        let w = try RoomWorld()
        let s = w.s
        try w.twoAdminTeam(members: ["bob", "dave"], admin: "dave", promotedTo: ["bob", "dave"])
        #expect(try w.rk("alice", ["room", "add", "team", "carol", "-o", s.path("a2")]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob", "-o", s.path("a3")]).code == 0)
        #expect(try w.rk("dave", ["receive", s.path("a2")]).code == 0)
        #expect(try w.rk("dave", ["room", "remove", "team", "carol", "-o", s.path("d3")]).code == 0)
        #expect(try w.rk("dave", ["room", "demote", "team", "alice", "-o", s.path("d4")]).code == 0)
        #expect(try w.rk("bob", ["receive", s.path("d4")]).code == 5, "dave's epoch 4 waits, kept")
        try Self.expectKeptFailure(w, "bob", [s.path("a2"), s.path("a3")], saying: "the room may have split")
    }
}
