import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Sender-key bundles are checked against the epoch's `epoch_members` row (ids and signing keys), kept with every
/// stored roster, built for keyrings made before it existed, and covered by the keyring's integrity digest.
@Suite struct EpochMembersCLITests {
    /// alice's room `team` with bob, carol and dave, then dave removed (epoch 1), everyone up to date.
    static func withoutDave() throws -> RoomWorld {
        let w = try RoomWorld.team(["bob", "carol", "dave"])
        #expect(try w.run("alice", ["room", "remove", "team", "dave"]).code == 0)
        try w.exchange(["alice", "bob", "carol", "dave"], now: nil)
        #expect(try w.show("bob")["epoch"] as? Int == 1)
        return w
    }

    @Test func eachStoredEpochHasItsMembers() throws {
        let w = try Self.withoutDave()
        let keyring = try w.keyring("bob")
        let room = try keyring.room("team")
        for epoch: UInt64 in 0...1 {
            let roster = try #require(try keyring.read { db in try keyring.epochRoster(db, room.id, epoch) })
            let stored = try keyring.read { db in try keyring.epochMembers(db, room.id, epoch) }
            #expect(stored == EpochMembers(roster: roster))
        }
        #expect(try keyring.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM epoch_members") } == 2)
    }

    @Test func aSenderKeyFromANonMemberAtItsEpochIsRefusedWithNothingStored() throws {
        let w = try Self.withoutDave()
        // dave, removed at epoch 1, signs a sender key for epoch 1 sealed to exactly the members of epoch 1.
        let forged = try w.forge("dave", epoch: 1) { room, me in
            room.state.roster.sorted.filter { $0.id != me && $0.card.handle != "dave" }
        }
        let before = try w.snapshot("bob")
        let r = try w.run("bob", ["receive", forged])
        #expect(r.code == 2, "\(r)")
        #expect(r.stderr.contains("is not a member at epoch 1"), "\(r)")
        #expect(try w.snapshot("bob") == before)
    }

    @Test func aMemberSenderKeyIsAcceptedThroughTheLookup() throws {
        let w = try Self.withoutDave()
        #expect(try w.run("carol", ["room", "rotate", "team"]).code == 0)
        let r = try w.run("bob", ["receive", "--json"] + (try w.bundles()))
        #expect(r.code == 0, "\(r)")
        #expect(r.stdout.contains("\"applied\""), "\(r)")
    }

    @Test func aKeyringFromBeforeTheLookupGetsItBuilt() throws {
        let w = try Self.withoutDave()
        let keyring = try w.keyring("bob")
        let room = try keyring.room("team")
        let expected = try (0...1).map { (e: UInt64) in try keyring.read { db in try keyring.epochMembers(db, room.id, e) } }
        // As migration `v9-epoch-members` leaves a keyring from before it (once its digest is recomputed): no rows,
        // every room waiting to be built.
        try keyring.write { db in
            try db.execute(sql: "DELETE FROM epoch_members")
            try db.execute(sql: "INSERT INTO epoch_members_backfill (room_tag) SELECT room_tag FROM room")
        }
        // Not built yet: the members come from the roster, and are the same.
        #expect(try keyring.read { db in try keyring.epochMembers(db, room.id, 1) } == expected[1])
        let reopened = try w.keyring("bob")
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM epoch_members_backfill") } == 0)
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM epoch_members") } == 2)
        #expect(try (0...1).map { (e: UInt64) in try reopened.read { db in try reopened.epochMembers(db, room.id, e) } } == expected)
        #expect(try w.run("carol", ["room", "rotate", "team"]).code == 0)
        #expect(try w.run("bob", ["receive"] + (try w.bundles())).code == 0)
    }

    @Test func aRowDeletedOutsideRoomkeyIsCaughtByTheDigest() throws {
        let w = try Self.withoutDave()
        #expect(try w.run("carol", ["room", "rotate", "team"]).code == 0)
        let keyring = try w.keyring("bob")
        let room = try keyring.room("team")
        let etag = keyring.epochMembersTag(room.id, 1)
        var config = Configuration()
        config.readonly = false
        let raw = try DatabaseQueue(path: w.s.keyring("bob"), configuration: config)
        try raw.write { db in try db.execute(sql: "DELETE FROM epoch_members WHERE epoch_tag = ?", arguments: [Data(etag)]) }
        try raw.close()
        let r = try w.run("bob", ["receive"] + (try w.bundles()))
        #expect(r.code != 0, "\(r)")
        #expect(r.stderr.contains("epoch_members"), "\(r)")
    }
}
