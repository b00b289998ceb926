import Foundation
import Testing
@testable import RoomKey

/// Sender-key files on a git remote: an admin's sync deletes those of epochs superseded longer ago than the room's
/// retention window, in every room it administers, and nothing else.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitRetentionTests {
    /// The epochs of `room`'s `keys/<epoch>/` folders on the remote.
    static func keyEpochs(_ w: GitWorld, _ room: String) throws -> Set<Int> {
        let prefix = "rooms/\(room)/keys/"
        return Set(try w.remoteFiles().filter { $0.hasPrefix(prefix) }.compactMap { Int($0.dropFirst(prefix.count).split(separator: "/")[0]) })
    }

    @Test func expiredKeyFilesLeaveTheRemoteInEveryRoomTheAdminAdministersAndNowhereElse() throws {
        let w = try GitWorld(["alice", "bob", "carol"])
        for room in ["team", "two"] { #expect(try w.rk("alice", ["room", "create", room, "--member", "bob"]).code == 0) }
        #expect(try w.rk("bob", ["room", "create", "bobs", "--member", "alice"]).code == 0)
        try w.addRemote(["alice", "bob", "carol"])
        for p in ["bob", "alice", "bob"] { try w.sync(p) }
        // Two membership changes in each of alice's rooms (epochs 1 and 2), one in bob's.
        for room in ["team", "two"] {
            for change in ["add", "remove"] { #expect(try w.rk("alice", ["room", change, room, "carol"]).code == 0, "\(change) \(room)") }
        }
        #expect(try w.rk("bob", ["room", "add", "bobs", "carol"]).code == 0)
        for p in ["bob", "alice", "bob", "alice"] { try w.sync(p) }
        let ids = try ["team", "two", "bobs"].map { try #require(try w.show("alice", room: $0)["room_id"] as? String) }
        #expect(try Self.keyEpochs(w, ids[0]) == [0, 1, 2])
        #expect(try Self.keyEpochs(w, ids[1]) == [0, 1, 2])
        #expect(try Self.keyEpochs(w, ids[2]) == [0, 1])

        // Within the window (72 hours by default) nothing goes.
        let soon = try w.rk("alice", ["sync", "--json"], env: ["ROOMKEY_TEST_NOW": String(Keyring.systemClock() + 3600)])
        #expect(soon.code == 0, "\(soon)")
        #expect(try Self.keyEpochs(w, ids[0]) == [0, 1, 2])

        // Past it, one sync of alice's removes epochs 0 and 1 from both of her rooms; bob's room is his to prune.
        let later = try w.rk("alice", ["sync", "--json"], env: ["ROOMKEY_TEST_NOW": String(Keyring.systemClock() + 4 * 24 * 3600)])
        #expect(later.code == 0, "\(later)")
        #expect(try Self.keyEpochs(w, ids[0]) == [2])
        #expect(try Self.keyEpochs(w, ids[1]) == [2])
        #expect(try Self.keyEpochs(w, ids[2]) == [0, 1])
        // The log stays whole: commits are never deleted.
        let files = try w.remoteFiles()
        for id in ids[0...1] { for e in 0...2 { #expect(files.contains("rooms/\(id)/log/\(e).roomkey"), "\(id) \(e)") } }
    }

    /// Files written again (`resent/<epoch>/`) go with the sender keys of their epoch: they were never deleted, and each
    /// resend with the commit is a new file (a review).
    @Test func expiredResentFilesLeaveTheRemoteToo() throws {
        let w = try GitWorld(["alice", "bob", "carol"])
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.addRemote(["alice", "bob", "carol"])
        for p in ["alice", "bob"] { try w.sync(p) }
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        for p in ["bob", "carol", "alice"] { try w.sync(p) }
        #expect(try w.rk("bob", ["outbox", "resend", "team", "--with-commit"]).code == 0)
        try w.sync("bob")
        let id = try #require(try w.show("alice")["room_id"] as? String)
        let resent = { try w.remoteFiles().filter { $0.hasPrefix("rooms/\(id)/resent/") } }
        #expect(try !resent().isEmpty)
        #expect(try w.rk("alice", ["room", "remove", "team", "carol"]).code == 0)
        for p in ["bob", "alice"] { try w.sync(p) }
        let later = try w.rk("alice", ["sync", "--json"], env: ["ROOMKEY_TEST_NOW": String(Keyring.systemClock() + 4 * 24 * 3600)])
        #expect(later.code == 0, "\(later)")
        let left = try resent()
        #expect(left.isEmpty, "\(left)")
        #expect(try Self.keyEpochs(w, id) == [2])
    }
}
