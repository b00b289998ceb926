import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// The byte limit of the tree objects one sync reads is shared room folder by room folder, this keyring's rooms first
/// (each level's sizes asked before anything is read): a folder whose distinct trees do not fit is set aside and
/// reported, and the others are read. Before, more distinct tree bytes than the limit under `rooms/` (a 2.4 MB push,
/// thanks to deltas) stopped every member's sync (a review).
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed"))
struct GitTreeBytesTests {
    @Test func aFolderOfTooManyTreeBytesIsSetAsideAndTheOthersAreListed() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let fake = String(repeating: "1", count: 32)
        // One files tree of 20,000 entries: about 800 KB of tree, over the limit below.
        try GitHostileRepositoryTests.addRoomFolder(w, room: fake, epochs: 2, files: 20_000)
        var mirror = GitMirror(folder: w.bare, url: w.url)
        mirror.listingLimit = 256 * 1024
        let tip = try w.git(["rev-parse", "main"])
        let listing = try mirror.roomFiles(at: tip, since: nil, first: [room])
        #expect(Set(listing.files.map { $0.path.split(separator: "/")[1] }) == [Substring(room)])
        #expect(listing.oversized.map(\.folder) == ["rooms/\(fake)"], "\(listing.oversized)")
        guard case let .treeBytes(bytes)? = listing.oversized.first?.why else {
            Issue.record("set aside for \(String(describing: listing.oversized.first?.why))")
            return
        }
        #expect(bytes > 256 * 1024, "\(bytes)")
        // With room for it, the same folder is listed whole.
        mirror.listingLimit = GitMirror.maxListingBytes
        let whole = try mirror.roomFiles(at: tip, since: nil, first: [room])
        #expect(whole.oversized.isEmpty && whole.files.count(where: { $0.path.hasPrefix("rooms/\(fake)/") }) == 40_000)
    }

    /// A member's sync reports the folder set aside (malformed) and syncs its room.
    @Test func aSyncReportsTheFolderAndSyncsTheRoom() throws {
        let w = try GitSyncCLITests.team()
        let fake = String(repeating: "1", count: 32)
        // A files tree of 2,000 entries: about 80 KB, past the 40 KiB given below (the real room's trees fit).
        try GitHostileRepositoryTests.addRoomFolder(w, room: fake, epochs: 1, files: 2_000)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["sync"]).code == 0)
        let r = try w.rk("bob", ["sync"], env: ["ROOMKEY_TEST_LISTING_LIMIT": String(40 * 1024)])
        #expect(r.code == 0, "\(r)")
        #expect(r.stderr.contains("rooms/\(fake)") && r.stderr.contains("the folder's trees take"), "\(r)")
        #expect(try w.state("bob") == w.state("alice"), "bob did not sync the room: \(r)")
    }

    /// The folder of rooms itself past the limit (it cannot be set aside in part) stops the sync at once: git is
    /// stopped, not left blocked writing until the 15-minute timeout (a review).
    @Test(.timeLimit(.minutes(5))) func aRoomsTreePastTheLimitStopsGitAtOnce() throws {
        let w = try GitSyncCLITests.team()
        let script = """
        set -e; export GIT_DIR='\(w.bare)'; e=$(printf "" | git mktree)
        rooms=$( (git ls-tree main:rooms; i=0; while [ $i -lt 2000 ]; do printf "040000 tree $e\\t%032x\\n" $i; i=$((i+1)); done) | git mktree)
        (git ls-tree main | grep -v "\trooms$" || true; printf "040000 tree $rooms\\trooms\\n") | git mktree
        """
        let root = try GitWorld.shell(script).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(root.count == 40, "\(root)")
        try w.git(["update-ref", "refs/heads/main", try w.git(["commit-tree", root, "-p", "main", "-m", "rooms"])])
        var mirror = GitMirror(folder: w.bare, url: w.url)
        mirror.listingLimit = 64 * 1024
        let tip = try w.git(["rev-parse", "main"])
        #expect(throws: RemoteError.treeTooLarge(command: "cat-file", limit: 64 * 1024)) { _ = try mirror.roomFiles(at: tip, since: nil, first: []) }
    }
}
