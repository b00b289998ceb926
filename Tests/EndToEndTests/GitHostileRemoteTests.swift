import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

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

    /// A server that deletes `main` is a rewind to nothing: said so, and everything published again (a review: exit 0
    /// and no word). One whose `main` names a blob is refused as damage, not taken for an empty remote (every push then
    /// "lost a race": exit 5 after 12 waits with no other admin).
    @Test func aDeletedOrBrokenMainIsReported() throws {
        let w = try GitSyncCLITests.team()
        try w.git(["update-ref", "-d", "refs/heads/main"])
        let bob = try w.rk("bob", ["sync", "--json"])
        #expect(bob.code == 0, "\(bob)")
        #expect(try bob.json()["rewound"] as? Bool == true, "\(bob.stdout)")
        #expect(bob.stderr.contains("the remote's branch was rewound"), "\(bob)")
        // git's own update-ref refuses a blob for a branch: the server writes the ref file.
        _ = try GitWorld.shell("export GIT_DIR='\(w.bare)'; git pack-refs --all; printf '%s\\n' $(printf junk | git hash-object -w --stdin) > '\(w.bare)/refs/heads/main'")
        let alice = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(alice.code == 1 && alice.stderr.contains("the remote's main is not a commit"), "\(alice)")
        #expect(!alice.stderr.contains("kept publishing first"), "\(alice)")
    }

    /// Sender-key paths are predictable (`keys/<epoch>/<sender>-<generation>`), so a member with push access can take
    /// the next epoch's paths of the others first. Each sync then found its own files "published" and skipped them, and
    /// every message of those members stayed undecryptable (exit 5) for everyone, with nothing reported (a review
    /// found this). The owner's sync writes its own file again and says so; the members read each other again.
    @Test func squattedSenderKeyPathsAreTakenBack() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        var junk: [String: [UInt8]?] = [:]
        for who in ["alice", "bob"] {
            let id = try #require(try w.rk(who, ["id", "--json"]).json()["id"] as? String)
            for g in 0..<3 { junk["rooms/\(room)/keys/1/\(id)-\(g).roomkey"] = Array("junk\n".utf8) }
        }
        try w.tamper(junk)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        var replaced: [[String: Any]] = []
        for _ in 0..<2 {
            for p in ["alice", "bob", "carol"] {
                let r = try w.rk(p, ["sync", "--json"])
                #expect(r.code == 0, "\(p): \(r)")
                replaced += try r.json()["replaced"] as? [[String: Any]] ?? []
            }
        }
        #expect(!replaced.isEmpty, "\(replaced)")
        for (path, _) in junk where path.hasSuffix("-0.roomkey") {
            #expect(!(try w.git(["show", "main:\(path)"])).hasPrefix("junk"), "\(path)")
        }
        let message = w.s.path("bob.msg")
        #expect(try w.rk("bob", ["encrypt", "team", "-o", message], stdin: Data("hello\n".utf8)).code == 0)
        let read = try w.rk("alice", ["decrypt", message])
        #expect(read.code == 0 && read.stdout == "hello\n", "\(read)")
    }

    /// A remote that refuses every push as if another admin always won: sync gives up after its bounded retries
    /// (exit 5, the change kept staged) instead of looping, and publishes it once the remote takes pushes again.
    @Test func endlesslyRefusedPushGivesUpWithTheChangeStaged() throws {
        let w = try GitSyncCLITests.team()
        // A locked branch (the remote's hooks never run for roomkey, not even on this machine): every push is refused.
        let hook = w.bare + "/refs/heads/main.lock"
        try Data().write(to: URL(fileURLWithPath: hook))
        let before = try w.state("alice")
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 5, "\(add)")
        #expect(try w.state("alice") == before, "the change stays staged until it is published")
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(!(try w.remoteFiles()).contains("rooms/\(room)/log/1.roomkey"))
        try FileManager.default.removeItem(atPath: hook)
        try w.sync("alice")
        #expect(try w.state("alice").0 == before.0 + 1)
        #expect(try w.remoteFiles().contains("rooms/\(room)/log/1.roomkey"))
    }

    /// A repository on this machine runs its own hooks and configuration in the git that serves a push or a fetch,
    /// and git does not pass the client's `-c core.hooksPath=/dev/null` to it: a member who could write to a shared
    /// folder holding the repository ran commands as every admin at their next sync (found by a hostile review).
    @Test func aLocalRepositorysHooksDoNotRun() throws {
        let w = try GitSyncCLITests.team()
        let marker = w.s.path("hook-ran"), hooks = w.s.path("evil-hooks")
        try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        for folder in [w.bare + "/hooks", hooks] {
            for hook in ["pre-receive", "update", "post-receive", "post-update", "reference-transaction"] {
                let file = folder + "/" + hook
                try Data("#!/bin/sh\necho \(hook) >> '\(marker)'\n".utf8).write(to: URL(fileURLWithPath: file))
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
            }
        }
        for url in [w.bare, "file://" + w.bare] {
            try FileManager.default.removeItem(atPath: w.bare + "/hooks")
            try FileManager.default.createSymbolicLink(atPath: w.bare + "/hooks", withDestinationPath: hooks)
            try w.git(["config", "core.hooksPath", hooks])
            #expect(try w.rk("alice", ["remote", "remove", "origin"]).code == 0)
            #expect(try w.rk("alice", ["remote", "add", "origin", url]).code == 0)
            #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
            try w.sync("alice")
            try w.sync("bob")
            try FileManager.default.removeItem(atPath: w.bare + "/hooks")
            try FileManager.default.createDirectory(atPath: w.bare + "/hooks", withIntermediateDirectories: true)
        }
        #expect(try w.state("bob") == w.state("alice"))
        let ran = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        #expect(ran.isEmpty, "hooks ran: \(ran)")
    }

    /// A URL that looks remote can reach a local repository through the user's `url.*.insteadOf` (a review of the first
    /// fix ran a hook that way): the URL is judged as git will reach it.
    @Test func aURLRewrittenToALocalRepositoryRunsNoHooks() throws {
        let w = try GitSyncCLITests.team()
        let marker = w.s.path("hook-ran"), home = w.s.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        for hook in ["pre-receive", "post-receive", "post-update"] {
            let file = w.bare + "/hooks/" + hook
            try Data("#!/bin/sh\necho \(hook) >> '\(marker)'\n".utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        }
        let folder = (w.bare as NSString).deletingLastPathComponent, name = (w.bare as NSString).lastPathComponent
        try Data("[url \"\(folder)/\"]\n\tinsteadOf = shared:\n".utf8).write(to: URL(fileURLWithPath: home + "/.gitconfig"))
        let env = ["HOME": home]
        #expect(try w.rk("alice", ["remote", "remove", "origin"], env: env).code == 0)
        #expect(try w.rk("alice", ["remote", "add", "origin", "shared:" + name], env: env).code == 0)
        #expect(try w.rk("alice", ["room", "rotate", "team"], env: env).code == 0)
        let sync = try w.rk("alice", ["sync"], env: env)
        #expect(sync.code == 0, "\(sync)")
        let ran = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        #expect(ran.isEmpty, "hooks ran: \(ran)")
        #expect(try w.remoteFiles().contains { $0.contains("/keys/") }, "nothing was pushed through the rewritten URL")
    }

    /// Only the direction git reaches locally gets the local server command: fetching from a local mirror and pushing
    /// over ssh is a common setup, and a git host's ssh shell refuses anything but the plain program (a review found
    /// every push broken by the first version, which set both).
    @Test func onlyTheLocalDirectionGetsTheLocalServerCommand() throws {
        let w = try GitSyncCLITests.team()
        let home = w.s.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let folder = (w.bare as NSString).deletingLastPathComponent, name = (w.bare as NSString).lastPathComponent
        try Data("""
            [url "\(folder)/"]
            \tinsteadOf = ssh://example.invalid/
            [url "ssh://example.invalid/"]
            \tpushInsteadOf = ssh://example.invalid/

            """.utf8).write(to: URL(fileURLWithPath: home + "/.gitconfig"))
        let env = ["HOME": home, "GIT_SSH_COMMAND": "false"]
        #expect(try w.rk("alice", ["remote", "remove", "origin"], env: env).code == 0)
        #expect(try w.rk("alice", ["remote", "add", "origin", "ssh://example.invalid/" + name], env: env).code == 0)
        _ = try w.rk("alice", ["sync"], env: env)  // the push fails (no ssh here); the mirror is configured before it
        let mirror = try #require(GitMirrorSafetyTests.mirrors(w, "alice").first)
        let upload = try GitWorld.runGit(["--git-dir", mirror, "config", "remote.origin.uploadpack"], in: w.s.root.path)
        let receive = try GitWorld.runGit(["--git-dir", mirror, "config", "remote.origin.receivepack"], in: w.s.root.path)
        #expect(upload.code == 0 && upload.out.contains("core.hooksPath=/dev/null"), "\(upload)")
        #expect(receive.code != 0, "a push over ssh would send: \(receive.out)")
    }

    /// A gitlink (a submodule entry) pushed at a bundle's path by anyone with push access is not a file: members'
    /// syncs skip it instead of failing on it for ever.
    @Test func gitlinkAtABundlePathDoesNotStopSync() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let tip = try w.git(["rev-parse", "main"])
        let fake = String(repeating: "ab", count: 20)
        let tree = try w.git(["ls-tree", "main"])
        // Rebuild main's tree with one more entry: a gitlink at the next epoch's commit path.
        let work = w.s.path("gitlink-index")
        let env = ["GIT_INDEX_FILE": work]
        for args in [["read-tree", tip], ["update-index", "--add", "--cacheinfo", "160000,\(fake),rooms/\(room)/log/1.roomkey"]] {
            let r = try GitWorld.runGit(["--git-dir", w.bare] + args, in: w.s.root.path, env: env)
            #expect(r.code == 0, "\(r.err)")
        }
        let written = try GitWorld.runGit(["--git-dir", w.bare, "write-tree"], in: w.s.root.path, env: env)
        let newTree = written.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try GitWorld.runGit(["--git-dir", w.bare, "commit-tree", newTree, "-p", tip, "-m", "x"], in: w.s.root.path,
                                         env: ["GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@invalid", "GIT_COMMITTER_NAME": "x",
                                               "GIT_COMMITTER_EMAIL": "x@invalid"])
        let id = commit.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!tree.isEmpty && !id.isEmpty, "\(commit.err)")
        try w.git(["update-ref", "refs/heads/main", id])
        for p in ["bob", "carol"] {
            let r = try w.rk(p, ["sync"])
            #expect(r.code == 0, "\(p): \(r)")
        }
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
    /// Noise that names `sender` at `epoch` of `state`'s room, with stanzas for the other members that open to a key its
    /// payload was never sealed under: nobody can read it, so only the named sender can tell it is not its own.
    static func noise(naming sender: IdentityID, epoch: UInt64, of state: RoomState) throws -> [UInt8] {
        let header = Bundle.header(roomID: state.roomID, epoch: epoch, sender: sender)
        let recipients = state.roster.sorted.filter { $0.id != sender }.map { (id: $0.id, key: $0.card.sealingKey) }
        let stanzas = try BundleSealer.sealStanzas(recipients, key: SymmetricKey.random(using: try SystemRandom()))
        return header + stanzas + (try SystemRandom().bytes(200))
    }

    /// A member with push access puts noise naming the admin at the next epoch's path: the admin's staged change used
    /// to stay blocked for good ("cannot be opened here"); the admin, whose file it claims to be, replaces it.
    @Test func noiseNamingTheAdminAtTheNextEpochIsReplacedByThatAdmin() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let state = try w.keyring("bob").room("team").state
        let alice = try #require(state.roster.sorted.first { $0.card.handle == "alice" })
        try w.tamper(["rooms/\(room)/log/\(state.epoch + 1).roomkey": try Self.noise(naming: alice.id, epoch: state.epoch + 1, of: state)])
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 0, "\(add)")
        #expect(try w.state("alice").0 == Int(state.epoch) + 1, "alice's add is published")
        let dave = try w.rk("dave", ["sync"])
        #expect(dave.code == 0, "\(dave)")
        #expect(try w.state("dave").0 == Int(state.epoch) + 1)
    }

    /// The same noise over a commit file the admin published: the admin republishes its own bundle (it used to take
    /// the noise for its own file and leave it), so the member it added can join.
    @Test func noiseOverThePublishedCommitIsRepaired() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        let state = try w.keyring("alice").room("team").state
        let alice = try #require(state.roster.sorted.first { $0.card.handle == "alice" })
        try w.tamper(["rooms/\(room)/log/\(state.epoch).roomkey": try Self.noise(naming: alice.id, epoch: state.epoch, of: state)])
        let sync = try w.rk("alice", ["sync", "--json"])
        #expect(sync.code == 0, "\(sync)")
        let repaired = try #require(try sync.json()["repaired"] as? [[String: Any]], "\(sync)")
        #expect(repaired.map { $0["epoch"] as? Int } == [Int(state.epoch)], "\(sync)")
        #expect(try w.rk("dave", ["sync"]).code == 0)
        #expect(try w.state("dave").0 == Int(state.epoch), "dave joined through the remote")
    }
    /// The remote withholds epoch 1 until a member's pending copy of epoch 2 is gone (pruned after 72 hours), then serves
    /// it again: the member used to apply epoch 1 and stop there for good, since only a room with a staged change looked
    /// at its next epoch's file again (found by a hostile review).
    @Test func aMemberCatchesUpOnceAWithheldEpochIsServed() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        let copy = w.s.path("copy")
        #expect(try GitWorld.runGit(["clone", "-q", "-b", "main", w.bare, copy], in: w.s.root.path).code == 0)
        let path = "rooms/\(room)/log/1.roomkey"
        let first = [UInt8](try Data(contentsOf: URL(fileURLWithPath: copy + "/" + path)))
        try w.tamper([path: nil])
        _ = try w.rk("carol", ["sync"])
        let later = ["ROOMKEY_TEST_NOW": String(UInt64(Date().timeIntervalSince1970) + 73 * 3600)]
        #expect(try w.rk("carol", ["prune"], env: later).code == 0)
        try w.tamper([path: first])
        let sync = try w.rk("carol", ["sync"], env: later)
        #expect(sync.code == 0, "\(sync)")
        #expect(try w.show("carol")["epoch"] as? Int == 2, "\(sync)")
    }
}
