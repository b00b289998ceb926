import Testing
@testable import RoomKeyCore

/// The retention ledger's rules (PROTOCOL §8, Retention) and its storage form, without a keyring: when epochs and
/// superseded generations expire, and what a cutoff is.
struct RetentionLedgerTests {
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

    /// The cutoff: the shorter of the room's window and `prune --older-than`, and nothing before a window has passed.
    @Test(arguments: [(1_000, 100, nil, 900), (1_000, 100, 50, 950), (1_000, 100, 500, 900), (99, 100, nil, nil), (100, 100, nil, 0),
                      (1_000, 0, nil, 1_000), (5, 72 * 3_600, 0, 5)] as [(UInt64, UInt64, UInt64?, UInt64?)])
    func cutoff(now: UInt64, window: UInt64, olderThan: UInt64?, expected: UInt64?) {
        #expect(RetentionLedger.cutoff(now: now, window: window, olderThan: olderThan) == expected)
    }

    /// A ledger as version 1 wrote it: a superseded and a deleted generation (32-byte tags, hex).
    static func listing() -> RetentionLedger {
        var ledger = RetentionLedger(latestEpoch: 500, floor: 100)
        ledger.keys = [.init(tag: Hex.encode([UInt8](repeating: 0xAA, count: 32)), epoch: 500, at: 2_000)]
        ledger.deleted = [.init(tag: Hex.encode([UInt8](repeating: 0xBB, count: 32)), epoch: 499)]
        return ledger
    }

    @Test func storageFormRoundTripsAndIsChecked() throws {
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
        let listing = Self.listing()
        #expect(listing.encoded.first == 1)
        #expect(try RetentionLedger.parse(listing.encoded) == listing)
    }
}
