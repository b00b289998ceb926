import Testing
@testable import RoomKeyCore

/// Pools of uneven sizes, taken while still making pairs or once full, next to seals of many sizes: every box opens for
/// its recipient and no ephemeral key appears twice across all of them (from a hostile review of the pool).
@Suite struct EphemeralKeyPoolSplitTests {
    /// Pools taken at arbitrary points (not chunk-aligned limits, taken mid-production), box counts around them.
    @Test func everyBoxOpensWithItsOwnKeyWhateverTheSplit() throws {
        let seeds = EphemeralKeyPoolTests.seeds(300)
        let publics = try seeds.map { try EphemeralKeyPoolTests.pair($0).publicKey.bytes }
        var epks = Set<[UInt8]>()
        var total = 0
        for (count, poolPairs, wait) in [(300, 70, 70), (300, 70, 0), (17, 65, 65), (300, 299, 33), (129, 64, 64), (1, 64, 64), (300, 300, 5)] {
            let keys = publics.prefix(count).flatMap { $0 }
            var plain = [UInt8](repeating: 7, count: 32)
            let secret = SecretBytes(consuming: &plain)
            let box = 32 + SealingPublicKey.sealOverhead
            var out = [UInt8](repeating: 0, count: count * box)
            let pool = EphemeralKeyPool(pairs: poolPairs)
            if wait > 0 { _ = pool.waitUntilMade(wait) }
            _ = try BatchSeal.seal(secret, keys: keys, into: &out, offset: 0, stride: box, pool: pool)
            for i in 0..<count {
                let sealed = Array(out[(i * box)..<((i + 1) * box)])
                #expect(try EphemeralKeyPoolTests.pair(seeds[i]).open(sealed).count == 32, "\(count)/\(poolPairs) box \(i)")
                epks.insert(Array(sealed.prefix(32)))
                total += 1
            }
        }
        #expect(epks.count == total, "no ephemeral key twice across all seals")
    }
}
