import Foundation
import Testing

/// The exit code of `receive` is the worst status among its inputs: a bundle an earlier run kept, rejected once it is
/// retried, is reported but does not fail a run whose inputs all applied (a review: anyone who can send bundles could
/// keep some, and a script's valid bundle then exited 2).
@Suite struct ReceiveKeptExitCLITests {
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
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "-o", s.path("g")]).code == 0)
        for p in ["bob", "carol"] { #expect(try w.rk(p, ["receive", s.path("g")]).code == 0) }
        #expect(try w.rk("alice", ["room", "promote", "team", "bob", "-o", s.path("p")]).code == 0)
        #expect(try w.rk("bob", ["receive", s.path("p")]).code == 0)
        // (A promotion carries only its own commit; an add would carry the whole log.)
        #expect(try w.rk("alice", ["room", "promote", "team", "carol", "-o", s.path("a2")]).code == 0)
        #expect(try w.rk("bob", ["room", "demote", "team", "alice", "-o", s.path("b2")]).code == 0)
        #expect(try w.rk("carol", ["receive", s.path("a2")]).code == 5, "alice's epoch 2 waits for epoch 1, kept")
        let r = try w.rk("carol", ["receive", "--json", s.path("p"), s.path("b2")])
        #expect(r.code == 2, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.contains { $0["kept"] as? Bool == true && ($0["error"] as? String)?.contains("fork at epoch 2") == true }, "\(results)")
        #expect(try w.show("carol")["forked"] as? Bool == true)
    }

    /// A kept bundle whose admin-signed commit follows another branch (the room may have split) counts too: it is
    /// no one's to plant (the review of the rule above).
    @Test func aKeptCommitOnAnotherBranchStillFailsTheRun() throws {
        let w = try RoomWorld()
        let s = w.s
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "dave", "-o", s.path("g")]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "dave", "-o", s.path("p")]).code == 0)
        for p in ["bob", "dave"] { #expect(try w.rk(p, ["receive", s.path("g"), s.path("p")]).code == 0) }
        #expect(try w.rk("alice", ["room", "add", "team", "carol", "-o", s.path("a2")]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob", "-o", s.path("a3")]).code == 0)
        #expect(try w.rk("dave", ["receive", s.path("a2")]).code == 0)
        #expect(try w.rk("dave", ["room", "remove", "team", "carol", "-o", s.path("d3")]).code == 0)
        #expect(try w.rk("dave", ["room", "demote", "team", "alice", "-o", s.path("d4")]).code == 0)
        #expect(try w.rk("bob", ["receive", s.path("d4")]).code == 5, "dave's epoch 4 waits, kept")
        let r = try w.rk("bob", ["receive", "--json", s.path("a2"), s.path("a3")])
        #expect(r.code == 2, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.contains { $0["kept"] as? Bool == true && ($0["error"] as? String)?.contains("the room may have split") == true }, "\(results)")
    }
}
