import Foundation
import Testing
@testable import RoomKeyCore

/// The reader's integer and prefixed reads (done in place, the field's name only formatted for an error), and the hex
/// form of identity ids that summaries store.
@Suite struct WireReadingTests {
    @Test func integersAndPrefixedFieldsReadBigEndianInPlace() throws {
        var w = ByteWriter()
        w.writeU8(0xAB)
        w.writeU16(0x0102)
        w.writeU32(0xDEAD_BEEF)
        w.writeU64(0x0102_0304_0506_0708)
        w.writePrefixed(width: 2, [9, 8, 7])
        var r = ByteReader(w.bytes, what: "sample")
        #expect(try r.readU8("a") == 0xAB)
        #expect(try r.readU16("b") == 0x0102)
        #expect(try r.readU32("c") == 0xDEAD_BEEF)
        #expect(try r.readU64("d") == 0x0102_0304_0506_0708)
        #expect(try r.readPrefixed(width: 2, "e", range: 0...3) == [9, 8, 7])
        try r.finish()
    }

    /// Each failing read, and the message it must give: the field's name is still in it.
    static let failures: [(bytes: [UInt8], read: @Sendable (inout ByteReader) throws -> Void, message: String)] = [
        ([], { _ = try $0.readU8("flag") }, "sample flag is truncated: needed 1 bytes, 0 left"),
        ([1, 2, 3], { _ = try $0.readU32("count") }, "sample count is truncated: needed 4 bytes, 3 left"),
        ([0], { _ = try $0.readPrefixed(width: 2, "card", range: 0...10) }, "sample card length is truncated: needed 2 bytes, 1 left"),
        ([0, 5, 1], { _ = try $0.readPrefixed(width: 2, "card", range: 0...10) }, "sample card is truncated: needed 5 bytes, 1 left"),
        ([0, 11], { _ = try $0.readPrefixed(width: 2, "card", range: 0...10) }, "sample card is too large"),
        ([0, 0, 0], { _ = try $0.readCount(width: 4, "member", limit: 5) }, "sample member count is truncated: needed 4 bytes, 3 left"),
    ]

    @Test(arguments: failures.indices)
    func aShortReadNamesItsField(index: Int) {
        let (bytes, read, message) = Self.failures[index]
        var r = ByteReader(bytes, what: "sample")
        do {
            try read(&r)
            Issue.record("read \(index) did not fail")
        } catch let error as WireError {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func identityIDsRoundTripThroughTheirHexForm() throws {
        for seed in 0..<64 {
            let id = IdentityID(signingKey: try SigningPublicKey(bytes: [UInt8](repeating: UInt8(seed), count: 32)))
            var w = ByteWriter()
            id.writeHex(to: &w)
            #expect(String(decoding: w.bytes, as: UTF8.self) == id.hex)
            #expect(IdentityID(hex: Array(id.hex.utf8)) == id)
        }
    }

    @Test(arguments: ["", "0", String(repeating: "a", count: 31), String(repeating: "a", count: 33),
                      String(repeating: "A", count: 32), String(repeating: "g", count: 32), String(repeating: "0", count: 31) + " "])
    func hexThatIsNotAnIdentityIDIsRefused(text: String) {
        #expect(IdentityID(hex: Array(text.utf8)) == nil)
    }
}

/// `BytesOrder` orders byte strings as `lexicographicallyPrecedes` does.
@Suite struct BytesOrderTests {
    @Test func agreesWithLexicographicOrder() {
        var rng = SystemRandomNumberGenerator()
        var samples: [[UInt8]] = [[], [0], [0, 0], [1], [0xFF], [0xFF, 0], Array(repeating: 7, count: 64)]
        for _ in 0..<200 { samples.append((0..<Int.random(in: 0...5, using: &rng)).map { _ in UInt8.random(in: 0...2, using: &rng) }) }
        for a in samples {
            for b in samples { #expect(BytesOrder.precedes(a, b) == a.lexicographicallyPrecedes(b), "\(a) \(b)") }
        }
    }
}
