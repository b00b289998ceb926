import Foundation
import Testing
@testable import RoomKey

/// Sync never hides a fork and never overwrites a commit that may be valid for other members (issue 14 review, H1 and
/// M1): another admin's commit for an epoch this keyring holds is received (its fork check marks the room), a validly
/// signed admin commit this keyring cannot apply keeps the change staged, and an old epoch's commit file that was
/// damaged or deleted is published again.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitForkTests {
    /// The team with bob promoted to admin at epoch 1, everyone synced.
    static func twoAdmins() throws -> GitWorld {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "carol", "alice"] { try w.sync(p) }
        #expect(try w.state("bob").0 == 1)
        return w
    }

    /// The blob id of `path` on the remote's main (empty when absent).
    static func blob(_ w: GitWorld, _ path: String) throws -> String {
        try GitWorld.runGit(["rev-parse", "-q", "--verify", "refs/heads/main:\(path)"], in: w.bare).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Admin alice publishes epoch 2 and carol applies it; the repository rewinds main; admin bob, still at epoch 1,
    /// publishes a different epoch 2. Alice's next sync must find the fork as `receive` would, and must not write over
    /// bob's commit then or later.
    @Test func rewindThenAnotherAdminsEpochIsAFork() throws {
        let w = try Self.twoAdmins()
        let early = try w.git(["rev-parse", "main"])
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        try w.sync("carol")
        #expect(try w.state("carol").0 == 2)
        try w.git(["update-ref", "refs/heads/main", early])
        let bob = try w.rk("bob", ["room", "remove", "team", "carol", "--json"])
        #expect(bob.code == 0, "\(bob)")
        #expect(try w.state("bob").0 == 2)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let path = "rooms/\(room)/log/2.roomkey"
        let bobs = try Self.blob(w, path)
        #expect(!bobs.isEmpty)
        let alice = try w.rk("alice", ["sync", "--json"])
        #expect(alice.code == 2, "a fork is an error, not a silent success: \(alice)")
        #expect(try w.show("alice")["forked"] as? Bool == true, "the fork evidence marks the room, as receive does")
        #expect(try Self.blob(w, path) == bobs, "bob's commit is not overwritten")
        #expect(alice.stderr.contains("roomkey: error: room team forked at epoch 2"), "\(alice)")
        let forks = try #require(try alice.json()["forks"] as? [[String: Any]], "\(alice)")
        #expect(forks.map { $0["epoch"] as? Int } == [2])
        // Alice's forked branch is neither pushed over bob's nor continued at epoch 3, and every sync says why.
        let next = try w.rk("alice", ["room", "demote", "team", "bob"])
        #expect(next.code == 2 && next.stderr.contains("is forked"), "\(next)")
        let again = try w.rk("alice", ["sync", "--json"])
        #expect(again.code == 0, "\(again)")
        #expect(try Self.blob(w, "rooms/\(room)/log/3.roomkey").isEmpty)
        #expect(again.stderr.contains("the remote holds another commit for epoch 2"), "\(again)")
        #expect(try Self.blob(w, path) == bobs)
    }

    /// Admin bob's commit for the next epoch, dated three days ahead: valid for members whose clocks agree with bob's,
    /// refused by alice's clock. Alice's staged change must not replace it: it stays staged (exit 5) with the reason.
    @Test func aValidCommitThisAdminCannotApplyIsNotReplaced() throws {
        let w = try Self.twoAdmins()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let ahead = Keyring.systemClock() + 3 * 24 * 3600
        let commit = try w.forgedCommit(by: "bob", removing: "carol", time: ahead)
        let path = "rooms/\(room)/log/\(commit.epoch).roomkey"
        try w.tamper([path: commit.bytes])
        let before = try Self.blob(w, path)
        let add = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        #expect(add.code == 5, "\(add)")
        #expect(add.stderr.contains("roomkey: error: epoch 2 of room team holds a commit this keyring cannot apply: "), "\(add)")
        #expect(add.stderr.contains("24 hours ahead"), "\(add)")
        #expect(try Self.blob(w, path) == before, "bob's commit is still there")
        #expect(try w.state("alice").0 == 1)
        let blocked = try #require(try add.json()["blocked"] as? [[String: Any]], "\(add)")
        #expect(blocked.map { $0["epoch"] as? Int } == [2])
        #expect(try w.rk("alice", ["sync"]).code == 5)
        #expect(try Self.blob(w, path) == before)
        // Once alice's clock agrees, her next sync takes bob's commit and publishes her change after it.
        let later = try w.rk("alice", ["sync", "--json"], env: ["ROOMKEY_TEST_NOW": String(ahead)])
        #expect(later.code == 0, "\(later)")
        #expect(try w.state("alice").0 == 3)
        #expect(try Self.blob(w, path) == before)
    }

    /// An old epoch's commit file overwritten with garbage, or deleted after the admin's outbox entry expired: the
    /// admin's next sync publishes it again, and a member still at the epoch before it catches up.
    @Test(arguments: ["garbage", "deleted"])
    func oldCommitFileIsRepaired(_ damage: String) throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "dave"] { try w.sync(p) }
        #expect(try w.state("alice").0 == 2)
        #expect(try w.state("carol").0 == 0)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let path = "rooms/\(room)/log/1.roomkey"
        try w.tamper([path: damage == "garbage" ? Array("not a bundle".utf8) : nil])
        // Past the outbox history (30 days), the admin no longer holds the bundle it published: it seals it again.
        let later = damage == "deleted" ? ["ROOMKEY_TEST_NOW": String(Keyring.systemClock() + 31 * 24 * 3600)] : [:]
        let alice = try w.rk("alice", ["sync", "--json"], env: later)
        #expect(alice.code == 0, "\(alice)")
        #expect(alice.stderr.contains("epoch 1 in room team was"), "\(alice)")
        #expect(try !Self.blob(w, path).isEmpty)
        try w.sync("carol")
        #expect(try w.state("carol") == w.state("alice"), "carol, at epoch 0, catches up through epoch 1")
        let repaired = try #require(try alice.json()["repaired"] as? [[String: Any]], "\(alice)")
        #expect(repaired.map { $0["epoch"] as? Int } == [1])
        // Once whole, the log is not published again.
        let quiet = try w.rk("alice", ["sync", "--json"], env: later)
        #expect((try? quiet.json()["files_pushed"] as? Int) == 0, "\(quiet)")
    }

    /// Several commit files missing from the remote are published again with one warning for the room, its epochs as
    /// a range, not a line per file.
    @Test func manyRepairedCommitFilesAreOneWarning() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        #expect(try w.rk("alice", ["room", "demote", "team", "bob"]).code == 0)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        try w.tamper(["rooms/\(room)/log/1.roomkey": nil, "rooms/\(room)/log/2.roomkey": nil])
        let later = ["ROOMKEY_TEST_NOW": String(Keyring.systemClock() + 31 * 24 * 3600)]
        let alice = try w.rk("alice", ["sync", "--json"], env: later)
        #expect(alice.code == 0, "\(alice)")
        let warnings = alice.stderr.split(separator: "\n").filter { $0.contains("published again") }
        #expect(warnings == ["roomkey: warning: the remote's commit files of epochs 1-2 in room team were missing; published again"],
                "\(alice)")
        let repaired = try #require(try alice.json()["repaired"] as? [[String: Any]], "\(alice)")
        #expect(repaired.map { $0["epoch"] as? Int } == [1, 2])
    }
}
