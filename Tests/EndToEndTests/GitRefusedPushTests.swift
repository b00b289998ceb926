import Foundation
import Testing

/// A server that refuses a push (its pre-receive hook) is reported with its reason, and the change stays staged
/// (a review: over ssh the error read "git push failed: and the repository exists.", the tail of git's hint).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitRefusedPushTests {
    @Test func aRefusedPushSaysSoAndKeepsTheChangeStaged() throws {
        let daemonRoot = try Sandbox()
        let repo = daemonRoot.path("team.git")
        #expect(try GitWorld.runGit(["init", "--bare", "-q", repo], in: daemonRoot.root.path).code == 0)
        let (daemon, port) = try GitSyncCLITests.startDaemon(serving: daemonRoot)
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        let w = try GitSyncCLITests.team([], url: { _ in "git://127.0.0.1:\(port)/team.git" })
        let hook = repo + "/hooks/pre-receive"
        try Data("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n".utf8).write(to: URL(fileURLWithPath: hook))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let remove = try w.rk("alice", ["room", "remove", "team", "carol"])
        #expect(remove.code != 0, "\(remove)")
        #expect(remove.stderr.contains("the remote refused it") && remove.stderr.contains("hook declined"), "\(remove.stderr)")
        // Once the server takes pushes again, the change is published.
        try FileManager.default.removeItem(atPath: hook)
        try w.sync("alice")
        #expect(try w.state("alice").0 == 1)
    }
}
