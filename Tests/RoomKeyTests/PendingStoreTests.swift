import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Bundles kept pending: many stored in one transaction end exactly as if each were stored alone after the ones before
/// it (the same rows kept, the same number dropped at each), with the table's totals kept up to date row by row.
@Suite(.temporaryFolder) struct PendingStoreTests {
    static func keyring(_ name: String, limit: Int) throws -> Keyring {
        let k = try Keyring.create(path: temporaryPath(name), handle: "me", passphrase: nil, random: SystemRandom())
        k.pendingByteLimit = limit
        return k
    }

    /// What stays pending, oldest first: whether each row is authenticated and its sealed size.
    static func rows(_ k: Keyring) throws -> [[Int]] {
        try k.read { db in
            try Row.fetchAll(db, sql: "SELECT authenticated, LENGTH(sealed) AS size FROM pending_bundle ORDER BY rowid")
                .map { [$0["authenticated"] as Int, $0["size"] as Int] }
        }
    }

    /// Inputs of varied sizes, one in three unauthenticated, with repeats of recent bytes (a row replaced).
    static func inputs(seed: UInt64, count: Int) throws -> [Keyring.PendingInput] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let room = try RoomID(bytes: [UInt8](repeating: 3, count: 16))
        var made: [Keyring.PendingInput] = []
        for i in 0..<count {
            if i > 4, next() % 6 == 0 {
                let earlier = made[made.count - 1 - Int(next() % 5)]  // recent: likely still pending
                made.append(Keyring.PendingInput(bytes: earlier.bytes, path: "again-\(i)", room: room, rank: WaitingRank(rawValue: Int(next() % 3)) ?? .stranger))
                continue
            }
            let size = 100 + Int(next() % 3_000)
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: next()) }
            made.append(Keyring.PendingInput(bytes: { bytes }, path: "b-\(i)", room: room, rank: WaitingRank(rawValue: Int(next() % 3)) ?? .stranger))
        }
        return made
    }

    @Test(arguments: [(UInt64(1), 20_000), (2, 9_000), (3, 1_000_000), (4, 1), (5, 60_000), (6, 40_000)])
    func manyInOneTransactionEndAsEachAloneDoes(seed: UInt64, limit: Int) throws {
        let inputs = try Self.inputs(seed: seed, count: 60)
        let alone = try Self.keyring("alone-\(seed).sqlite", limit: limit)
        let together = try Self.keyring("together-\(seed).sqlite", limit: limit)
        // Something pending already, so the first store starts from a table that is not empty.
        for k in [alone, together] { _ = try k.storePending(Array(inputs.prefix(3))) }
        let droppedAlone = try inputs.dropFirst(3).map {
            try alone.storePending(bytes: $0.bytes(), path: $0.path, room: $0.room, rank: $0.rank)
        }
        let before = together.committedWrites
        let droppedTogether = try together.storePending(Array(inputs.dropFirst(3))).map { try $0.get() }
        #expect(together.committedWrites - before == 1)
        #expect(droppedTogether == droppedAlone)
        #expect(try Self.rows(together) == Self.rows(alone))
        if limit < 1_000_000 { #expect(droppedAlone.reduce(0, +) > 0, "the limit must make rows go") }
        // The bounds hold at the end: all rows within the limit (unless one row alone is larger), strangers within 1/8.
        let rows = try Self.rows(together)
        let all = rows.reduce(0) { $0 + $1[1] }, strangers = rows.filter { $0[0] == 0 }.reduce(0) { $0 + $1[1] }
        #expect(all <= limit || rows.count == 1)
        #expect(strangers <= limit / 8 || (rows.filter { $0[0] == 0 }.count == 1 && rows.last?[0] == 0))
    }
}
