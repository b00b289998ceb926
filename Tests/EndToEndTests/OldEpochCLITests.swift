import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Messages from epochs long past: who sent them, and whether they are still believed, comes from the sender's
/// tenure (one indexed row), kept with every commit and rebuilt for keyrings made before it existed.
@Suite struct OldEpochCLITests {
    /// alice's room `team` with bob and carol, then `rounds` promote/demote pairs of bob (two epochs each), carol removed
    /// and added back; bob and carol each sent a message at epoch 0 first.
    static func aged(rounds: Int) throws -> (w: RoomWorld, bobOld: String, carolOld: String) {
        let w = try RoomWorld.team(["bob", "carol"])
        let bobOld = try w.send("bob", Array("bob at epoch 0".utf8))
        let carolOld = try w.send("carol", Array("carol at epoch 0".utf8))
        for _ in 0..<rounds {
            #expect(try w.run("alice", ["room", "promote", "team", "bob"]).code == 0)
            #expect(try w.run("alice", ["room", "demote", "team", "bob"]).code == 0)
        }
        #expect(try w.run("alice", ["room", "remove", "team", "carol"]).code == 0)
        #expect(try w.run("alice", ["room", "add", "team", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"], now: nil)
        return (w, bobOld, carolOld)
    }

    @Test func oldEpochsDecryptAndARemovedSenderStaysRefused() throws {
        let rounds = 5
        let (w, bobOld, carolOld) = try Self.aged(rounds: rounds)
        let removedAt = 2 * rounds + 1
        #expect(try w.show("alice")["epoch"] as? Int == removedAt + 1)
        // bob has been a member throughout: his message from epoch 0 decrypts, under the handle of that epoch.
        let old = try w.run("alice", ["decrypt", bobOld, "--json"])
        #expect(old.code == 0, "\(old)")
        #expect(try old.json()["epoch"] as? Int == 0)
        #expect(try old.json()["sender_handle"] as? String == "bob" || old.stdout.contains("bob"))
        // carol was removed at `removedAt` and added back: what she sent before is no longer believed, by alice or bob.
        for who in ["alice", "bob"] {
            let (refused, none) = try w.receiveMessage(who, carolOld)
            #expect(refused.code == 2, "\(who): \(refused)")
            #expect(refused.stderr.contains("is not a member of room \"team\" at epoch \(removedAt)"), "\(refused)")
            #expect(none == nil)
        }
        // What she sends in her new stay decrypts.
        let carolNew = try w.send("carol", Array("carol is back".utf8))
        let (back, plain) = try w.receiveMessage("bob", carolNew)
        #expect(back.code == 0, "\(back)")
        #expect(plain == Array("carol is back".utf8))
    }

    @Test func tenuresAreRebuiltForAKeyringFromBeforeThem() throws {
        let (w, bobOld, carolOld) = try Self.aged(rounds: 2)
        // Make alice's keyring look as one from before `v7-scale` left it: no tenures, its room waiting to be built.
        let keyring = try w.keyring("alice")
        let room = try keyring.room("team")
        let bob = try #require(room.state.roster.sorted.first { $0.card.handle == "bob" }).id
        let expected = try keyring.read { db in try keyring.storedTenure(db, room.id, bob) }
        #expect(expected?.stays.count == 1 && expected?.stays.first?.joined == 0)
        try keyring.db.write { db in
            try db.execute(sql: "DELETE FROM member_tenure")
            try db.execute(sql: "INSERT INTO scale_backfill (room_tag) SELECT room_tag FROM room")
        }
        // Not built yet: the tenure comes from the stored log, and is the same.
        #expect(try keyring.read { db in try keyring.tenure(db, room.id, bob, through: room.state.epoch) } == expected)
        #expect(try keyring.read { db in try keyring.storedTenure(db, room.id, bob) } == nil)
        // The next open builds every row and empties the list.
        let reopened = try w.keyring("alice")
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM scale_backfill") } == 0)
        #expect(try reopened.read { db in try reopened.storedTenure(db, room.id, bob) } == expected)
        // And decrypting behaves as before.
        #expect(try w.receiveMessage("alice", bobOld).0.code == 0)
        #expect(try w.receiveMessage("alice", carolOld).0.code == 2)
    }

    @Test func aSwappedTenureRowFailsItsIntegrityCheck() throws {
        let (w, bobOld, _) = try Self.aged(rounds: 1)
        let keyring = try w.keyring("alice")
        let room = try keyring.room("team")
        func id(_ handle: String) throws -> IdentityID { try #require(room.state.roster.sorted.first { $0.card.handle == handle }).id }
        let (bobTag, carolTag) = (keyring.tenureTag(room.id, try id("bob")), keyring.tenureTag(room.id, try id("carol")))
        // carol's sealed row under bob's tag: it does not open there, and nothing is decrypted.
        try keyring.db.write { db in
            let carolRow = try Data.fetchOne(db, sql: "SELECT sealed FROM member_tenure WHERE member_tag = ?", arguments: [Data(carolTag)])
            try db.execute(sql: "UPDATE member_tenure SET sealed = ? WHERE member_tag = ?", arguments: [carolRow, Data(bobTag)])
        }
        let r = try w.run("alice", ["decrypt", bobOld])
        #expect(r.code != 0 && r.stdout.isEmpty, "\(r)")
        #expect(r.stderr.contains("member_tenure"), "\(r)")
    }
}
