import Foundation
import Testing
@testable import RoomKey

/// A tree bomb (10^8 paths from a few KB) put inside the real room's own folders, where sync lists files (`log/`, the
/// next epoch's path, `keys/`, one epoch's folder of `keys/`): a recursive listing there expanded it, and every admin's
/// sync of the room (every member's, for `log/`) failed at the listing limit for good (a review). Those folders are
/// now listed level by level, never deeper than the layout: the room goes on.
@Suite struct GitRoomFolderBombTests {
    /// Puts a bomb of `levels` x `fanout` at `sub` (a path inside the room folder, e.g. "log/junk") on the remote's tip.
    static func addBomb(_ w: GitWorld, room: String, at sub: String, levels: Int = 8, fanout: Int = 10) throws {
        let parts = sub.split(separator: "/").map(String.init)
        var script = """
            set -e; export GIT_DIR='\(w.bare)'; id=$(git hash-object -w /dev/null); kind=blob; mode=100644
            for l in $(seq \(levels)); do
              id=$(for i in $(seq \(fanout)); do printf "$mode $kind $id\\tn$i\\n"; done | git mktree); kind=tree; mode=040000
            done
            # put(TREE_PATH_IN_MAIN, NAME, ID): the tree at TREE_PATH (empty if absent) with NAME set to tree ID.
            put() { ( (git ls-tree "main:$1" 2>/dev/null || true) | grep -v "\t$2$" || true; printf "040000 tree $3\\t$2\\n") | git mktree; }

            """
        // Innermost first: each folder of the path gets the folder below it, up to the root.
        let folders = ["rooms", room] + parts.dropLast()
        script += "id=$(put '\((folders).joined(separator: "/"))' '\(parts.last ?? "")' $id)\n"
        for i in stride(from: folders.count - 1, through: 0, by: -1) {
            let parent = folders[..<i].joined(separator: "/")
            script += "id=$(put '\(parent)' '\(folders[i])' $id)\n"
        }
        script += "echo $id\n"
        let root = try GitWorld.shell(script).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(root.count == 40, "\(root)")
        let commit = try w.git(["commit-tree", root, "-p", "main", "-m", "bomb"])
        try w.git(["update-ref", "refs/heads/main", commit])
    }

    @Test(.timeLimit(.minutes(2)), arguments: ["log/junk", "log/NEXT.roomkey", "keys/junk", "keys/1/junk"])
    func aBombInTheRoomsOwnFoldersStopsNothing(sub: String) throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "carol"] { try w.sync(p) }
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let epoch = try w.state("alice").0
        try Self.addBomb(w, room: room, at: sub.replacingOccurrences(of: "NEXT", with: String(epoch + 1)))
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 0, "\(sub): \(add)")
        for p in ["bob", "carol", "dave"] {
            let r = try w.rk(p, ["sync"])
            #expect(r.code == 0, "\(sub): \(p): \(r)")
            #expect(try w.state(p) == w.state("alice"), "\(sub): \(p)")
        }
        let remove = try w.rk("bob", ["room", "remove", "team", "carol"])
        #expect(remove.code == 0, "\(sub): the other admin goes on too: \(remove)")
    }

    /// `log/` made of 300 folders of 300 files (two tree objects): the listing of a room's log folder takes its own
    /// entries only, not the 90,000 paths a second level named (a review of the level-by-level listing: N^2 paths at
    /// every sync, 2.8 GB for N = 3,000). The admin's sync repairs the log, and members follow.
    @Test(.timeLimit(.minutes(2))) func aSecondLevelInTheLogFolderIsNotListed() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        try Self.addBomb(w, room: room, at: "log", levels: 2, fanout: 300)
        let mirror = GitMirror(folder: w.bare, url: w.url)
        let tip = try w.git(["rev-parse", "main"])
        #expect(try mirror.files(at: tip, under: ["rooms/\(room)/log"], depth: 1).isEmpty, "no file lies directly in log/")
        #expect(try mirror.files(at: tip, under: ["rooms/\(room)/log/n1"], depth: 1).count == 300)
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 0, "\(add)")
        for p in ["bob", "dave"] {
            let r = try w.rk(p, ["sync"])
            #expect(r.code == 0, "\(p): \(r)")
            let (mine, alices) = (try w.state(p), try w.state("alice"))
            #expect(mine == alices, "\(p)")
        }
    }
}

/// Made-up room folders that all name one `log/` tree (a git review: 1,200 of them, naming one 3,000-file tree, 190 KB
/// pushed, made every member's sync list 3.5 million paths, 30 s and 1.8 GB). A folder that names a tree another room
/// folder named already pays `RoomTreeWalk.repeatCost` per file: the walk lists a few of them and sets the others aside,
/// and the real room, first, is listed whole.
@Suite struct GitSharedTreeTests {
    @Test func roomFoldersNamingOneTreeCostTheirRepeats() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let (files, fakes) = (100, 40)
        let script = """
            set -e; export GIT_DIR='\(w.bare)'; blob=$(printf junk | git hash-object -w --stdin)
            log=$(for i in $(seq \(files)); do printf "100644 blob $blob\\t$i.roomkey\\n"; done | git mktree)
            folder=$(printf "040000 tree $log\\tlog\\n" | git mktree)
            rooms=$( (git ls-tree main:rooms; for i in $(seq \(fakes)); do printf "040000 tree $folder\\t%032x\\n" $i; done) | git mktree)
            root=$( (git ls-tree main | awk -F '\\t' '$2 != "rooms"'; printf "040000 tree $rooms\\trooms\\n") | git mktree)
            git update-ref refs/heads/main $(git commit-tree $root -p main -m fakes)
            """
        #expect(try GitWorld.shell(script + "\necho done").contains("done"))
        var mirror = GitMirror(folder: w.bare, url: w.url)
        mirror.walkFileLimit = 5_000
        let tip = try w.git(["rev-parse", "main"])
        let listing = try mirror.roomFiles(at: tip, since: nil, first: [room])
        let fake = listing.files.filter { !$0.path.hasPrefix("rooms/\(room)/") }
        // One folder at full price (100), then a few at 16 x 100 within the 5,000: at most 400 paths, not 4,000.
        #expect(fake.count >= files, "the first made-up folder is listed as any other")
        #expect(fake.count <= 4 * files, "\(fake.count) \(listing.files.count) \(listing.oversized)")
        #expect(listing.oversized.filter { $0.why == .repeated(files) }.count >= fakes - 4, "\(fake.count) \(listing.files.count) \(listing.oversized.map(\.why))")
        #expect(listing.files.contains { $0.path == "rooms/\(room)/log/0.roomkey" }, "the real room is listed")
    }
}
