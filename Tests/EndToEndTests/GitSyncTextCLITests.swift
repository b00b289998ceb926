import Foundation
import Testing
@testable import RoomKey

/// `sync`'s text output counts the files it did not apply by status, as `receive` does: a file that waits for an
/// earlier epoch is pending, read again by a later sync, not skipped (a hostile review: the text called it skipped).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitSyncTextCLITests {
    @Test func pendingFilesAreCountedAsPending() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try w.sync("alice")
        let room = try #require(try w.show("alice")["room_id"] as? String)
        // Epoch 1's commit gone from the remote: epoch 2's waits for it.
        try w.tamper(["rooms/\(room)/log/1.roomkey": nil])
        let r = try w.rk("bob", ["sync"])
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("received ") }, "\(r)")
        #expect(line.contains("pending") && !line.contains("skipped"), "\(r)")
    }
}
