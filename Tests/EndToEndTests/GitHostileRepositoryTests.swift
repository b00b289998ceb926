import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A remote repository made hostile by someone with push access or with write access to its folder (a hostile review).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed"))
struct GitHostileRepositoryTests {
    /// Adds `name` (a blob "x") at the root of the remote's `main` tree, as anyone with push access can with
    /// `git mktree` and a plain push (a server without `receive.fsckObjects` takes it).
    static func addRootEntry(_ w: GitWorld, name: String) throws {
        let tip = try w.git(["rev-parse", "main"])
        let b = try w.git(["hash-object", "-w", "/dev/null"])
        var listing = try w.git(["ls-tree", "main"])
        listing += "\n100644 blob \(b)\t\(name)\n"
        let path = w.s.path("tree-\(UUID().uuidString)")
        try Data(listing.utf8).write(to: URL(fileURLWithPath: path))
        let made = try GitWorld.shell("git --git-dir='\(w.bare)' mktree < '\(path)'")
        let id = made.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 40, "mktree: \(made)")
        let commit = try w.git(["commit-tree", id, "-p", tip, "-m", "junk"])
        try w.git(["update-ref", "refs/heads/main", commit])
    }

    /// A tree entry named `.git` (or `..`) pushed by any member: `git read-tree` of the tip refuses it ("invalid path"),
    /// and `GitMirror.commit` starts every commit with `read-tree TIP`, so no member can push anything any more
    /// (staged changes, sender keys, repairs) until someone outside roomkey rewrites the branch.
    @Test(arguments: [".git", ".."])
    func aHostileTreeEntryDoesNotStopEveryPush(_ name: String) throws {
        let w = try GitSyncCLITests.team()
        try Self.addRootEntry(w, name: name)
        // A plain member's sync receives fine (nothing to push).
        let carol = try w.rk("carol", ["sync"])
        #expect(carol.code == 0, "\(carol)")
        // An admin's change can no longer be published.
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 0, "\(add)")
        let again = try w.rk("alice", ["sync"])
        #expect(again.code == 0, "\(again)")
    }

    /// A repository on this machine whose configuration others can write (a shared or synced folder, the case
    /// `GitMirror.localServer` guards against): with `receive.denyCurrentBranch=updateInstead`, the receive-pack that
    /// serves a push updates the work tree, which runs `core.fsmonitor` and any `filter.*.smudge` of that repository's
    /// configuration as this user. `localServer` turns off hooks but neither of those.
    @Test func aLocalRepositorysFsmonitorAndSmudgeFilterDoNotRun() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-marker-\(UUID().uuidString)").path
        let w = try GitWorld(["alice", "bob"])
        do {
            let nonBare = w.s.path("shared-repo")
            for args in [["init", "-q", nonBare]] { #expect(try GitWorld.runGit(args, in: w.s.root.path).code == 0) }
            for args in [["commit", "-q", "--allow-empty", "-m", "init"], ["branch", "-M", "main"],
                         ["config", "receive.denyCurrentBranch", "updateInstead"]] {
                let r = try GitWorld.runGit(args, in: nonBare)
                #expect(r.code == 0, "\(r)")
            }
            let monitor = w.s.path("fsmonitor.sh")
            try Data("#!/bin/sh\necho fsmonitor >> '\(marker)'\nexit 1\n".utf8).write(to: URL(fileURLWithPath: monitor))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: monitor)
            #expect(try GitWorld.runGit(["config", "core.fsmonitor", monitor], in: nonBare).code == 0)
            #expect(try GitWorld.runGit(["config", "filter.evil.smudge", "sh -c 'echo smudge >> \(marker); cat'"], in: nonBare).code == 0)
            try FileManager.default.createDirectory(atPath: nonBare + "/.git/info", withIntermediateDirectories: true)
            try Data("* filter=evil\n".utf8).write(to: URL(fileURLWithPath: nonBare + "/.git/info/attributes"))
            w.url = nonBare
        }
        defer { try? FileManager.default.removeItem(atPath: marker) }
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.addRemote(["alice"])
        _ = try w.rk("alice", ["sync"])  // the push may be refused (the branch is checked out there): only what ran matters
        let ran = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        #expect(ran.isEmpty, "the shared repository's commands ran as this user: \(ran)")
    }
}

extension GitWorld {
    /// Runs `command` with /bin/sh; its standard output.
    static func shell(_ command: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
