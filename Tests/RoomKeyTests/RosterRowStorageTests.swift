import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// `room_epoch` rows: a commit stores its roster as a small replay of the whole roster before it, a whole row again
/// after `RosterRowPlan.maxCommits` commits, and every epoch reads back as the roster its commit names, whichever form.
@Suite(.temporaryFolder) struct RosterRowStorageTests {
    /// The sealed size of every stored roster row of `room`, by epoch.
    static func rowSizes(_ keyring: Keyring, _ room: StoredRoom) throws -> [Int] {
        try sealedSizes(keyring, room, table: "room_epoch") { keyring.epochTag(room.id, $0) }
    }

    /// The sealed size of the row of every epoch of `room` in `table` (keyed `epoch_tag`, as `tag` gives it), by epoch.
    static func sealedSizes(_ keyring: Keyring, _ room: StoredRoom, table: String, tag: (UInt64) -> [UInt8]) throws -> [Int] {
        try keyring.read { db in
            try (0...room.state.epoch).map { e in
                try #require(try Int.fetchOne(db, sql: "SELECT length(sealed) FROM \(table) WHERE epoch_tag = ?", arguments: [Data(tag(e))]))
            }
        }
    }

    /// Every epoch's roster, read as a roster and as a view, is the one its stored commit names.
    static func expectEveryEpochReadsBack(_ keyring: Keyring, _ room: StoredRoom) throws {
        try keyring.read { db in
            for e in 0...room.state.epoch {
                let commit = try #require(try keyring.storedCommit(db, room.id, e))
                let roster = try #require(try keyring.epochRoster(db, room.id, e))
                #expect(roster.hash == commit.rosterHash, "epoch \(e)")
                let view = try #require(try keyring.epochRosterView(db, room.id, e))
                #expect(view.ordered.map(\.id) == roster.sortedIDs, "epoch \(e)")
                #expect(view.ordered.map(\.admin) == roster.sorted.map(\.admin), "epoch \(e)")
                for member in roster.sorted { #expect(try view.card(of: member.id) == member.card) }
            }
        }
    }

    @Test func commitsStoreReplaysAndAWholeRowEveryChain() throws {
        let keyring = try ContactBatchReadTests.keyring(contacts: 40)
        _ = try keyring.createRoom(name: "team", members: ContactBatchReadTests.names(0..<30), deliver: { _ in "out" })
        // Removals, additions (of new and returning members) and role changes, past one chain's commit limit.
        var changes: [MembershipChange] = []
        for k in 0..<10 { changes += [.remove(["c\(String(format: "%03d", k))"]), .add(["c\(String(format: "%03d", 30 + k))"])] }
        changes += [.promote("c030"), .demote("c030"), .add(["c000", "c001"])]
        changes += (10..<30).map { .remove(["c\(String(format: "%03d", $0))"]) }
        for change in changes { _ = try keyring.change(room: "team", [change], deliver: { _ in "out" }) }
        let room = try keyring.room("team")
        #expect(room.state.epoch == UInt64(changes.count))
        let sizes = try Self.rowSizes(keyring, room)
        let chain = Int(RosterRowPlan.maxCommits)
        for (epoch, size) in sizes.enumerated() {
            // Epoch 0 and every (maxCommits + 1)-th epoch after it hold the whole roster, the others a replay.
            let whole = epoch % (chain + 1) == 0
            #expect(whole ? size > 1_000 : size == RowCipher.overhead + RosterReplay.length, "epoch \(epoch): \(size) bytes")
        }
        try Self.expectEveryEpochReadsBack(keyring, room)
        // The loaded room (its current roster through a replay) is the one the log gives.
        #expect(room.state.roster.hash == (try keyring.read { db in try keyring.storedCommit(db, room.id, room.state.epoch) })?.rosterHash)
        #expect(try keyring.verifyRows() > 0)
    }

    /// A replay row is read only as what it says: one naming another epoch, or a base that is itself a replay, is an
    /// integrity failure (rows sealed with the keyring key, as only a bug or its holder could write them).
    @Test func replayRowsThatDoNotChainAreRefused() throws {
        let keyring = try ContactBatchReadTests.keyring(contacts: 10)
        _ = try keyring.createRoom(name: "team", members: ContactBatchReadTests.names(0..<5), deliver: { _ in "out" })
        for k in 0..<3 { _ = try keyring.change(room: "team", [.remove([String(format: "c%03d", k)])], deliver: { _ in "out" }) }
        let room = try keyring.room("team")
        func put(_ epoch: UInt64, _ row: RosterReplay) throws {
            let etag = keyring.epochTag(room.id, epoch)
            let sealed = row.encoded.withUnsafeBytes { keyring.rows.seal($0, table: "room_epoch", primaryKey: etag) }
            try keyring.db.write { db in
                try db.execute(sql: "UPDATE room_epoch SET sealed = ? WHERE epoch_tag = ?", arguments: [Data(sealed), Data(etag)])
            }
        }
        func expectRefused(_ epoch: UInt64) {
            #expect(throws: KeyringError.integrityFailure(table: "room_epoch")) { _ = try keyring.read { db in try keyring.epochRoster(db, room.id, epoch) } }
            #expect(throws: KeyringError.integrityFailure(table: "room_epoch")) { _ = try keyring.read { db in try keyring.epochRosterView(db, room.id, epoch) } }
        }
        // Epoch 3 as a replay of two commits after epoch 0 would be epoch 2.
        try put(3, RosterReplay(base: 0, baseSize: 1, commits: 2, commitBytes: 1))
        expectRefused(3)
        // Epoch 3 as a replay on epoch 2, which is a replay itself.
        try put(3, RosterReplay(base: 2, baseSize: 1, commits: 1, commitBytes: 1))
        expectRefused(3)
        // Epoch 2 as a replay on epoch 1 (a replay too): the base must be whole.
        try put(2, RosterReplay(base: 1, baseSize: 1, commits: 1, commitBytes: 1))
        expectRefused(2)
        // Epoch 1, a true replay of epoch 0, still reads back.
        #expect(try keyring.read { db in try keyring.epochRoster(db, room.id, 1) }?.count == 5)
        // Its base swapped for another whole roster (sealed with the key): the replay applies, but its roster hash is not
        // its commit's, so it is refused rather than read as a wrong list of members.
        let other = try #require(try keyring.read { db in try keyring.epochRoster(db, room.id, 0) })
        var bigger = other
        bigger.insert(Member(card: try makeTestCard(handle: "ghost"), admin: false))
        let etag0 = keyring.epochTag(room.id, 0)
        let sealed0 = bigger.encoded.withUnsafeBytes { keyring.rows.seal($0, table: "room_epoch", primaryKey: etag0) }
        try keyring.db.write { db in
            try db.execute(sql: "UPDATE room_epoch SET sealed = ? WHERE epoch_tag = ?", arguments: [Data(sealed0), Data(etag0)])
        }
        expectRefused(1)
    }

    /// A stored epoch's commit is never replaced by another one: a replay row may apply it.
    @Test func anotherCommitForAStoredEpochIsRefused() throws {
        let keyring = try ContactBatchReadTests.keyring(contacts: 4)
        _ = try keyring.createRoom(name: "team", members: ContactBatchReadTests.names(0..<3), deliver: { _ in "out" })
        _ = try keyring.change(room: "team", [.remove(["c000"])], deliver: { _ in "out" })
        let room = try keyring.room("team")
        let me = try keyring.identity()
        let stored = try #require(try keyring.read { db in try keyring.storedCommit(db, room.id, 1) })
        let other = Commit(roomID: room.id, epoch: 1, previousHead: stored.previousHead, signer: me.signing, time: stored.time + 1,
                           operations: stored.operations, rosterHash: stored.rosterHash)
        #expect(throws: KeyringError.integrityFailure(table: "room_commit")) {
            try keyring.write { db in try keyring.storeCommit(db, other, roster: room.state.roster) }
        }
        // The same commit again is not an error, and changes nothing.
        try keyring.write { db in try keyring.storeCommit(db, stored, roster: room.state.roster) }
        #expect(try keyring.read { db in try keyring.storedCommit(db, room.id, 1) }?.encoded == stored.encoded)
    }
}
