import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Durations as typed, a keyring's retention ledger rows, and the rotation policy (the ledger's rules: RetentionLedgerTests).
@Suite(.temporaryFolder) struct RetentionTests {
    @Test(arguments: [("72h", 259_200), ("30m", 1_800), ("7d", 604_800), ("3600s", 3_600), ("1h30m", 5_400), ("0s", 0), ("2w", 1_209_600)])
    func durationsParse(text: String, seconds: UInt64) throws {
        #expect(try DurationText.parse(text) == seconds)
    }

    @Test(arguments: ["", "72", "h", "1x", "-1h", "1.5h", "1h 30m", "99999999999999999999s", "36501d"])
    func badDurationsAreRefused(text: String) {
        #expect(throws: DurationError.invalid(text)) { _ = try DurationText.parse(text) }
    }

    @Test func durationsFormat() {
        #expect(DurationText.format(259_200) == "72h")
        #expect(DurationText.format(604_800) == "7d")
        #expect(DurationText.format(1_800) == "30m")
        #expect(DurationText.format(61) == "61s")
        #expect(DurationText.format(0) == "0s")
    }

    /// Rows written before the binary form are JSON, and rows of version 1 list generations: both read as the same
    /// ledger, and the next save moves the lists into rows.
    @Test func olderLedgerRowsStillReadAndTheirListsBecomeRows() throws {
        let a = Hex.encode([UInt8](repeating: 0xAA, count: 32)), b = Hex.encode([UInt8](repeating: 0xBB, count: 32))
        var listing = RetentionLedger(latestEpoch: 500, floor: 100)
        listing.keys = [.init(tag: a, epoch: 500, at: 2_000)]
        listing.deleted = [.init(tag: b, epoch: 499)]
        let keyring = try Keyring.create(path: temporaryPath("k.sqlite"), handle: "me",
                                         passphrase: nil, random: SystemRandom())
        let room = RoomID.random(using: try SystemRandom())
        let rtag = keyring.roomTag(room)
        for sealed in [try keyring.rows.seal(record: listing, table: "key_retention", primaryKey: rtag),
                       listing.encoded.withUnsafeBytes { keyring.rows.seal($0, table: "key_retention", primaryKey: rtag) }] {
            try keyring.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO key_retention (room_tag, sealed) VALUES (?, ?)", arguments: [Data(rtag), Data(sealed)])
            }
            #expect(try keyring.read { db in try keyring.loadLedger(db, room) } == listing)
        }
        try keyring.write { db in try keyring.saveLedger(db, room, listing) }
        var adopted = listing
        adopted.keys = []
        adopted.deleted = []
        adopted.nextKeyExpiry = 2_000
        #expect(try keyring.read { db in try keyring.loadLedger(db, room) } == adopted)
        #expect(try keyring.read { db in try keyring.retiredKeyTags(db, room) } == [a])
        #expect(try keyring.read { db in try keyring.retiredKeyDeleted(db, keyTag: Hex.decode(b, what: "tag")) })
        #expect(try keyring.read { db in try !keyring.retiredKeyDeleted(db, keyTag: Hex.decode(a, what: "tag")) })
    }

    @Test func rotationPolicy() throws {
        let random = try SeededRandom(seed: [UInt8](repeating: 3, count: 32))
        let me = try SigningKeyPair.generate()
        let card = try IdentityCard(handle: "me", signer: me, sealingKey: SealingKeyPair.generate().publicKey, created: 1)
        let commit = Commit(roomID: RoomID.random(using: random), epoch: 0, previousHead: Commit.genesisHead, signer: me, time: 1,
                            operations: [.create(name: "r", creator: card)],
                            rosterHash: try RoomState.apply([.create(name: "r", creator: card)], to: Roster(), author: card.id, genesis: true).hash)
        var room = StoredRoom(state: try RoomState.genesis(commit), forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: 0,
                              confirmedEpoch: nil)
        room.rotateMessages = 3
        room.rotateAfterSeconds = 100
        #expect(RoomPolicy.rotationReason(messagesSent: 2, storedAt: 1000, now: 1099, room: room) == nil)
        #expect(RoomPolicy.rotationReason(messagesSent: 3, storedAt: 1000, now: 1000, room: room) != nil)
        #expect(RoomPolicy.rotationReason(messagesSent: 0, storedAt: 1000, now: 1100, room: room) != nil)
        #expect(RoomPolicy.rotationReason(messagesSent: 0, storedAt: 1000, now: 900, room: room) == nil)
    }
}
