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

    @Test func generationsExpireAndAreRemembered() {
        var ledger = RetentionLedger(latestEpoch: 5)
        ledger.noteGeneration([0xAA], epoch: 5, now: 10)
        ledger.noteGeneration([0xAA], epoch: 5, now: 20)
        ledger.noteGeneration([0xBB], epoch: 5, now: 30)
        #expect(ledger.keys.map(\.at) == [10, 30])
        #expect(ledger.expire(currentEpoch: 5, now: 40, cutoff: 15) == .init(epochs: nil, keys: ["aa"]))
        #expect(ledger.isDeleted(epoch: 5, keyTag: [0xAA]))
        #expect(!ledger.isDeleted(epoch: 5, keyTag: [0xBB]))
        ledger.noteGeneration([0xAA], epoch: 5, now: 50)
        #expect(ledger.keys.map(\.tag) == ["bb"])
        // Once the epoch itself goes, its remembered generations are dropped (the floor covers them).
        ledger.noteEpoch(6, now: 60)
        _ = ledger.expire(currentEpoch: 6, now: 100, cutoff: 60)
        #expect(ledger.floor == 6)
        #expect(ledger.keys.isEmpty && ledger.deleted.isEmpty)
        #expect(ledger.isDeleted(epoch: 5, keyTag: [0xBB]))
    }

    @Test func ledgerStorageFormRoundTripsAndOldJSONRowsStillRead() throws {
        var ledger = RetentionLedger(latestEpoch: 0)
        for epoch in 1...500 { ledger.noteEpoch(UInt64(epoch), now: UInt64(1_000 + epoch)) }
        ledger.noteGeneration([0xAA, 0x01], epoch: 500, now: 2_000)
        ledger.noteGeneration([0xBB], epoch: 500, now: 2_001)
        _ = ledger.expire(currentEpoch: 500, now: 2_100, cutoff: 1_100)
        #expect(ledger.floor == 100 && ledger.epochs.count == 400)
        #expect(try RetentionLedger.parse(ledger.encoded) == ledger)
        #expect(throws: WireError.self) { try RetentionLedger.parse(ledger.encoded + [0]) }
        #expect(throws: WireError.self) { try RetentionLedger.parse(Array(ledger.encoded.dropLast())) }
        var count = ledger.encoded
        count[17...20] = [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: WireError.self) { try RetentionLedger.parse(count) }
        // A row from before the binary form is JSON, and reads as the same ledger.
        let keyring = try Keyring.create(path: temporaryPath("k.sqlite"), handle: "me",
                                         passphrase: nil, random: SystemRandom())
        let room = RoomID.random(using: try SystemRandom())
        let rtag = keyring.roomTag(room)
        let json = try keyring.rows.seal(record: ledger, table: "key_retention", primaryKey: rtag)
        try keyring.write { db in
            try db.execute(sql: "INSERT INTO key_retention (room_tag, sealed) VALUES (?, ?)", arguments: [Data(rtag), Data(json)])
        }
        #expect(try keyring.read { db in try keyring.loadLedger(db, room) } == ledger)
        try keyring.write { db in try keyring.saveLedger(db, room, ledger) }
        #expect(try keyring.read { db in try keyring.loadLedger(db, room) } == ledger)
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
