import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("SystemRandom and SeededRandom")
struct CryptoRandomTests {
    // MARK: SystemRandom

    @Test("SystemRandom returns the requested number of bytes")
    func systemLengths() throws {
        let r = try SystemRandom()
        for n in [0, 1, 16, 32, 1000] {
            #expect(r.bytes(n).count == n)
            #expect(r.secret(n).count == n)
        }
    }

    @Test("SystemRandom does not repeat itself")
    func systemNonRepeating() throws {
        let r = try SystemRandom()
        var seen = Set<[UInt8]>()
        for _ in 0..<100 { seen.insert(r.bytes(32)) }
        #expect(seen.count == 100)
        #expect(!seen.contains([UInt8](repeating: 0, count: 32)))
        // Two independent instances do not share a stream either.
        #expect(try SystemRandom().bytes(32) != SystemRandom().bytes(32))
    }

    @Test("SystemRandom.fill writes into every byte of a large buffer")
    func systemFillsWholeBuffer() throws {
        let r = try SystemRandom()
        // The chance that a given byte position stays 0 across 4 fills is 2^-32.
        var ored = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<4 {
            let b = r.bytes(4096)
            for i in 0..<b.count { ored[i] |= b[i] }
        }
        #expect(!ored.contains(0))
    }

    // MARK: SeededRandom

    @Test("SeededRandom: equal seeds give equal streams")
    func seededDeterministic() throws {
        let seed = counting(32)
        let a = try SeededRandom(seed: seed)
        let b = try SeededRandom(seed: seed)
        for n in [1, 32, 64, 200] {
            #expect(a.bytes(n) == b.bytes(n))
        }
        #expect(bytesOf(a.secret(32)) == bytesOf(b.secret(32)))
    }

    @Test("SeededRandom: successive draws differ")
    func seededAdvances() throws {
        let r = try SeededRandom(seed: counting(32))
        let first = r.bytes(32)
        let second = r.bytes(32)
        #expect(first != second)
    }

    @Test("SeededRandom: different seeds give different streams")
    func seededDifferentSeeds() throws {
        let a = try SeededRandom(seed: counting(32))
        let b = try SeededRandom(seed: flippingBit(counting(32), at: 0))
        let c = try SeededRandom(seed: [UInt8](repeating: 0, count: 32))
        let xa = a.bytes(32), xb = b.bytes(32), xc = c.bytes(32)
        #expect(xa != xb)
        #expect(xa != xc)
        #expect(xb != xc)
    }

    @Test("SeededRandom: related seeds do not give shifted copies of one stream")
    func seededRelatedSeedsDoNotOverlap() throws {
        // Draw 2 of seed S must not equal draw 1 of S with its last byte XOR 3 (the old counter-XOR design).
        var related = counting(32)
        related[31] ^= 3
        let a = try SeededRandom(seed: counting(32)), b = try SeededRandom(seed: related)
        _ = a.bytes(32)
        #expect(a.bytes(32) != b.bytes(32))
    }

    @Test("SeededRandom: an empty request does not advance the stream")
    func seededEmptyRequest() throws {
        let a = try SeededRandom(seed: counting(32))
        let b = try SeededRandom(seed: counting(32))
        #expect(a.bytes(0).isEmpty)
        #expect(a.bytes(16) == b.bytes(16))
    }

    @Test("SeededRandom rejects a seed that is not 32 bytes", arguments: [0, 16, 31, 33, 64])
    func seededWrongLength(length: Int) {
        #expect(throws: CryptoError.invalidLength(what: "random seed", expected: 32, found: length)) {
            _ = try SeededRandom(seed: [UInt8](repeating: 1, count: length))
        }
    }
}
