import Foundation
import Testing
@testable import RoomKey

/// A file larger than any bundle at the next epoch's commit path fails a check every receiver makes (none reads it), so
/// an admin's sync replaces it with its commit (a review: one file over 256 MiB there, "could not be read", blocked
/// every admin's commit at every sync, whether the server left it out by the size filter or sent it).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitOversizedLockTests {
    @Test(arguments: [true, false])
    func aHugeFileAtTheNextEpochDoesNotBlockTheCommit(serverFilters: Bool) throws {
        let w = try GitSyncCLITests.team()
        try w.git(["config", "uploadpack.allowFilter", serverFilters ? "true" : "false"])
        let room = try #require(try w.show("alice")["room_id"] as? String)
        try w.tamper(["rooms/\(room)/log/1.roomkey": (0..<300_000).map { _ in UInt8.random(in: 0...255) }])
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "--no-sync"]).code == 0)
        let report = try GitMirrorSafetyTests.sync(w, "alice", fileLimit: 200_000)
        #expect(report.published.map(\.epoch) == [1], "blocked: \(report.blocked.map(\.reason))")
        #expect(try w.state("alice").0 == 1)
        try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"))
    }
}

/// A bundle is received from a remote only at the path of its own room and epoch (a review: a pusher moved another
/// room's genesis into this room's folder, and a member who had forgotten that room joined it from there).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitMisplacedFileTests {
    @Test func aBundleAtAnotherEpochsPathIsRejected() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        let show = Process()
        show.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        show.arguments = ["git", "-C", w.bare, "cat-file", "blob", "main:rooms/\(room)/log/1.roomkey"]
        let out = Pipe()
        show.standardOutput = out
        try show.run()
        let commit = Array(out.fileHandleForReading.readDataToEndOfFile())
        show.waitUntilExit()
        #expect(show.terminationStatus == 0 && commit.count > 100)
        try w.tamper(["rooms/\(room)/keys/7/\(String(repeating: "cd", count: 16))-0.roomkey": commit])
        let r = try w.rk("carol", ["sync"])
        #expect(r.code == 0, "\(r)")
        #expect(r.stderr.contains("keys/7/") && r.stderr.contains("its header names another room or epoch than its path"), "\(r)")
        let carol = try w.state("carol"), alice = try w.state("alice")
        #expect(carol == alice, "\(carol) \(alice) \(r)")
    }
}
