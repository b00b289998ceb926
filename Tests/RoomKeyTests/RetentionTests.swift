import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Durations as typed, the retention ledger's clock rules, and the rotation policy.
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

    @Test func epochsExpireInOrderAfterTheirWindow() {
        var ledger = RetentionLedger(latestEpoch: 0)
        ledger.noteEpoch(1, now: 100)
        ledger.noteEpoch(1, now: 150)
        ledger.noteEpoch(3, now: 200)
        #expect(ledger.epochs == [.init(below: 1, at: 100), .init(below: 3, at: 200)])
        #expect(ledger.expire(currentEpoch: 3, now: 160, cutoff: 99).isEmpty)
        #expect(ledger.expire(currentEpoch: 3, now: 170, cutoff: 100) == .init(epochs: 0..<1, keys: []))
        #expect(ledger.floor == 1)
        #expect(ledger.isDeleted(epoch: 0, keyTag: [1]))
        #expect(!ledger.isDeleted(epoch: 1, keyTag: [1]))
        #expect(ledger.expire(currentEpoch: 3, now: 300, cutoff: 250) == .init(epochs: 1..<3, keys: []))
        #expect(ledger.epochs.isEmpty)
        #expect(ledger.floor == 3)
    }

    @Test func aNewerEpochSeenByPruneIsSupersededFromThen() {
        var ledger = RetentionLedger(latestEpoch: 2)
        let expiry = ledger.expire(currentEpoch: 4, now: 500, cutoff: nil)
        #expect(expiry.isEmpty)
        #expect(ledger.latestEpoch == 4)
        #expect(ledger.epochs == [.init(below: 4, at: 500)])
    }

    /// Generations a ledger written before `retired_key` lists expire from the lists; those kept as rows are due once
    /// the earliest of them was superseded at or before the cutoff.
    @Test func generationsExpireAndAreRemembered() {
        var ledger = RetentionLedger(latestEpoch: 5)
        ledger.keys = [.init(tag: "aa", epoch: 5, at: 10), .init(tag: "bb", epoch: 5, at: 30)]
        #expect(ledger.expire(currentEpoch: 5, now: 40, cutoff: 15) == .init(epochs: nil, keys: ["aa"]))
        #expect(ledger.isDeleted(epoch: 5, keyTag: [0xAA]))
        #expect(!ledger.isDeleted(epoch: 5, keyTag: [0xBB]))
        #expect(ledger.keys.map(\.tag) == ["bb"])
        // Once the epoch itself goes, its remembered generations are dropped (the floor covers them).
        ledger.noteEpoch(6, now: 60)
        _ = ledger.expire(currentEpoch: 6, now: 100, cutoff: 60)
        #expect(ledger.floor == 6)
        #expect(ledger.keys.isEmpty && ledger.deleted.isEmpty)
        #expect(ledger.isDeleted(epoch: 5, keyTag: [0xBB]))
        // Rows: due from the earliest one's time on.
        ledger.noteRetiredRow(at: 200)
        ledger.noteRetiredRow(at: 150)
        #expect(ledger.nextKeyExpiry == 150)
        #expect(ledger.expire(currentEpoch: 6, now: 300, cutoff: 149).isEmpty)
        #expect(ledger.expire(currentEpoch: 6, now: 300, cutoff: 150) == .init(epochs: nil, keys: [], rowsDue: true))
    }

    @Test func ledgerStorageFormRoundTripsAndOldRowsStillRead() throws {
        var ledger = RetentionLedger(latestEpoch: 0)
        for epoch in 1...500 { ledger.noteEpoch(UInt64(epoch), now: UInt64(1_000 + epoch)) }
        _ = ledger.expire(currentEpoch: 500, now: 2_100, cutoff: 1_100)
        #expect(ledger.floor == 100 && ledger.epochs.count == 400)
        #expect(try RetentionLedger.parse(ledger.encoded) == ledger)
        ledger.noteRetiredRow(at: 2_050)
        #expect(ledger.encoded.first == 2)
        #expect(try RetentionLedger.parse(ledger.encoded) == ledger)
        #expect(throws: WireError.self) { try RetentionLedger.parse(ledger.encoded + [0]) }
        #expect(throws: WireError.self) { try RetentionLedger.parse(Array(ledger.encoded.dropLast())) }
        var flag = ledger.encoded
        flag[17] = 2
        #expect(throws: WireError.self) { try RetentionLedger.parse(flag) }
        var count = ledger.encoded
        count[26...29] = [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: WireError.self) { try RetentionLedger.parse(count) }
        var version = ledger.encoded
        version[0] = 3
        #expect(throws: WireError.self) { try RetentionLedger.parse(version) }
        // A ledger that lists generations is version 1, as written before `retired_key`.
        let a = Hex.encode([UInt8](repeating: 0xAA, count: 32)), b = Hex.encode([UInt8](repeating: 0xBB, count: 32))
        var listing = ledger
        listing.nextKeyExpiry = nil
        listing.keys = [.init(tag: a, epoch: 500, at: 2_000)]
        listing.deleted = [.init(tag: b, epoch: 499)]
        #expect(listing.encoded.first == 1)
        #expect(try RetentionLedger.parse(listing.encoded) == listing)
        // Rows written before the binary form are JSON; both older forms read as the same ledger, and the next save
        // moves the lists into rows.
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
