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
        // -1: not kept (no room left for its rank).
        let droppedAlone = inputs.dropFirst(3).map { (try? alone.storePending([$0])[0].get()) ?? -1 }
        let before = together.committedWrites
        let droppedTogether = try together.storePending(Array(inputs.dropFirst(3))).map { (try? $0.get()) ?? -1 }
        #expect(together.committedWrites - before == 1)
        #expect(droppedTogether == droppedAlone)
        #expect(try Self.rows(together) == Self.rows(alone))
        if limit < 1_000_000 { #expect(droppedAlone.contains { $0 != 0 }, "the limit must make rows go, or refuse some") }
        // The bounds hold at the end: all rows within the limit (unless one row alone is larger), strangers within 1/8.
        let rows = try Self.rows(together)
        let all = rows.reduce(0) { $0 + $1[1] }, strangers = rows.filter { $0[0] == 0 }.reduce(0) { $0 + $1[1] }
        #expect(all <= limit || (rows.count == 1 && rows[0][0] == 2))
        #expect(strangers <= limit / 8)
    }

    /// A row never displaces one that ranks above it, and a stranger's row counts against the strangers' eighth (a
    /// hostile review: one stranger's bundle took a quarter of the store and evicted member-signed waiting bundles).
    @Test func aLowerRankNeverEvictsAHigherOne() throws {
        let k = try Self.keyring("ranks.sqlite", limit: 120_000)
        let room = try RoomID(bytes: [UInt8](repeating: 4, count: 16))
        func input(_ n: Int, _ size: Int, _ rank: WaitingRank) -> Keyring.PendingInput {
            let bytes = [UInt8](repeating: UInt8(n), count: size)
            return Keyring.PendingInput(bytes: { bytes }, path: "b\(n)", room: room, rank: rank)
        }
        // Members' rows fill most of the store.
        for n in 0..<7 { #expect(try k.storePending([input(n, 10_000, .member)])[0].get() == 0) }
        let members = try Self.rows(k)
        // A stranger's row larger than the strangers' eighth is not kept; nor is a known card's row for which only
        // members' rows could make room.
        #expect(throws: BundleError.self) { try k.storePending([input(20, 12_000, .stranger)])[0].get() }
        #expect(throws: BundleError.self) { try k.storePending([input(21, 30_000, .known)])[0].get() }
        #expect(try Self.rows(k) == members)
        // A small stranger's row fits beside them; a member's row then evicts it first, then the oldest member's.
        #expect(try k.storePending([input(22, 5_000, .stranger)])[0].get() == 0)
        #expect(try k.storePending([input(23, 20_000, .member)])[0].get() == 2)
        #expect(try Self.rows(k).map { $0[0] } == Array(repeating: 2, count: 7))
    }
}
