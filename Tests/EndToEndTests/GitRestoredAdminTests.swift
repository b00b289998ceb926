import Foundation
import Testing

/// An admin restored from a backup older than its last commit finds that commit on the remote, where it never opens for
/// its sender: sync said "you were removed", and nothing about being behind (a review).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitRestoredAdminTests {
    @Test func aRestoredAdminIsToldItIsBehind() throws {
        let w = try GitSyncCLITests.team()
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["restore", backup, "--force"]).code == 0)
        let r = try w.rk("alice", ["sync"])
        #expect(r.code == 0, "\(r)")
        #expect(r.stderr.contains("epoch 1 of room team on the remote is a commit of this identity that this keyring does not hold"), "\(r)")
        #expect(!r.stderr.contains("you were removed"), "\(r)")
    }
}
