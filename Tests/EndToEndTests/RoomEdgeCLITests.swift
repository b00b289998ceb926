import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Leaving, late keys, hostile commit lists and fork resolution, end to end.
@Suite struct RoomEdgeCLITests {
    static func world() throws -> RoomWorld {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        return w
    }

    @Test func aMemberWhoLeavesIsRemovedByTheAdminsCommit() throws {
        let w = try Self.world()
        let leave = try w.rk("bob", ["room", "leave", "team", "--json"])
        #expect(leave.code == 0, "\(leave)")
        let request = try #require(try leave.json()["bundle"] as? String)
        // bob forgets his own keys at once and distributes nothing more.
        let bobID = try w.keyring("bob").identityCard().id
        #expect(try w.keyring("bob").senderKeys(of: "team").filter { $0.owner == bobID }.isEmpty)
        let rotate = try w.rk("bob", ["room", "rotate", "team"])
        #expect(rotate.code == 6)
        #expect(rotate.stderr.contains("you left room"))
        // A member who is not an admin has nothing to do with the request.
        let carolFirst = try w.rk("carol", ["receive", request, "--json"])
        #expect(carolFirst.code == 0)
        #expect(carolFirst.stdout.contains("not-for-me"))
        // The admin's receive turns it into a commit of its own, in the same run.
        let byAlice = try w.rk("alice", ["receive", request, "--json"])
        #expect(byAlice.code == 0, "\(byAlice)")
        let results = try #require(try byAlice.json()["results"] as? [[String: Any]])
        let removal = try #require((results.first?["bundles"] as? [String])?.first)
        #expect(try w.rk("carol", ["receive", removal]).code == 0)
        for who in ["alice", "carol"] {
            let members = (try w.show(who)["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
            #expect(members.sorted() == ["alice", "carol"], "\(who)")
        }
        // The same request again: bob is gone already.
        let again = try w.rk("alice", ["receive", request, "--json"])
        #expect(again.code == 0)
        #expect(again.stdout.contains("duplicate"))
    }

    @Test func aMessageGivenToReceiveGetsAHint() throws {
        let w = try Self.world()
        let path = w.s.path("hello.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", path], stdin: Data("hi".utf8)).code == 0)
        let r = try w.rk("bob", ["receive", path])
        #expect(r.code == 65)
        #expect(r.stderr.contains("roomkey: hint: \(path) is a room message, not a bundle: read it with 'roomkey decrypt'"))
    }

    @Test func pendingBundlesAreBounded() throws {
        let w = try Self.world()
        // Epochs 1 and 2 are committed; carol sees only epoch 2's bundles, which wait for epoch 1.
        _ = try w.rk("alice", ["room", "promote", "team", "bob", "-o", w.s.path("epoch1.roomkey")])
        let b2 = try #require(try w.rk("alice", ["room", "demote", "team", "bob", "--json"]).json()["bundle"] as? String)
        let b3 = try #require(try w.rk("alice", ["room", "rotate", "team", "--json"]).json()["bundle"] as? String)
        let carol = try w.keyring("carol")
        carol.pendingByteLimit = 1
        func input(_ path: String) throws -> ReceiveInput {
            ReceiveInput(path: path, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        #expect(try carol.receive([try input(b2)]) { _ in "" }.first?.status == .pending)
        // Over the cap the oldest waiting bundle goes, with a warning; the new one is kept, never refused.
        let over = try carol.receive([try input(b3)]) { _ in "" }
        #expect(over.first?.status == .pending)
        #expect(over.first?.warning?.contains("dropped") == true)
        // A bundle that applies now is applied whatever the pending store holds.
        let now = try carol.receive([try input(w.s.path("epoch1.roomkey"))]) { _ in "" }
        #expect(now.first?.status == .applied)
        #expect(try carol.room("team").state.epoch == 1)
        let rest = try carol.receive([try input(b2)]) { _ in "" }
        #expect(rest.map(\.status) == [.applied, .applied])
        #expect(try carol.room("team").state.epoch == 2)
    }

    @Test func aKeyBundleArrivingAfterAFullLogIsStillApplied() throws {
        let w = try Self.world()
        let s1 = try #require(try w.rk("alice", ["room", "add", "team", "dave", "--json"]).json()["bundle"] as? String)
        let erin = try w.s.person("erin")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(erin.utf8)).code == 0)
        let s2 = try #require(try w.rk("alice", ["room", "add", "team", "erin", "--json"]).json()["bundle"] as? String)
        #expect(try w.rk("bob", ["receive", s2]).code == 0)
        let late = try w.rk("bob", ["receive", s1, "--json"])
        #expect(late.code == 0, "\(late)")
        let aliceID = try w.keyring("alice").identityCard().id
        let keys = try w.keyring("bob").senderKeys(of: "team").filter { $0.owner == aliceID }.map(\.epoch)
        #expect(Set(keys) == [0, 1, 2])
    }

    @Test func hostileCommitListsAreRejectedWithoutMarkingTheRoom() throws {
        let w = try Self.world()
        let alice = try w.keyring("alice"), room = try alice.room("team"), me = try alice.identity()
        let dave = try freshCard("dave"), erin = try freshCard("erin")
        func next(_ op: RoomKey.Operation) throws -> Commit {
            let roster = try RoomState.apply([op], to: room.state.roster, author: me.id, genesis: false)
            return Commit(roomID: room.id, epoch: 1, previousHead: room.state.head, signer: me.signing,
                          time: UInt64(Date().timeIntervalSince1970), operations: [op],
                          rosterHash: roster.hash)
        }
        let c1 = try next(.add(dave)), c1x = try next(.add(erin))
        let others = { (r: StoredRoom, id: IdentityID) in r.state.roster.sorted.filter { $0.id != id } }
        // Two commits for one epoch in one bundle, and commits out of order: refused before anything is stored.
        let twice = try w.forge("alice", epoch: 1, commits: [c1, c1x], withKey: false, recipients: others)
        let before = try w.snapshot("bob")
        let r1 = try w.rk("bob", ["receive", twice])
        #expect(r1.code == 2, "\(r1)")
        #expect(r1.stderr.contains("not in consecutive epochs"))
        #expect(try w.snapshot("bob") == before)
        // bob accepts c1; then a stranger delivers the conflicting c1x: rejected, and the room is not marked forked.
        let good = try w.forge("alice", epoch: 1, commits: [c1], withKey: false) { _, _ in
            (try? RoomState.apply([.add(dave)], to: room.state.roster, author: me.id, genesis: false).sorted.filter { $0.id != me.id }) ?? []
        }
        #expect(try w.rk("bob", ["receive", good]).code == 0)
        try w.s.person("mallory")
        let mallory = try w.keyring("mallory")
        let bobCard = try w.keyring("bob").identityCard()
        let byStranger = try BundleSealer.seal(roomID: room.id, epoch: 1, signer: mallory.identity().signing,
                                               recipients: [(id: bobCard.id, key: bobCard.sealingKey)],
                                               content: BundleContent.encode(commits: [c1x]), random: SystemRandom())
        let path = w.s.path("stranger.roomkey")
        try Data(byStranger).write(to: URL(fileURLWithPath: path))
        let r2 = try w.rk("bob", ["receive", path])
        #expect(r2.code == 2, "\(r2)")
        #expect(try w.show("bob")["forked"] as? Bool == false)
    }

    @Test func anAdminResolvesAForkWithItsNextCommit() throws {
        let w = try Self.world()
        try FileManager.default.copyItem(atPath: w.s.path("alice"), toPath: w.s.path("alice2"))
        let b1 = try #require(try w.rk("alice", ["room", "remove", "team", "carol", "--json"]).json()["bundle"] as? String)
        // alice2 is the same identity on another machine: its own state folder (else it is a rolled-back alice).
        let b1x = try #require(try w.s.roomkey("alice2", ["room", "promote", "team", "bob", "-o", w.s.path("x.roomkey"), "--json"],
                                                env: ["ROOMKEY_OUTBOX": w.shared, "XDG_STATE_HOME": w.s.path("alice2-state")])
            .json()["bundle"] as? String)
        #expect(try w.rk("bob", ["receive", b1]).code == 0)
        #expect(try w.rk("bob", ["receive", b1x]).code == 2)
        #expect(try w.show("bob")["forked"] as? Bool == true)
        // alice, an admin, keeps her branch and commits again; bob's room is whole once he applies it.
        #expect(try w.rk("alice", ["room", "resolve", "team"]).code == 0)
        let dave = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        #expect(dave.code == 0, "\(dave)")
        #expect(try w.rk("bob", ["receive", try #require(try dave.json()["bundle"] as? String)]).code == 0)
        let bob = try w.show("bob")
        #expect(bob["forked"] as? Bool == false)
        #expect(bob["epoch"] as? Int == 2)
        // Not forked any more: nothing to resolve, and it says so (it said "distribution is allowed again", a review).
        let again = try w.rk("bob", ["room", "resolve", "team"])
        #expect(again.code == 0 && again.stdout.contains("room team is not forked: nothing to resolve"), "\(again)")
        #expect(!again.stdout.contains("distribution is allowed again"), "\(again)")
    }
}
