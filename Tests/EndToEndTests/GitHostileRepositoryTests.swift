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

extension GitHostileRepositoryTests {
    /// Makes a tree that names one subtree `fanout` times at each of `levels` levels over one blob (fanout^levels paths
    /// from a few kilobytes) and commits it on the remote's `main` at `prefix` (e.g. "rooms/<hex>" or "junk").
    static func addBomb(_ w: GitWorld, at prefix: String, levels: Int, fanout: Int) throws {
        let git = "git --git-dir='\(w.bare)'"
        var id = try w.git(["hash-object", "-w", "/dev/null"]), kind = "blob", mode = "100644"
        for _ in 0..<levels {
            let listing = (0..<fanout).map { "\(mode) \(kind) \(id)\tn\($0)\n" }.joined()
            let file = w.s.path("level-\(UUID().uuidString)")
            try Data(listing.utf8).write(to: URL(fileURLWithPath: file))
            id = try GitWorld.shell("\(git) mktree < '\(file)'").trimmingCharacters(in: .whitespacesAndNewlines)
            (kind, mode) = ("tree", "040000")
        }
        // Wrap the bomb in the folders of `prefix`, innermost first, then merge it into the tip's root tree.
        for name in prefix.split(separator: "/").dropFirst().reversed() {
            let file = w.s.path("wrap-\(UUID().uuidString)")
            try Data("040000 tree \(id)\t\(name)\n".utf8).write(to: URL(fileURLWithPath: file))
            id = try GitWorld.shell("\(git) mktree < '\(file)'").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let top = String(prefix.split(separator: "/")[0])
        let tip = try w.git(["rev-parse", "main"])
        var root = try w.git(["ls-tree", "main"]).split(separator: "\n").map(String.init)
        if top == "rooms" {
            // Inside rooms/: the bomb's folder joins the rooms that are there.
            let rooms = try w.git(["ls-tree", "main:rooms"]).split(separator: "\n").map(String.init)
            let file = w.s.path("rooms-\(UUID().uuidString)")
            try Data((rooms + ["040000 tree \(id)\t\(prefix.split(separator: "/")[1])"]).map { $0 + "\n" }.joined().utf8)
                .write(to: URL(fileURLWithPath: file))
            let roomsTree = try GitWorld.shell("\(git) mktree < '\(file)'").trimmingCharacters(in: .whitespacesAndNewlines)
            root = root.filter { !$0.hasSuffix("\trooms") } + ["040000 tree \(roomsTree)\trooms"]
        } else {
            root.append("040000 tree \(id)\t\(top)")
        }
        let file = w.s.path("root-\(UUID().uuidString)")
        try Data(root.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: file))
        let tree = try GitWorld.shell("\(git) mktree < '\(file)'").trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try w.git(["commit-tree", tree, "-p", tip, "-m", "bomb"])
        try w.git(["update-ref", "refs/heads/main", commit])
    }

    /// A tree bomb outside rooms/ is never listed: every member syncs as before.
    @Test func aTreeBombOutsideTheRoomsFolderIsNotListed() throws {
        let w = try GitSyncCLITests.team()
        try Self.addBomb(w, at: "junk", levels: 7, fanout: 10)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        let alice = try w.rk("alice", ["sync"])
        #expect(alice.code == 0, "\(alice)")
        for p in ["bob", "carol"] {
            let r = try w.rk(p, ["sync"])
            #expect(r.code == 0, "\(p): \(r)")
        }
    }

    /// Adds the room folder `rooms/<room>` to the remote's tip: `keys/1..epochs/`, each naming the same tree of
    /// `files` empty files (epochs x files paths from two small trees).
    static func addRoomFolder(_ w: GitWorld, room: String, epochs: Int, files: Int, seed: String = "") throws {
        let script = """
        set -e; export GIT_DIR='\(w.bare)'; e=$(git hash-object -w /dev/null)
        f=$(i=0; while [ $i -lt \(files) ]; do printf "100644 blob $e\\t\(seed)$i.roomkey\\n"; i=$((i+1)); done | git mktree)
        k=$(i=1; while [ $i -le \(epochs) ]; do printf "040000 tree $f\\t$i\\n"; i=$((i+1)); done | git mktree)
        r=$(printf "040000 tree $k\\tkeys\\n" | git mktree)
        rooms=$( (git ls-tree main:rooms | grep -v "\t\(room)$" || true; printf "040000 tree $r\\t\(room)\\n") | git mktree)
        (git ls-tree main | grep -v "\trooms$" || true; printf "040000 tree $rooms\\trooms\\n") | git mktree
        """
        let root = try GitWorld.shell(script).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(root.count == 40, "\(root)")
        let commit = try w.git(["commit-tree", root, "-p", "main", "-m", "room folder"])
        try w.git(["update-ref", "refs/heads/main", commit])
    }

    /// A made-up room folder naming 6.25 million files from two trees of 2,500 entries (a tree bomb shaped like the
    /// layout) is set aside and reported; every member still syncs the real room, a new member included. Before, the
    /// listing of rooms/ stopped at its limit and stopped every member's sync.
    @Test func aTreeBombInARoomFolderIsSetAsideAndTheOthersSync() throws {
        let w = try GitSyncCLITests.team()
        let fake = String(repeating: "0", count: 32)
        try Self.addRoomFolder(w, room: fake, epochs: 2_500, files: 2_500)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        let alice = try w.rk("alice", ["sync"])
        #expect(alice.code == 0, "\(alice)")
        for p in ["bob", "carol", "dave"] {
            let r = try w.rk(p, ["sync"])
            #expect(r.stderr.contains("rooms/\(fake)") && r.stderr.contains("more than 3500000 files"), "\(p): \(r)")
            #expect(r.code == 0, "\(p): \(r)")
            #expect(try w.state(p) == w.state("alice"), "\(p) did not sync the room: \(r)")
        }
    }

    /// A folder that was a tree bomb at the marker and is small now is compared tree by tree, never expanded: the old
    /// side costs its distinct trees (a review: listing every old path took 3 GB and stopped that sync, and every
    /// later one, for good). A folder set aside is listed whole at the next sync, not compared with the marker.
    @Test(.timeLimit(.minutes(2))) func aShrunkBombAndASetAsideFolderAreListedByTheNextSync() throws {
        let w = try GitSyncCLITests.team()
        let fake = String(repeating: "0", count: 32)
        try Self.addRoomFolder(w, room: fake, epochs: 2_500, files: 2_500)
        let bomb = try w.git(["rev-parse", "main"])
        try Self.addRoomFolder(w, room: fake, epochs: 1, files: 3, seed: "x")
        let tip = try w.git(["rev-parse", "main"])
        let mirror = GitMirror(folder: w.bare, url: w.url)
        let since = try mirror.roomFiles(at: tip, since: bomb, first: [])
        #expect(since.files.map(\.path).sorted() == (0..<3).map { "rooms/\(fake)/keys/1/x\($0).roomkey" }, "\(since.files.count)")
        #expect(since.oversized.isEmpty)
        // Set aside at the marker: listed whole, though the marker holds the same tree.
        let again = try mirror.roomFiles(at: tip, since: tip, first: [], skipped: [fake])
        #expect(again.files.count == 3)
        #expect(try mirror.roomFiles(at: tip, since: tip, first: []).files.isEmpty)
        for p in ["bob", "carol"] {
            let r = try w.rk(p, ["sync"])
            #expect(r.code == 0, "\(p): \(r)")
        }
    }

    /// Within one listing's limit, this keyring's rooms come first; made-up folders take what is left, and a folder
    /// that does not fit is reported and skipped, not listed in part.
    @Test func aListingListsKnownRoomsFirstWithinItsLimit() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let (a, b) = (String(repeating: "0", count: 32), String(repeating: "1", count: 32))
        try Self.addRoomFolder(w, room: a, epochs: 5, files: 200)
        try Self.addRoomFolder(w, room: b, epochs: 2, files: 200)
        var mirror = GitMirror(folder: w.bare, url: w.url)
        mirror.walkFileLimit = 1_000
        let tip = try w.git(["rev-parse", "main"])
        let listing = try mirror.roomFiles(at: tip, since: nil, first: [room])
        let listed = Set(listing.files.map { $0.path.split(separator: "/")[1] })
        #expect(listed == [Substring(room), Substring(b)], "\(listed)")
        #expect(listing.oversized.map(\.folder) == ["rooms/\(a)"] && listing.oversized.map(\.why) == [.files(1_000)])
        #expect(listing.files.count(where: { $0.path.hasPrefix("rooms/\(b)/keys/") }) == 400)
        // Since the commit that added the first folder, only the second changed.
        let since = try mirror.roomFiles(at: tip, since: try w.git(["rev-parse", "main~1"]), first: [room])
        #expect(Set(since.files.map { $0.path.split(separator: "/")[1] }) == [Substring(b)] && since.oversized.isEmpty)
    }
}

extension GitHostileRepositoryTests {
    /// Adds a root entry whose name holds a slash, as a tree written with `hash-object --literally` and pushed plainly.
    static func addSlashEntry(_ w: GitWorld) throws { try addRawRootEntry(w, name: "x/y") }

    /// Adds a blob entry `name` at the root of the remote's `main` tree, written with `hash-object --literally` (git
    /// checks neither the name nor duplicates) and pushed plainly.
    static func addRawRootEntry(_ w: GitWorld, name: String) throws {
        let tip = try w.git(["rev-parse", "main"])
        let root = try w.git(["rev-parse", "main^{tree}"])
        let blob = try w.git(["hash-object", "-w", "/dev/null"])
        let file = w.s.path("raw-\(UUID().uuidString)")
        _ = try GitWorld.shell("git --git-dir='\(w.bare)' cat-file tree \(root) > '\(file)'")
        // First, where git sorts a blob of a folder's name (and where a reader meets it first).
        let raw = Data(Array("100644 \(name)".utf8) + [0] + (try Hex.decode(blob, what: "id"))) + (try Data(contentsOf: URL(fileURLWithPath: file)))
        try raw.write(to: URL(fileURLWithPath: file))
        let id = try GitWorld.shell("git --git-dir='\(w.bare)' hash-object -t tree -w --literally '\(file)'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 40, "tree: \(id)")
        try w.git(["update-ref", "refs/heads/main", try w.git(["commit-tree", id, "-p", tip, "-m", "junk"])])
    }

    /// An entry whose name holds a slash (which `mktree` refuses) stops nobody's publishing either, and is kept.
    @Test func aRootEntryWithASlashDoesNotStopEveryPush() throws {
        let w = try GitSyncCLITests.team()
        try Self.addSlashEntry(w)
        #expect(try w.rk("carol", ["sync"]).code == 0)
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 0, "\(add)")
        let again = try w.rk("alice", ["sync"])
        #expect(again.code == 0, "\(again)")
        #expect(try w.git(["ls-tree", "main"]).contains("\tx/y"), "the entry was carried over")
        let dave = try w.rk("dave", ["sync"])
        #expect(dave.code == 0, "\(dave)")
    }

    /// A blob named `rooms` beside the real `rooms` folder (two entries of one name): the next commit builds on the
    /// folder, so no room's files are dropped.
    @Test func aBlobNamedLikeTheRoomsFolderDropsNoRoom() throws {
        let w = try GitSyncCLITests.team()
        let before = try w.remoteFiles().filter { $0.hasPrefix("rooms/") }
        try Self.addRawRootEntry(w, name: "rooms")
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        let sync = try w.rk("alice", ["sync"])
        #expect(sync.code == 0, "\(sync)")
        let after = try w.remoteFiles()
        #expect(Set(before).isSubset(of: Set(after)), "files dropped: \(Set(before).subtracting(after))")
        #expect(try w.rk("dave", ["sync"]).code == 0)
    }

    /// 50,000 members who each publish a sender key at each of ten epochs (inside the default retention): a first
    /// sync's listing and the admin's listing of a room's keys stay within the limit (64 MiB, the first one, did not).
    @Test func aLegitimateLargeRoomIsListed() throws {
        let w = try GitWorld(["alice"])
        let room = String(repeating: "ab", count: 16)
        let keys = w.s.path("keys")
        try Data((0..<50_000).map { String(format: "100644 blob %@\t%032lx-0.roomkey\n", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", $0 * 7_919) }
            .joined().utf8).write(to: URL(fileURLWithPath: keys))
        let script = """
        set -e; export GIT_DIR='\(w.bare)'; git hash-object -w /dev/null > /dev/null; ep=$(git mktree < '\(keys)')
        k=$(for e in $(seq 100 109); do printf "040000 tree $ep\\t$e\\n"; done | git mktree)
        r=$(printf "040000 tree $k\\tkeys\\n" | git mktree); rooms=$(printf "040000 tree $r\\t\(room)\\n" | git mktree)
        root=$(printf "040000 tree $rooms\\trooms\\n" | git mktree); git commit-tree $root -m big
        """
        let tip = try GitWorld.shell(script).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tip.count == 40, "\(tip)")
        let mirror = GitMirror(folder: w.bare, url: w.url)
        #expect(try mirror.roomFiles(at: tip, since: nil, first: []).files.count == 500_000)
        #expect(try mirror.files(at: tip, under: [RemoteLayout.keysFolder(room)], depth: 2).count == 500_000)
        let empty = try w.git(["commit-tree", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "-m", "empty"])
        #expect(try mirror.roomFiles(at: tip, since: empty, first: []).files.count == 500_000)
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
