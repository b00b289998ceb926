import Testing
@testable import RoomKeyCore

/// `EphemeralKeyPool`: key pairs made ahead seal boxes that open like any other, each pair used once, the first boxes
/// taking the pool's pairs and the others drawing their own; a pool too small to help makes nothing.
@Suite struct EphemeralKeyPoolTests {
    /// Recipients given by seed, their key pairs made again when needed (pairs cannot be copied into an array).
    static func seeds(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ i &* 97 &+ 3) } }
    }

    static func pair(_ seed: [UInt8]) throws -> SealingKeyPair {
        var copy = seed
        return try SealingKeyPair.fromSeed(SecretBytes(consuming: &copy))
    }

    /// Seals 32 bytes to `count` recipients with a pool of `poolPairs` made in full first; checks every box and
    /// returns how many took a pair from the pool.
    static func sealWithPool(count: Int, poolPairs: Int) throws -> Int {
        let seeds = seeds(count)
        let keys = try seeds.flatMap { try pair($0).publicKey.bytes }
        var plain = (0..<32).map { UInt8($0 ^ 0x5C) }
        let secret = SecretBytes(consuming: &plain)
        let box = 32 + SealingPublicKey.sealOverhead, stride = box + 3
        var out = [UInt8](repeating: 0xA5, count: count * stride)
        let pool = EphemeralKeyPool(pairs: poolPairs)
        let full = pool.waitUntilMade(poolPairs)
        #expect(full == (poolPairs >= EphemeralKeyPool.minimumPairs && BatchSeal.cores > 1))
        let taken = try BatchSeal.seal(secret, keys: keys, into: &out, offset: 0, stride: stride, pool: pool)
        var ephemeral = Set<[UInt8]>()
        for i in 0..<count {
            let sealed = Array(out[(i * stride)..<(i * stride + box)])
            let opened = try pair(seeds[i]).open(sealed)
            #expect(opened.withUnsafeBytes { Array($0) } == (0..<32).map { UInt8($0 ^ 0x5C) }, "box \(i)")
            #expect(out[(i * stride + box)..<((i + 1) * stride)].allSatisfy { $0 == 0xA5 }, "gap after box \(i)")
            ephemeral.insert(Array(sealed.prefix(32)))
        }
        #expect(ephemeral.count == count, "every box has its own ephemeral key")
        return taken
    }

    /// More boxes than pairs: the pool's pairs seal the first boxes, the rest draw theirs (the boundary falls inside a
    /// chunk of `BatchSeal.boxesPerDraw` for 100 pairs).
    @Test(arguments: [(count: 250, pairs: 100), (count: 100, pairs: 100), (count: 64, pairs: 64)])
    func boxesFromAPoolOpen(count: Int, pairs: Int) throws {
        let taken = try Self.sealWithPool(count: count, poolPairs: pairs)
        #expect(taken == (BatchSeal.cores > 1 ? min(count, pairs) : 0))
    }

    /// Fewer boxes than pairs: only as many are taken, and the others are wiped with the pool.
    @Test func aPoolLargerThanTheSealGivesOnlyWhatItNeeds() throws {
        let taken = try Self.sealWithPool(count: 40, poolPairs: 200)
        #expect(taken == (BatchSeal.cores > 1 ? 40 : 0))
    }

    /// Below `minimumPairs` nothing is made ahead: the seal makes every pair itself.
    @Test func aSmallPoolMakesNothing() throws {
        #expect(try Self.sealWithPool(count: 80, poolPairs: EphemeralKeyPool.minimumPairs - 1) == 0)
    }

    /// A pool dropped while it works stops (its producer is waited for), and one that was never full still seals.
    @Test func aPoolDroppedOrTakenEarlyStops() throws {
        for _ in 0..<5 { _ = EphemeralKeyPool(pairs: EphemeralKeyPool.maximumPairs) }
        let keys = try Self.seeds(300).flatMap { try Self.pair($0).publicKey.bytes }
        var plain = [UInt8](repeating: 9, count: 32)
        let secret = SecretBytes(consuming: &plain)
        var out = [UInt8](repeating: 0, count: 300 * 80)
        let taken = try BatchSeal.seal(secret, keys: keys, into: &out, offset: 0, stride: 80,
                                       pool: EphemeralKeyPool(pairs: EphemeralKeyPool.maximumPairs))
        #expect(taken <= 300)
        #expect(try Self.pair(Self.seeds(300)[299]).open(Array(out[(299 * 80)..<(300 * 80)])).count == 32)
    }
}
