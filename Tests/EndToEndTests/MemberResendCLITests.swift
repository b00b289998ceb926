import Foundation
import Testing

/// `outbox resend` by a member who did not make the epoch's commit: its own bundles of that epoch carry keys alone, so
/// the resend must carry the commit too, or a keyring that lost the commit (an admin restored from a backup) cannot
/// catch up from it (a review: the restored admin's `receive` of a member's resend stayed pending, and its next commit
/// forked the room).
@Suite struct MemberResendCLITests {
    @Test func aMembersResendBringsARestoredAdminBackToTheEpoch() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try w.exchange(["bob", "carol"])
        #expect(try w.show("carol")["epoch"] as? Int == 1)
        #expect(try w.rk("alice", ["restore", backup, "--force"]).code == 0)
        #expect(try w.show("alice")["epoch"] as? Int == 0)

        let resend = try w.rk("carol", ["outbox", "resend", "team", "--epoch", "1", "--json"])
        #expect(resend.code == 0, "\(resend)")
        let files = try #require(try resend.json()["bundles"] as? [String])
        let received = try w.rk("alice", ["receive"] + files)
        #expect(received.code == 0, "\(received)")
        let shown = try w.show("alice")
        #expect(shown["epoch"] as? Int == 1, "\(shown)")
        let handles = (shown["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
        #expect(handles.sorted() == ["alice", "bob", "carol"])
        // Caught up, the admin's next commit follows the others' log instead of forking it; carol's messages of epoch 1
        // (her key came in the resend) read.
        let message = w.s.path("m.msg")
        #expect(try w.rk("carol", ["encrypt", "team", "-o", message], stdin: Data("hi".utf8)).code == 0)
        let read = try w.rk("alice", ["decrypt", message])
        #expect(read.code == 0 && read.stdout == "hi", "\(read)")
        let add = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        #expect(add.code == 0, "\(add)")
        let bundle = try #require(try add.json()["bundle"] as? String)
        let bob = try w.rk("bob", ["receive", bundle])
        #expect(bob.code == 0, "\(bob)")
        #expect(try w.show("bob")["epoch"] as? Int == 2)
    }
}
