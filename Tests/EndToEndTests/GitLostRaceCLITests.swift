import Foundation
import Testing
@testable import RoomKey

/// A push that loses a race on a remote that serves filtered fetches (as git hosts do): git fetched the winner's tip
/// lazily, without its files, and the next fetch took that tip for whole, so the loser never read the winner's files and
/// every later sync failed (a hostile review: 3 of 14 unsynchronised races). The push keeps nothing it fetched.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitLostRaceCLITests {
    @Test func aPushThatLosesARaceLeavesTheMirrorWhole() throws {
        let w = try GitSyncCLITests.team()
        #expect(try GitWorld.runGit(["--git-dir=" + w.bare, "config", "uploadpack.allowFilter", "true"], in: w.s.root.path).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "carol", "alice"] { try w.sync(p) }
        let before = try GitWorld.runGit(["--git-dir=" + w.bare, "rev-parse", "refs/heads/main"], in: w.s.root.path).out
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // bob's change wins: published, then taken off the remote's main (its objects stay there) so that it comes back
        // between alice's fetch and her push, as a race brings it.
        #expect(try w.rk("bob", ["room", "add", "team", "dave"]).code == 0)
        let winner = try GitWorld.runGit(["--git-dir=" + w.bare, "rev-parse", "refs/heads/main"], in: w.s.root.path).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(winner != before)
        #expect(try GitWorld.runGit(["--git-dir=" + w.bare, "update-ref", "refs/heads/main", before], in: w.s.root.path).code == 0)

        // A git first on PATH that, at alice's first push, moves the remote's main to bob's commit.
        let git = try #require(Git.executable)
        let bin = w.s.path("race-bin"), flag = w.s.path("race-flag")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            for a in "$@"; do
                if [ "$a" = push ] && [ -e '\(flag)' ]; then
                    rm -f '\(flag)'
                    env -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES '\(git)' --git-dir='\(w.bare)' update-ref refs/heads/main \(winner)
                fi
            done
            exec '\(git)' "$@"
            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: bin + "/git"))
        #expect(chmod(bin + "/git", 0o755) == 0)
        FileManager.default.createFile(atPath: flag, contents: Data())
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

        let raced = try w.rk("alice", ["room", "remove", "team", "carol"], env: ["PATH": path])
        #expect(!FileManager.default.fileExists(atPath: flag), "the race was run")
        #expect(raced.code == 0 || raced.code == 5, "\(raced)")
        // alice receives bob's commit, and her change goes out after it: every sync from now on succeeds.
        for _ in 0..<2 {
            for p in ["alice", "bob", "dave"] { try w.sync(p) }
        }
        let alice = try w.show("alice")
        let members = Set((alice["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String })
        #expect(members.contains("dave") && !members.contains("carol"), "\(members)")
        #expect(try w.state("bob") == (try w.state("alice")))
        #expect(try w.state("dave") == (try w.state("alice")))
    }

    /// The sync that recovers a sync killed after its push publishes the new epoch and this keyring's own sender key of
    /// it, in a second round (PROTOCOL §9.3 step 6): it stopped after the first, and members could not read the admin's
    /// messages of the new epoch until another sync (a review).
    @Test func theSyncAfterAKillAfterThePushPublishesTheOwnSenderKey() throws {
        let w = try GitSyncCLITests.team()
        let killed = try w.rk("alice", ["room", "add", "team", "dave"], env: ["ROOMKEY_TEST_CRASH": CrashPoint.afterPush])
        #expect(killed.code == SIGKILL, "\(killed)")
        try w.sync("alice")
        #expect(try w.state("alice").0 == 1)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let alice = try #require(try w.rk("alice", ["id", "--json"]).json()["id"] as? String)
        let files = try w.remoteFiles()
        #expect(files.contains { $0.hasPrefix("rooms/\(room)/keys/1/\(alice)") }, "alice's epoch 1 sender key is on the remote: \(files)")
        // bob reads alice's message of the new epoch after one sync.
        try w.sync("bob")
        let message = w.s.path("m.roomkey")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data("hello".utf8)).code == 0)
        let read = try w.rk("bob", ["decrypt", message])
        #expect(read.code == 0 && read.stdout == "hello", "\(read)")
    }

    /// `sync` of a remote that is not there changes nothing in the keyring, not even its clock of automatic pruning.
    @Test func aSyncOfAnUnknownRemoteLeavesTheKeyringAsItWas() throws {
        let w = try GitSyncCLITests.team()
        let before = w.s.rawBytes(of: "bob")
        // Two days on, so that the automatic prune is due: it ran first, and wrote its clock.
        let later = String(Int(Date().timeIntervalSince1970) + 2 * 86_400)
        let r = try w.rk("bob", ["sync", "nosuch"], env: ["ROOMKEY_TEST_NOW": later])
        #expect(r.code == 4, "\(r)")
        #expect(w.s.rawBytes(of: "bob") == before)
    }

    /// The push reads the mirror's objects through `GIT_ALTERNATE_OBJECT_DIRECTORIES`, a list split at colons: a state
    /// folder whose path holds a colon still pushes.
    @Test func aMirrorPathWithAColonStillPushes() throws {
        let w = try GitWorld(["alice", "bob"])
        let state = w.s.path("state:with:colons")
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"], env: ["XDG_STATE_HOME": state]).code == 0)
        #expect(try w.rk("alice", ["remote", "add", "origin", w.url], env: ["XDG_STATE_HOME": state]).code == 0)
        let first = try w.rk("alice", ["sync"], env: ["XDG_STATE_HOME": state])
        #expect(first.code == 0, "\(first)")
        let change = try w.rk("alice", ["room", "rotate", "team"], env: ["XDG_STATE_HOME": state])
        #expect(change.code == 0, "\(change)")
        let again = try w.rk("alice", ["sync"], env: ["XDG_STATE_HOME": state])
        #expect(again.code == 0, "\(again)")
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.remoteFiles().contains("rooms/\(room)/log/0.roomkey"))
    }
}
