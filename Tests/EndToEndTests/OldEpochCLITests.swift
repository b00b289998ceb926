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

    /// alice's keyring and her room `team`.
    static func alicesTeam(_ w: RoomWorld) throws -> (Keyring, StoredRoom) {
        let keyring = try w.keyring("alice")
        return (keyring, try keyring.room("team"))
    }

    /// The id of the member of `room` with `handle`.
    static func member(_ room: StoredRoom, _ handle: String) throws -> IdentityID {
        try #require(room.state.roster.sorted.first { $0.card.handle == handle }).id
    }

    /// Leaves a keyring as one from before `v7-scale`, or one opened without the backfill, has it: no tenure rows, and
    /// every room waiting to have them built.
    static func forgetTenures(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM member_tenure")
        try db.execute(sql: "INSERT INTO scale_backfill (room_tag) SELECT room_tag FROM room")
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
        let (keyring, room) = try Self.alicesTeam(w)
        let bob = try Self.member(room, "bob")
        let expected = try keyring.read { db in try keyring.storedTenure(db, room.id, bob) }
        #expect(expected?.stays.count == 1 && expected?.stays.first?.joined == 0)
        // Through the keyring's own writes, which keep the tables' digests: such a keyring was whole, only older.
        try keyring.write { db in
            try Self.forgetTenures(db)
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

    @Test func aRoomsTenureRowsAreKeyedByItsTagThenTheMember() throws {
        let (w, _, _) = try Self.aged(rounds: 1)
        let (keyring, room) = try Self.alicesTeam(w)
        let rtag = keyring.roomTag(room.id)
        let rows = try keyring.read { db in try Row.fetchAll(db, sql: "SELECT member_tag, room_tag, member_key FROM member_tenure") }
        #expect(rows.count >= 3)
        for row in rows {
            let (mtag, rowRoom, key) = (row["member_tag"] as Data, row["room_tag"] as Data, row["member_key"] as Data)
            // The room's tag first, so one room's rows sit together and a large room's rows go in in key order.
            #expect(Array(rowRoom) == rtag && mtag == rowRoom + key, "\(Hex.encode(Array(mtag)))")
        }
    }

    @Test func tenuresKeyedTheOldWayAreRebuiltByTheMigration() throws {
        let (w, bobOld, carolOld) = try Self.aged(rounds: 2)
        let (keyring, room) = try Self.alicesTeam(w)
        let bob = try Self.member(room, "bob")
        let expected = try keyring.read { db in try keyring.storedTenure(db, room.id, bob) }
        try Self.rekeyTenuresTheOldWay(keyring)
        let reopened = try w.keyring("alice")
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM scale_backfill") } == 0)
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM member_tenure WHERE length(member_tag) <> 64") } == 0)
        #expect(try reopened.read { db in try reopened.storedTenure(db, room.id, bob) } == expected)
        #expect(try w.receiveMessage("alice", bobOld).0.code == 0)
        #expect(try w.receiveMessage("alice", carolOld).0.code == 2)
        #expect(try w.run("alice", ["audit", "--verify"]).code == 0)
    }

    @Test func aMigrationLeftByAnOpenThatEndedBeforeWritingIsStillAccounted() throws {
        let (w, bobOld, _) = try Self.aged(rounds: 1)
        let keyring = try w.keyring("alice")
        try Self.rekeyTenuresTheOldWay(keyring)
        // The migrations run without the keyring key, as an earlier roomkey did at an open that then ended before its
        // first write (a wrong passphrase, a kill), or as anyone with the file can: `v11-tenure-order` deletes the
        // tenure rows and lists every room. Someone also slips a tenure row in.
        let raw = try DatabaseQueue(path: keyring.path)
        try KeyringSchema.migrator.migrate(raw)
        #expect(try raw.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM member_tenure") } == 0)
        try raw.write { try $0.execute(sql: "INSERT INTO member_tenure VALUES (x'00', x'00', x'00', x'00')") }
        try raw.close()
        // The next open settles those changes: the tenure rows are rebuilt from the logs (the slipped one is gone), the
        // rest must match the sealed digests, and every table matches its new digest.
        let reopened = try w.keyring("alice")
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM scale_backfill") } == 0)
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM member_tenure WHERE member_tag = x'00'") } == 0)
        #expect(try reopened.verifyRows() > 0)
        #expect(try w.run("alice", ["audit", "--verify"]).code == 0)
        #expect(try w.receiveMessage("alice", bobOld).0.code == 0)
    }

    /// A process killed while it upgrades an older keyring at open leaves the file as it was; the next command
    /// upgrades it and works.
    @Test func aKillDuringTheUpgradeLeavesTheOlderKeyringAsItWas() throws {
        let (w, bobOld, _) = try Self.aged(rounds: 1)
        try Self.rekeyTenuresTheOldWay(try w.keyring("alice"))
        let before = try w.snapshot("alice")
        let killed = try w.s.roomkey("alice", ["room", "list"], env: ["ROOMKEY_TEST_CRASH": CrashPoint.beforeUpgradeCommit])
        #expect(killed.code == SIGKILL, "\(killed)")
        #expect(try w.snapshot("alice") == before)
        #expect(try w.run("alice", ["room", "list"]).code == 0)
        #expect(try w.snapshot("alice") != before)
        #expect(try w.run("alice", ["audit", "--verify"]).code == 0)
        #expect(try w.receiveMessage("alice", bobOld).0.code == 0)
    }

    /// An older keyring whose rows were edited is refused before it is migrated: one line, exit 2, and the file as it
    /// was (the edit is not sealed into new digests by the upgrade).
    @Test func anEditedOlderKeyringIsRefusedAndNotMigrated() throws {
        let (w, _, _) = try Self.aged(rounds: 1)
        try Self.rekeyTenuresTheOldWay(try w.keyring("alice"))
        try SealedStateCLITests.edit(w, "alice", "DELETE FROM room_bundle WHERE rowid = (SELECT max(rowid) FROM room_bundle)")
        let before = try w.snapshot("alice")
        for _ in 0..<2 {
            let r = try w.rk("alice", ["room", "list"])
            SealedStateCLITests.expectEdited(r, "rows of room_bundle were added, deleted or changed outside roomkey")
            #expect(r.stderr.split(separator: "\n").count <= 2, "\(r)")
            #expect(try w.snapshot("alice") == before)
        }
    }

    /// Turns `keyring`'s tenure rows back into the form before `v11-tenure-order`: each under a keyed tag of (room,
    /// member), without that migration and the one after it, also in the sealed write counter. `keyring` must not be used afterwards.
    static func rekeyTenuresTheOldWay(_ keyring: Keyring) throws {
        try keyring.write { db in
            for row in try Row.fetchAll(db, sql: "SELECT member_tag, room_tag, sealed FROM member_tenure") {
                let mtag = Array(row["member_tag"] as Data)
                let plain = try keyring.rows.openSecret(Array(row["sealed"] as Data), table: "member_tenure", primaryKey: mtag)
                let tenure = try MemberTenure.parse(plain.withUnsafeBytes { Array($0) })
                let room = try #require(try keyring.allRooms(db).first { keyring.roomTag($0.id) == Array(row["room_tag"] as Data) })
                let old = keyring.tag("member-tenure", room.id.bytes, tenure.member.bytes)
                let sealed = tenure.encoded.withUnsafeBytes { keyring.rows.seal($0, table: "member_tenure", primaryKey: old) }
                try db.execute(sql: "UPDATE member_tenure SET member_tag = ?, sealed = ? WHERE member_tag = ?",
                               arguments: [Data(old), Data(sealed), Data(mtag)])
            }
            // Room rows as a roomkey before `v14-head-time` wrote them: without the head's time.
            for row in try Row.fetchAll(db, sql: "SELECT room_tag, sealed FROM room") {
                var record = try keyring.openRoomRecord(try row.blob("sealed", table: "room"), tag: try row.blob("room_tag", table: "room"))
                record.headTime = nil
                try keyring.saveRecord(db, record)
            }
            // No generation rows, as before `v15-key-generations`.
            try db.execute(sql: "DELETE FROM sender_key_head; DELETE FROM retired_key")
        }
        // The migrations after it (`v12-seen-digest` to `v17-restored-mark`) go too: the tables of v12 and v15 are
        // empty here and v13, v14, v16 and v17 make none, so the digests stay true.
        var counter = try #require(try keyring.read { db in try keyring.writeCounter(db) })
        #expect(try keyring.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM seen_bundle_whole") } == 0)
        counter.migrations = counter.migrations.map { $0 - 7 }
        let sealedCounter = try keyring.rows.seal(record: counter, table: "write_counter", primaryKey: Keyring.writeCounterKey)
        try keyring.db.write { db in
            try db.execute(sql: "DROP TABLE seen_bundle_whole; DROP TABLE sender_key_head; DROP TABLE retired_key")
            try db.execute(sql: """
                DELETE FROM grdb_migrations WHERE identifier IN
                    ('v11-tenure-order', 'v12-seen-digest', 'v13-roster-replay', 'v14-head-time', 'v15-key-generations',
                     'v16-epoch-member-changes', 'v17-restored-mark')
                """)
            try db.execute(sql: "UPDATE write_counter SET sealed = ? WHERE id = 1", arguments: [Data(sealedCounter)])
        }
    }

    @Test func aCommitInARoomWhoseTenuresAreNotBuiltBuildsThemFirst() throws {
        let (w, _, _) = try Self.aged(rounds: 2)
        let (keyring, room) = try Self.alicesTeam(w)
        let (bob, carol) = (try Self.member(room, "bob"), try Self.member(room, "carol"))
        // As a keyring opened without the backfill (the library's `restore` of an older backup) leaves it.
        try keyring.write { db in
            try Self.forgetTenures(db)
        }
        let before = try keyring.read { db in
            (try keyring.tenure(db, room.id, bob, through: room.state.epoch), try keyring.tenure(db, room.id, carol, through: room.state.epoch))
        }
        _ = try keyring.change(room: "team", [.remove(["carol"])], deliver: { _ in "out" })
        let after = try keyring.read { db in (try keyring.storedTenure(db, room.id, bob), try keyring.storedTenure(db, room.id, carol)) }
        #expect(try keyring.read { db in try keyring.awaitsBackfill(db, room.id) } == false)
        #expect(after.0 == before.0)
        var carolNow = before.1
        carolNow.apply([.leave], at: room.state.epoch + 1)
        #expect(after.1 == carolNow)
        #expect(after.1?.stays.count == before.1.stays.count)
    }

    @Test func aRoomWhoseTenuresCannotBeBuiltDoesNotStopTheKeyringOpening() throws {
        let (w, _, _) = try Self.aged(rounds: 1)
        let (keyring, room) = try Self.alicesTeam(w)
        // The room waits for its tenures, and the commit of its epoch 1 holds epoch 0's sealed row (it opens nowhere).
        try keyring.db.write { db in
            try Self.forgetTenures(db)
            let genesis = try Data.fetchOne(db, sql: "SELECT sealed FROM room_commit WHERE commit_tag = ?", arguments: [Data(keyring.commitTag(room.id, 0))])
            try db.execute(sql: "UPDATE room_commit SET sealed = ? WHERE commit_tag = ?", arguments: [genesis, Data(keyring.commitTag(room.id, 1))])
        }
        let reopened = try w.keyring("alice")
        #expect(reopened.openWarnings.contains { $0.contains("could not build the lookup rows (scale_backfill)") }, "\(reopened.openWarnings)")
        #expect(try reopened.read { db in try reopened.awaitsBackfill(db, room.id) })
        #expect(try reopened.identityCard().handle == "alice")
    }

    @Test func aSwappedTenureRowFailsItsIntegrityCheck() throws {
        let (w, bobOld, _) = try Self.aged(rounds: 1)
        let (keyring, room) = try Self.alicesTeam(w)
        let (bobTag, carolTag) = (keyring.tenureTag(room.id, try Self.member(room, "bob")), keyring.tenureTag(room.id, try Self.member(room, "carol")))
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
