import Testing
@testable import RoomKeyCore

/// `BatchSeal.seal`: sealed boxes built on every core, with the ephemeral keys drawn a chunk at a time, are sealed boxes
/// that `crypto_box_seal_open` opens, each with its own ephemeral key, written only to their slots.
@Suite struct BatchSealTests {
    @Test(arguments: [1, 15, 16, 17, 200])
    func everyBoxOpensForItsRecipient(count: Int) throws {
        // Key pairs cannot be copied into an array: each recipient is its seed, its pair made again when needed.
        let seeds = (0..<count).map { i in (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i &* 131 &+ 1) } }
        func pair(_ i: Int) throws -> SealingKeyPair {
            var seed = seeds[i]
            return try SealingKeyPair.fromSeed(SecretBytes(consuming: &seed))
        }
        let keys = try (0..<count).flatMap { try pair($0).publicKey.bytes }
        var plain = (0..<32).map { UInt8($0) }
        let secret = SecretBytes(consuming: &plain)
        let box = 32 + SealingPublicKey.sealOverhead, stride = box + 7, offset = 5
        var out = [UInt8](repeating: 0xA5, count: offset + count * stride)
        try BatchSeal.seal(secret, keys: keys, into: &out, offset: offset, stride: stride)
        var ephemeral = Set<[UInt8]>()
        for i in 0..<count {
            let start = offset + i * stride
            let sealed = Array(out[start..<(start + box)])
            let opened = try pair(i).open(sealed)
            #expect(opened.withUnsafeBytes { Array($0) } == (0..<32).map { UInt8($0) }, "box \(i)")
            ephemeral.insert(Array(sealed.prefix(32)))
            // Another recipient's key does not open it.
            if count > 1 { #expect(throws: CryptoError.self) { _ = try pair((i + 1) % count).open(sealed) } }
            #expect(out[(start + box)..<(start + stride)].allSatisfy { $0 == 0xA5 }, "gap after box \(i)")
        }
        #expect(out.prefix(offset).allSatisfy { $0 == 0xA5 })
        #expect(ephemeral.count == count, "every box has its own ephemeral key")
    }

    @Test func aLowOrderKeyFailsTheBatch() throws {
        let good = try SealingKeyPair.generate()
        var plain = [UInt8](repeating: 1, count: 32)
        let secret = SecretBytes(consuming: &plain)
        var out = [UInt8](repeating: 0, count: 3 * 80)
        // The all-zero point: X25519 with it gives the all-zero secret, which libsodium refuses, as crypto_box_seal does.
        let keys = good.publicKey.bytes + [UInt8](repeating: 0, count: 32) + good.publicKey.bytes
        #expect(throws: CryptoError.self) { try BatchSeal.seal(secret, keys: keys, into: &out, offset: 0, stride: 80) }
    }
}
