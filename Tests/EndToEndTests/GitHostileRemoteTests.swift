import Foundation
import Testing
@testable import RoomKey

/// The remote is untrusted: a rewind, a deleted bundle or a forged commit changes nothing beyond what `receive` allows,
/// and what the remote lost is published again. A sync killed at any step converges on the next one, with no bundle on
/// the remote for a change the keyring does not have.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitHostileRemoteTests {
    @Test func rewoundRemoteIsRepublished() throws {
        let w = try GitSyncCLITests.team()
        let early = try w.git(["rev-parse", "main"])
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "carol"]).code == 0)
        for p in ["bob", "dave"] { try w.sync(p) }
        let before = try w.state("bob")
        #expect(before.0 == 2)
        // Someone with push access rewinds main to before both commits.
        try w.git(["update-ref", "refs/heads/main", early])
        let bob = try w.rk("bob", ["sync", "--json"])
        #expect(bob.code == 0, "\(bob)")
        #expect(bob.stderr.contains("remote is behind this keyring at epoch 2"), "\(bob)")
        #expect(try w.state("bob") == before)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.remoteFiles().contains("rooms/\(room)/log/2.roomkey"))
        // A member who never saw epochs 1 and 2 catches up from what was published again.
        try w.sync("carol")
        #expect(try w.state("carol").0 == 1, "carol was removed at epoch 2 and stops at 1")
        try w.sync("alice")
        #expect(try w.state("alice") == before)
    }

    @Test func deletedBundleIsPublishedAgain() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        try w.tamper(["rooms/\(room)/log/1.roomkey": nil])
        #expect(!(try w.remoteFiles()).contains("rooms/\(room)/log/1.roomkey"))
        let alice = try w.rk("alice", ["sync"])
        #expect(alice.code == 0 && alice.stderr.contains("remote is behind this keyring at epoch 1"), "\(alice)")
        #expect(try w.remoteFiles().contains("rooms/\(room)/log/1.roomkey"))
        for p in ["bob", "dave"] { try w.sync(p) }
        #expect(try w.state("dave") == w.state("alice"))
    }

    @Test func forgedCommitByAMemberIsRefusedAndReplaced() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        // bob, a plain member with push access, publishes a commit removing alice (the admin) at the next epoch.
        let forged = try w.forgedCommit(by: "bob", removing: "alice")
        try w.tamper(["rooms/\(room)/log/\(forged.epoch).roomkey": forged.bytes])
        let carol = try w.rk("carol", ["sync", "--json"])
        #expect(carol.code == 0, "\(carol)")
        let statuses = try #require(try carol.json()["received"] as? [[String: Any]]).compactMap { $0["status"] as? String }
        #expect(statuses.contains("rejected"), "\(carol)")
        #expect(carol.stderr.contains("roomkey: warning:"))
        #expect(try w.state("carol").0 == 0)
        // The epoch is still free for an admin: alice's next change replaces the forged file, and everyone follows her.
        let add = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        #expect(add.code == 0, "\(add)")
        for p in ["bob", "carol", "dave"] { try w.sync(p) }
        for p in ["bob", "carol", "dave"] { #expect(try w.state(p) == w.state("alice"), "\(p)") }
        #expect(try w.state("carol").0 == 1)
    }

    @Test(arguments: [CrashPoint.afterPush, CrashPoint.beforeMarker, CrashPoint.afterCommit])
    func killedSyncConverges(_ step: String) throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("bob", ["room", "rotate", "team"]).code == 0)
        try w.sync("bob")
        let r = try w.rk("alice", ["room", "add", "team", "dave"], env: ["ROOMKEY_TEST_CRASH": step])
        #expect(r.code == SIGKILL || r.code == 0, "\(step): \(r)")
        let audit = try w.rk("alice", ["audit", "--verify"])
        #expect(audit.code == 0, "\(audit)")
        // No orphan: every commit file on the remote is for an epoch the keyring holds, or it is the staged commit
        // the next sync applies.
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let epochBefore = try w.state("alice").0
        let logs = try w.remoteFiles().filter { $0.hasPrefix("rooms/\(room)/log/") }
        #expect(logs.count <= epochBefore + 2, "\(step): \(logs)")
        try w.sync("alice")
        for p in ["bob", "carol", "dave", "alice", "bob", "carol", "dave"] { try w.sync(p) }
        let alice = try w.state("alice")
        #expect(alice.0 == 1, "\(step): the staged add is published exactly once")
        #expect(try w.remoteFiles().filter { $0.hasPrefix("rooms/\(room)/log/") }.count == 2)
        for p in ["bob", "carol", "dave"] { #expect(try w.state(p) == alice, "\(step): \(p)") }
    }
}
