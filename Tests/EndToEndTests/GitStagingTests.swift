import Foundation
import Testing
@testable import RoomKey

/// Review findings H2, H3, M2 and L4 of docs/reviews/git-sync-2026-12-02.md: in a room with a git remote no command
/// commits directly; staged changes are re-planned whole; a leave request that cannot be settled yet survives the sync
/// marker; a forked room says so; a staged add never seals to a key the contact no longer has.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitStagingTests {
    /// The members' handles and ids of `room` as `who` sees it.
    static func members(_ w: GitWorld, _ who: String, room: String = "team") throws -> [(handle: String, id: String, admin: Bool)] {
        try #require(try w.show(who, room: room)["members"] as? [[String: Any]]).map {
            ($0["handle"] as? String ?? "", $0["id"] as? String ?? "", $0["admin"] as? Bool ?? false)
        }
    }

    /// alice creates "team" with bob and carol and makes bob an admin, before anyone has a remote; then everyone names
    /// the remote and syncs.
    static func twoAdmins(_ extra: [String] = ["dave"]) throws -> GitWorld {
        let w = try GitWorld(["alice", "bob", "carol"] + extra)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.addRemote(["alice", "bob", "carol"] + extra)
        try w.sync("alice")
        for p in ["bob", "carol", "alice"] { try w.sync(p) }
        #expect(try w.state("bob") == w.state("alice"))
        return w
    }

    // H2: `apply` on a room with a remote stages its change; the remote orders it.
    @Test func applyOnARoomWithARemoteStages() throws {
        let w = try GitSyncCLITests.team()
        let script = w.s.path("team.txt")
        try Data("add team dave\n".utf8).write(to: URL(fileURLWithPath: script))
        let staged = try w.rk("alice", ["apply", script, "--no-sync", "--json"])
        #expect(staged.code == 0, "\(staged)")
        let rooms = try #require(try staged.json()["rooms"] as? [[String: Any]])
        #expect(rooms.first?["staged"] as? String == "origin", "\(staged)")
        #expect(rooms.first?["bundle"] == nil)
        #expect(try w.state("alice").0 == 0, "nothing committed outside the remote's order")
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(!(try w.remoteFiles()).contains("rooms/\(room)/log/1.roomkey"))
        let sync = try w.sync("alice")
        #expect((sync["published"] as? [[String: Any]])?.first?["epoch"] as? Int == 1, "\(sync)")
        // Without --no-sync, apply publishes at once.
        try Data("remove team dave\n".utf8).write(to: URL(fileURLWithPath: script))
        let now = try w.rk("alice", ["apply", script, "--json"])
        #expect(now.code == 0, "\(now)")
        let done = try #require(try now.json()["rooms"] as? [[String: Any]]).first
        #expect(done?["epoch"] as? Int == 2 && done?["staged"] == nil, "\(now)")
        #expect(done?["bundle"] as? String == "origin:rooms/\(room)/log/2.roomkey")
        try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"))
    }

    // H2: a leave request received from a folder (not through sync) becomes a staged removal, published by sync.
    @Test func leaveRequestReceivedFromAFolderIsStaged() throws {
        let w = try GitSyncCLITests.team([])
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        let receive = try w.rk("alice", ["receive", w.s.path("outbox-carol")])
        #expect(receive.code == 0, "\(receive)")
        #expect(try w.state("alice").0 == 0, "the removal is staged, not committed")
        let sync = try w.sync("alice")
        let ops = (sync["published"] as? [[String: Any]])?.flatMap { ($0["operations"] as? [[String: Any]]) ?? [] }.compactMap { $0["op"] as? String }
        #expect(ops == ["remove"], "\(sync)")
        try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"))
        #expect(Set(try Self.members(w, "bob").map(\.handle)) == ["alice", "bob"])
    }

    // H2: a remote with staged changes cannot be removed or swapped out from under them without --force.
    @Test func remoteRemoveRefusesWithStagedChangesUnlessForced() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "--no-sync"]).code == 0)
        let remove = try w.rk("alice", ["remote", "remove", "origin"])
        #expect(remove.code == 6, "\(remove)")
        let errors = remove.stderr.split(separator: "\n").filter { $0.hasPrefix("roomkey: error:") }
        #expect(errors.count == 1 && errors[0].contains("\"team\""), "\(remove)")
        #expect(try w.rk("alice", ["remote", "list", "--json"]).json()["remotes"] as? [[String: Any]] != nil)
        #expect(try w.rk("alice", ["remote", "add", "other", w.url]).code == 0)
        let swap = try w.rk("alice", ["room", "set", "team", "--remote", "other"])
        #expect(swap.code == 6 && swap.stderr.contains("\"team\""), "\(swap)")
        let forced = try w.rk("alice", ["remote", "remove", "origin", "--force"])
        #expect(forced.code == 0, "\(forced)")
        let audit = try w.rk("alice", ["audit"]).stdout
        #expect(audit.contains("\"team\" (") && audit.contains("): 1 staged change(s) deleted (--force)"), "\(audit)")
        // Nothing is left staged for the room: the next change commits through the remaining remote as usual.
        let sync = try w.sync("alice", expect: 0)
        #expect(sync["still_staged"] as? Int == 0, "\(sync)")
        #expect(try w.state("alice").0 == 0)
    }

    /// A sync killed after its push leaves the commit on the remote and in the keyring's flight: `remote remove
    /// --force` applies it (its bundle goes to the outbox) instead of deleting it, so the next direct commit takes the
    /// epoch after it; it used to make another commit for the same epoch, and a member who synced the remote was
    /// forked (a crash review).
    @Test func aForcedRemoteRemoveAppliesTheCommitBeingPushed() throws {
        let w = try GitSyncCLITests.team()
        let killed = try w.rk("alice", ["room", "add", "team", "dave"], env: ["ROOMKEY_TEST_CRASH": CrashPoint.afterPush])
        #expect(killed.code == SIGKILL, "\(killed)")
        #expect(try w.state("alice").0 == 0, "the flight is not applied yet")
        let forced = try w.rk("alice", ["remote", "remove", "origin", "--force"])
        #expect(forced.code == 0, "\(forced)")
        #expect(try w.state("alice").0 == 1, "the commit being pushed is applied")
        #expect(try w.rk("alice", ["room", "remove", "team", "carol"]).code == 0)
        #expect(try w.state("alice").0 == 2)
        // bob has epoch 1 from the remote, then alice's epoch 2 from her outbox folder: one branch.
        try w.sync("bob")
        let outbox = w.s.path("outbox-alice")
        for file in try FileManager.default.contentsOfDirectory(atPath: outbox).sorted() {
            _ = try w.rk("bob", ["receive", outbox + "/" + file])
        }
        let bob = try w.show("bob")
        #expect(bob["forked"] as? Bool == false && bob["epoch"] as? Int == 2, "\(bob)")
        #expect(try w.state("bob") == w.state("alice"))
    }

    /// A commit being pushed that the remote does not hold (another admin's commit, dated two days ahead of this
    /// clock, took the epoch and blocks it here) is deleted by `remote remove --force`, not applied: applied, it made
    /// another commit for an epoch the remote had given to someone else, and members were forked (the review of the
    /// fix above).
    @Test func aForcedRemoteRemoveDeletesACommitTheRemoteDoesNotHold() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "carol"] { try w.sync(p) }
        let epoch = try w.state("alice").0
        let ahead = ["ROOMKEY_TEST_NOW": String(UInt64(Date().timeIntervalSince1970) + 2 * 86_400)]
        #expect(try w.rk("bob", ["room", "add", "team", "dave"], env: ahead).code == 0)
        let blocked = try w.rk("alice", ["room", "remove", "team", "carol"])
        #expect(blocked.code == 5, "alice's commit waits: \(blocked)")
        let forced = try w.rk("alice", ["remote", "remove", "origin", "--force"])
        #expect(forced.code == 0, "\(forced)")
        #expect(try w.state("alice").0 == epoch, "the commit the remote does not hold is not applied")
        #expect(try w.show("alice")["forked"] as? Bool == false)
    }

    // H3: bob offboards admin xavier while alice stages `room replace team xavier` for xavier's new key: alice's
    // replan drops the whole swap, so the offboarded contact does not come back (as an admin) under the new key.
    @Test func replaceRacingAnOffboardDropsTheWholeSwap() throws {
        let w = try Self.twoAdmins(["xavier"])
        #expect(try w.rk("alice", ["room", "add", "team", "xavier"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "xavier"]).code == 0)
        for p in ["bob", "alice"] { try w.sync(p) }
        let old = try #require(try Self.members(w, "alice").first { $0.handle == "xavier" }?.id)
        // xavier's key changes; alice accepts the new card.
        try FileManager.default.removeItem(atPath: w.s.path("xavier"))
        let card = try w.s.person("xavier")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        #expect(try w.rk("alice", ["contact", "accept", "xavier"]).code == 0)
        let new = try #require(try w.rk("xavier", ["id", "--json"]).json()["id"] as? String)
        // bob offboards xavier and publishes first.
        let off = try w.rk("bob", ["offboard", "xavier", "--json"])
        #expect(off.code == 0, "\(off)")
        let replace = try w.rk("alice", ["room", "replace", "team", "xavier", "--json"])
        #expect(replace.code == 0, "\(replace)")
        let doc = try replace.json()
        let dropped = try #require(doc["dropped"] as? [[String: Any]]).compactMap { ($0["operation"] as? [String: Any])?["op"] as? String }
        #expect(dropped.sorted() == ["add", "promote", "remove"], "\(replace)")
        #expect((doc["published"] as? [Any])?.isEmpty == true, "\(replace)")
        let ids = try Self.members(w, "alice").map(\.id)
        #expect(!ids.contains(new) && !ids.contains(old), "\(ids)")
        try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"))
    }

    // H3: an offboard whose removal was dropped because this admin was demoted first is not reported as removed.
    @Test func offboardDroppedForAnotherReasonIsNotReportedRemoved() throws {
        let w = try Self.twoAdmins()
        #expect(try w.rk("bob", ["room", "demote", "team", "alice"]).code == 0)
        let off = try w.rk("alice", ["offboard", "carol", "--json"])
        let results = try #require(try off.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["failed"], "\(off)")
        #expect((results.first?["error"] as? String)?.contains("no longer an admin") == true, "\(off)")
        #expect(off.code == 1, "\(off)")
        // Exit 1 comes with its error line (a review: it came with none).
        #expect(off.stderr.contains("roomkey: error: \"carol\" was not removed from \"team\" ("), "\(off)")
        #expect(try Self.members(w, "alice").contains { $0.handle == "carol" })
    }

    // M2: a leave request the remote shows before the epoch it was made in is kept, and settled by a later sync.
    @Test func unsettledLeaveRequestIsAppliedOnALaterSync() throws {
        let w = try Self.twoAdmins()
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        try w.sync("carol")
        #expect(try w.state("carol").0 == 2)
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        try w.sync("carol")
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let log2 = "rooms/\(room)/log/2.roomkey"
        // The remote withholds epoch 2 for a while (anyone with push access can), while it shows carol's request.
        let saved = w.s.path("log2.roomkey")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "git -C \"$0\" cat-file blob \"main:$1\" > \"$2\"", w.bare, log2, saved]
        try shell.run()
        shell.waitUntilExit()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: saved)))
        #expect(!bytes.isEmpty)
        try w.tamper([log2: nil])
        #expect(try w.remoteFiles().contains { $0.hasPrefix("rooms/\(room)/leave/") })
        let early = try w.rk("bob", ["sync", "--json"])
        #expect(try w.state("bob").0 == 1, "\(early)")
        // Epoch 2 comes back; bob's next sync applies it and then settles the kept request.
        try w.tamper([log2: bytes])
        let later = try w.sync("bob")
        let published = try #require(later["published"] as? [[String: Any]], "\(later)")
        let ops = published.flatMap { ($0["operations"] as? [[String: Any]]) ?? [] }.compactMap { $0["op"] as? String }
        #expect(ops == ["remove"], "\(later)")
        #expect(try w.state("bob").0 == 3)
        #expect(!(try Self.members(w, "bob")).contains { $0.handle == "carol" })
    }

    // L4: a staged add whose contact's key changed before it was published is dropped, not sealed to the old key.
    @Test func stagedAddOfAContactWhoseKeyChangedIsDropped() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "--no-sync"]).code == 0)
        let old = try #require(try w.rk("dave", ["id", "--json"]).json()["id"] as? String)
        try FileManager.default.removeItem(atPath: w.s.path("dave"))
        let card = try w.s.person("dave")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        #expect(try w.rk("alice", ["contact", "accept", "dave"]).code == 0)
        let sync = try w.sync("alice")
        let dropped = try #require(sync["dropped"] as? [[String: Any]], "\(sync)")
        #expect(dropped.contains { ($0["reason"] as? String)?.contains("identity key of contact dave changed") == true }, "\(sync)")
        #expect(try w.state("alice").0 == 0)
        #expect(!(try Self.members(w, "alice")).map(\.id).contains(old))
    }

    // L4: sync in a forked room with staged changes names the fork and the way out, not "other admins kept publishing".
    @Test func forkedRoomWithStagedChangesSaysResolveFirst() throws {
        let w = try GitWorld(["alice", "bob", "carol", "dave"])
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        #expect(try w.rk("bob", ["receive", w.s.path("outbox-alice")]).code == 0)
        // alice2: alice's keyring on another machine; both commit epoch 2 (neither has a remote).
        try FileManager.default.copyItem(atPath: w.s.path("alice"), toPath: w.s.path("alice2"))
        let a = w.s.path("a.roomkey"), b = w.s.path("b.roomkey")
        #expect(try w.rk("alice", ["room", "remove", "team", "carol", "-o", a]).code == 0)
        #expect(try w.s.roomkey("alice2", ["room", "promote", "team", "carol", "-o", b],
                                env: ["XDG_STATE_HOME": w.s.path("state-alice2"), "ROOMKEY_OUTBOX": w.s.path("outbox-alice2")]).code == 0)
        try w.addRemote(["bob"])
        #expect(try w.rk("bob", ["room", "add", "team", "dave", "--no-sync"]).code == 0)
        #expect(try w.rk("bob", ["receive", a]).code == 0)
        #expect(try w.rk("bob", ["receive", b]).code == 2)
        #expect(try w.show("bob")["forked"] as? Bool == true)
        let sync = try w.rk("bob", ["sync"])
        #expect(sync.code == 5, "\(sync)")
        #expect(sync.stderr.contains("roomkey: error: room team is forked; resolve it first (roomkey room resolve team)"), "\(sync)")
        #expect(!sync.stderr.contains("other admins kept publishing first"))
    }
}
