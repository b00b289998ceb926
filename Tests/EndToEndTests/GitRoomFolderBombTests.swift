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
