import Foundation
import Testing
@testable import RoomKeyCore

/// `room rejoin`: a member who left takes the room back by choice, and is then added back by the next commit that adds
/// it (a review: once a member had left, no commit could ever add it again; it had to make a new identity).
@Suite struct RejoinCLITests {
    @Test func aMemberWhoLeftIsTakenBackOnlyAfterRejoining() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        let beforeLeave = Set(try w.bundles())
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        try w.exchange(["alice", "bob"])
        #expect(try w.show("alice")["epoch"] as? Int == 1)
        // The request is acted on: later exchanges would show it again to alice, who rightly refuses it (exit 2).
        for request in try w.bundles() where !beforeLeave.contains(request) && request.contains("-e0-") {
            try FileManager.default.removeItem(atPath: request)
        }
        let had = Set(try w.bundles())
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        let back = try #require(try w.bundles().first { !had.contains($0) })

        // Received while the room is left: nothing applied, and the warning says how to take the room back.
        let before = try w.rk("carol", ["receive", back])
        #expect(before.code == 0, "\(before)")
        #expect(before.stderr.contains("this bundle adds you back") && before.stderr.contains("roomkey room rejoin team"), "\(before.stderr)")
        #expect(before.stderr.split(separator: "\n").count == 1, "\(before.stderr)")
        #expect(try w.show("carol")["epoch"] as? Int == 0)

        let rejoin = try w.rk("carol", ["room", "rejoin", "team", "--json"])
        #expect(rejoin.code == 0, "\(rejoin)")
        let doc = try rejoin.json()
        #expect(doc["member"] as? Bool == true && doc["key_due"] as? Bool == true && doc["withdrawn"] as? Int == 1, "\(rejoin.stdout)")
        let again = try w.rk("carol", ["room", "rejoin", "team"])
        #expect(again.code == 6 && again.stderr.contains("you have not left room \"team\""), "\(again)")

        let after = try w.rk("carol", ["receive", back])
        #expect(after.code == 0 && !after.stderr.contains("adds you back"), "\(after)")
        #expect(try w.show("carol")["epoch"] as? Int == 2)
        try w.exchange(["alice", "bob", "carol"])

        // Both ways: carol reads the room's new messages, and the others read hers (her new sender key reached them).
        let fromAlice = w.s.path("alice.msg"), fromCarol = w.s.path("carol.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", fromAlice], stdin: Data("welcome back".utf8)).code == 0)
        #expect(try w.rk("carol", ["encrypt", "team", "-o", fromCarol], stdin: Data("glad to be back".utf8)).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        let read = try w.rk("carol", ["decrypt", fromAlice])
        #expect(read.code == 0 && read.stdout.contains("welcome back"), "\(read)")
        for p in ["alice", "bob"] {
            let r = try w.rk(p, ["decrypt", fromCarol])
            #expect(r.code == 0 && r.stdout.contains("glad to be back"), "\(p): \(r)")
        }
    }

    /// A member who left still follows the room's log: a removal an admin made meanwhile is applied, so after a rejoin
    /// the member's new sender key is sealed without the removed member (a review: the keyring dropped every commit
    /// while left, rejoined at the old epoch, and the removed member read its next message).
    @Test func aRemovalMadeWhileLeftStillHoldsAfterARejoin() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        // The leave request goes to a file of bob's own: no admin acts on it.
        #expect(try w.rk("bob", ["room", "leave", "team", "-o", w.s.path("leave.req")]).code == 0)
        let had = Set(try w.bundles())
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        let removal = try #require(try w.bundles().first { !had.contains($0) })
        let received = try w.rk("bob", ["receive", removal, "--json"])
        #expect(received.code == 0, "\(received)")
        #expect(try w.show("bob")["epoch"] as? Int == 1, "the removal is applied while the room is left")
        let members = try #require(try w.show("bob")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(!members.contains("dave"), "\(members)")
        // Both listings say the room is left, until the rejoin.
        let listed = { () throws -> [String: Any]? in (try w.rk("bob", ["room", "list", "--json"]).json()["rooms"] as? [[String: Any]])?.first }
        #expect(try listed()?["left"] as? Bool == true && w.show("bob")["left"] as? Bool == true)
        #expect(try w.rk("bob", ["room", "list"]).stdout.contains(" left "))
        #expect(try w.rk("bob", ["room", "rejoin", "team"]).code == 0)
        #expect(try listed()?["left"] as? Bool == false && w.show("bob")["left"] as? Bool == false)
        let message = w.s.path("bob.msg")
        #expect(try w.rk("bob", ["encrypt", "team", "-o", message], stdin: Data("after dave left".utf8)).code == 0)
        try w.exchange()
        let carol = try w.rk("carol", ["decrypt", message])
        #expect(carol.code == 0 && carol.stdout.contains("after dave left"), "\(carol)")
        let dave = try w.rk("dave", ["decrypt", message])
        #expect(dave.code != 0 && !dave.stdout.contains("after dave left"), "the removed member read it: \(dave)")
    }

    /// Two admins take one epoch apart while carol has left: the second branch is fork evidence and marks her room, as
    /// any member's (a review: ignored while left, she rejoined the first branch unmarked and sealed her key to a member
    /// the other branch never added). She can still rejoin; the room then sends nothing until it is resolved.
    @Test func forkEvidenceWhileLeftMarksTheRoom() throws {
        let w = try RoomWorld()
        let s = w.s
        try w.twoAdminTeam(members: ["bob", "carol"], admin: "bob", promotedTo: ["bob", "carol"])
        #expect(try w.rk("carol", ["room", "leave", "team", "-o", s.path("leave.req")]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "-o", s.path("a2")]).code == 0)
        #expect(try w.rk("bob", ["room", "demote", "team", "alice", "-o", s.path("b2")]).code == 0)
        #expect(try w.rk("carol", ["receive", s.path("a2")]).code == 0)
        let fork = try w.rk("carol", ["receive", s.path("b2")])
        #expect(fork.code == 2 && fork.stderr.contains("fork at epoch 2"), "\(fork)")
        #expect(try w.show("carol")["forked"] as? Bool == true)
        let rejoin = try w.rk("carol", ["room", "rejoin", "team"])
        #expect(rejoin.code == 0 && rejoin.stderr.contains("is forked: it distributes nothing"), "\(rejoin)")
        let send = try w.rk("carol", ["encrypt", "team", "-o", s.path("m")], stdin: Data("to whom?".utf8))
        #expect(send.code == 2, "a forked room sends nothing: \(send)")
        #expect(try w.rk("carol", ["room", "rejoin", "team", "--json"]).code == 6, "not left any more")
        // She can leave again while it is forked: a member's leave makes no commit (a review: no way out).
        let again = try w.rk("carol", ["room", "leave", "team", "-o", s.path("leave2.req")])
        #expect(again.code == 0, "\(again)")
    }

    /// Rejoining a room before any admin acted on the leave: the keyring is a member again at once, and the leave
    /// request still in the outbox is withdrawn (sync would otherwise publish it again).
    @Test func rejoiningBeforeTheAdminActsWithdrawsTheRequest() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.exchange(["alice", "bob"])
        #expect(try w.rk("bob", ["room", "leave", "team", "-o", w.s.path("leave.req")]).code == 0)
        let listed = try w.rk("bob", ["outbox", "list", "--json"])
        #expect(listed.stdout.contains("leave-request"), "\(listed)")
        let rejoin = try w.rk("bob", ["room", "rejoin", "team"])
        #expect(rejoin.code == 0 && rejoin.stdout.contains("withdrew 1 leave request"), "\(rejoin)")
        #expect(!(try w.rk("bob", ["outbox", "list", "--json"])).stdout.contains("leave-request"))
        let msg = w.s.path("bob.msg")
        #expect(try w.rk("bob", ["encrypt", "team", "-o", msg], stdin: Data("still here".utf8)).code == 0)
        try w.exchange(["alice", "bob"])
        let r = try w.rk("alice", ["decrypt", msg])
        #expect(r.code == 0 && r.stdout.contains("still here"), "\(r)")
        let unknown = try w.rk("bob", ["room", "rejoin", "nowhere"])
        #expect(unknown.code == 4, "\(unknown)")
    }
}

/// `room rejoin` in a room with a git remote: the member's next sync takes the commit that adds it back.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitRejoinTests {
    @Test func syncTakesTheReAddAfterRejoining() throws {
        let w = try GitSyncCLITests.team([])
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        try w.sync("carol")
        try w.sync("alice")
        #expect(try w.state("alice").0 == 1)
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        try w.sync("alice")
        try w.sync("carol")
        #expect(try w.state("carol").0 == 0, "a room left takes nothing, the re-add included")
        #expect(try w.rk("carol", ["room", "rejoin", "team"]).code == 0)
        try w.sync("carol")
        for p in ["bob", "alice"] { try w.sync(p) }
        #expect(try w.state("carol") == (try w.state("alice")))
        let msg = w.s.path("carol.msg")
        #expect(try w.rk("carol", ["encrypt", "team", "-o", msg], stdin: Data("back through git".utf8)).code == 0)
        try w.sync("carol")
        try w.sync("bob")
        let r = try w.rk("bob", ["decrypt", msg])
        #expect(r.code == 0 && r.stdout.contains("back through git"), "\(r)")
    }

    /// The room moved on before the member who left synced: the request still goes out (a review: sync published only a
    /// request of the room's current epoch, the room followed the newer commit first, and the request never left), and
    /// the admin acts on it.
    @Test func aRequestGoesOutAfterTheRoomMovedOn() throws {
        let w = try GitSyncCLITests.team(["dave"])
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        for p in ["alice", "bob", "carol", "dave"] { try w.sync(p) }
        #expect(try w.rk("bob", ["room", "leave", "team"]).code == 0)
        #expect(try !w.remoteFiles().contains { $0.hasPrefix("rooms/\(room)/leave/") }, "room leave does not publish")
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try w.sync("alice")
        try w.sync("bob")
        let files = try w.remoteFiles()
        #expect(files.contains { $0.hasPrefix("rooms/\(room)/leave/") }, "\(files)")
        try w.sync("alice")
        let members = try #require(try w.show("alice")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(!members.contains("bob"), "alice acted on bob's request: \(members)")
    }

    /// Keys sent while the member had left are kept: after a rejoin through git it reads the messages of the epoch it
    /// follows (a review: the sync marker had passed their files, and the room sat at an epoch no file was retried for).
    @Test func keysSentWhileLeftAreReadAfterTheRejoin() throws {
        let w = try GitSyncCLITests.team(["dave"])
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        for p in ["alice", "bob", "carol", "dave"] { try w.sync(p) }
        #expect(try w.rk("bob", ["room", "leave", "team", "-o", w.s.path("leave.req")]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try w.sync("alice")
        try w.sync("carol")
        let (a, c) = (w.s.path("a.msg"), w.s.path("c.msg"))
        #expect(try w.rk("alice", ["encrypt", "team", "-o", a], stdin: Data("from alice".utf8)).code == 0)
        #expect(try w.rk("carol", ["encrypt", "team", "-o", c], stdin: Data("from carol".utf8)).code == 0)
        try w.sync("alice")
        try w.sync("carol")
        try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"), "the room left followed the removal")
        #expect(try w.rk("bob", ["room", "rejoin", "team"]).code == 0)
        try w.sync("bob")
        for (file, text) in [(a, "from alice"), (c, "from carol")] {
            let r = try w.rk("bob", ["decrypt", file])
            #expect(r.code == 0 && r.stdout.contains(text), "\(r)")
        }
    }

    /// A leave request that sync published before the member rejoined is deleted from the remote by the member's next
    /// sync, so that an admin who syncs after that does not remove the member who rejoined (a review: `rejoin` said the
    /// request was removed, and the admin's next sync removed the member).
    @Test func aPublishedLeaveRequestIsWithdrawnFromTheRemote() throws {
        let w = try GitSyncCLITests.team([])
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        try w.sync("carol")
        #expect(try w.remoteFiles().contains { $0.hasPrefix("rooms/\(room)/leave/") }, "the request is on the remote")
        #expect(try w.rk("carol", ["room", "rejoin", "team"]).code == 0)
        try w.sync("carol")
        #expect(try !w.remoteFiles().contains { $0.hasPrefix("rooms/\(room)/leave/") }, "the request is withdrawn from the remote")
        try w.sync("alice")
        let members = try #require(try w.show("alice")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(members.contains("carol"), "alice did not remove carol: \(members)")
    }

    /// A file in the leave folder named like this member's request but not one (its name not UTF-8) is left alone:
    /// every sync of the member pushed a commit that deleted nothing (a review).
    @Test func aNameLikeAMembersRequestIsNotTakenForOne() throws {
        let w = try GitSyncCLITests.team([])
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let carol = try #require(try w.rk("carol", ["id", "--json"]).json()["id"] as? String)
        try w.sync("carol")
        let script = """
            set -e; export GIT_DIR='\(w.bare)'; b=$(printf 'x' | git hash-object -w --stdin)
            l=$(printf "100644 blob $b\\t\(carol)-\\377.roomkey\\n" | git mktree)
            r=$( (git ls-tree main:rooms/\(room); printf "040000 tree $l\\tleave\\n") | git mktree)
            rs=$( (git ls-tree main:rooms | grep -v "\\t\(room)$"; printf "040000 tree $r\\t\(room)\\n") | git mktree)
            t=$( (git ls-tree main | grep -v "\\trooms$"; printf "040000 tree $rs\\trooms\\n") | git mktree)
            git update-ref refs/heads/main $(git commit-tree $t -p main -m odd)
            git rev-parse main
            """
        let tip = try GitWorld.shell(script).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tip.count == 40, "\(tip)")
        let sync = try w.sync("carol")
        #expect(sync["files_deleted"] as? Int == 0 && sync["files_pushed"] as? Int == 0, "\(sync)")
        #expect(try w.git(["rev-parse", "main"]) == tip, "nothing was pushed")
    }
}
