import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A `receive` reads the bundles kept pending by earlier runs only for the rooms it applies something to: a full
/// pending store (64 MiB) was read and opened whole at every run (a hostile review measured 0.9 s and 148 MB for a
/// receive of one unrelated file).
@Suite struct PendingReadCLITests {
    @Test func onlyTheRoomThatMovesHasItsPendingBundlesRead() throws {
        let w = try RoomWorld()
        let (g1, g2, e1, e2) = (w.s.path("g1"), w.s.path("g2"), w.s.path("e1"), w.s.path("e2"))
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-o", g1]).code == 0)
        #expect(try w.rk("bob", ["receive", g1]).code == 0)
        #expect(try w.rk("alice", ["room", "create", "other", "--member", "bob", "-o", g2]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "carol", "-o", e1]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "carol", "-o", e2]).code == 0)
        let early = try w.rk("bob", ["receive", "--json", e2])
        #expect(early.code == 5 && early.stdout.contains("\"pending\""), "\(early)")
        // team's pending row made unreadable (through the keyring, so that its digest still holds): any read of it fails.
        let keyring = try w.keyring("bob")
        try keyring.write { db in
            let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_bundle")
            #expect(rows == 1)
            try db.execute(sql: "UPDATE pending_bundle SET sealed = ?", arguments: [Data(repeating: 7, count: 200)])
        }
        // A room that has nothing pending moves without reading it.
        let other = try w.rk("bob", ["receive", g2])
        #expect(other.code == 0, "\(other)")
        // team moves: its pending bundle is read, and the damage found.
        let team = try w.rk("bob", ["receive", e1])
        #expect(team.code != 0 && team.stderr.contains("pending_bundle"), "\(team)")
    }
}
