import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// The keyed multiset hash that accounts for every keyring row.
@Suite struct RowDigestTests {
    static let key: [UInt8] = (0..<32).map { UInt8($0) }

    /// 256-bit arithmetic: (start, added, expected sum), little-endian.
    static let sums: [([UInt8], [UInt8], [UInt8])] = [
        (zeros(), one(), one()),
        ([0xff] + zeros(31), one(), [0x00, 0x01] + zeros(30)),
        // The carry runs through every byte and wraps at 2^256.
        ([UInt8](repeating: 0xff, count: 32), one(), zeros()),
        ([0x80] + zeros(30) + [0x80], [0x80] + zeros(30) + [0x80], [0x00, 0x01] + zeros(30)),
    ]

    static func zeros(_ n: Int = 32) -> [UInt8] { [UInt8](repeating: 0, count: n) }
    static func one() -> [UInt8] { [1] + zeros(31) }

    @Test(arguments: sums) func addsModulo2To256(start: [UInt8], added: [UInt8], expected: [UInt8]) throws {
        var d = try #require(RowDigest(bytes: start))
        d.add(added)
        #expect(d.bytes == expected)
        d.subtract(added)
        #expect(d.bytes == start)
    }

    @Test func onlyThirtyTwoBytesMakeADigest() {
        #expect(RowDigest(bytes: Self.zeros(31)) == nil)
        #expect(RowDigest(bytes: Self.zeros(33)) == nil)
        #expect(RowDigest(bytes: Self.zeros()) == .empty)
    }

    @Test func theOrderOfRowsDoesNotMatterButTheirCountDoes() throws {
        let key = try makeKey(Self.key)
        let a = RowDigest.rowHash(table: "t", values: [.blob([1, 2]), .integer(7)], key: key)
        let b = RowDigest.rowHash(table: "t", values: [.text(Array("x".utf8))], key: key)
        var ab = RowDigest.empty, ba = RowDigest.empty, aab = RowDigest.empty
        ab.add(a); ab.add(b)
        ba.add(b); ba.add(a)
        aab.add(a); aab.add(a); aab.add(b)
        #expect(ab == ba)
        // XOR would cancel a duplicated row; the sum does not.
        #expect(aab != ab)
        #expect(aab != RowDigest.empty)
        var back = aab
        back.subtract(a)
        #expect(back == ab)
    }

    /// Rows that differ only in table, type, value, split or key hash differently.
    @Test func everyPartOfARowIsBound() throws {
        let key = try makeKey(Self.key)
        let other = try makeKey([UInt8](repeating: 9, count: 32))
        let rows: [(String, [RowDigest.Value])] = [
            ("t", [.blob([1, 2])]), ("u", [.blob([1, 2])]), ("t", [.text([1, 2])]), ("t", [.blob([1]), .blob([2])]),
            ("t", [.blob([1, 2]), .null]), ("t", [.integer(1)]), ("t", [.real(1)]), ("t", [.null]), ("t", []),
        ]
        let hashes = rows.map { RowDigest.rowHash(table: $0.0, values: $0.1, key: key) }
        #expect(Set(hashes.map { $0 }).count == rows.count)
        #expect(RowDigest.rowHash(table: "t", values: [.blob([1, 2])], key: other) != hashes[0])
        #expect(hashes.allSatisfy { $0.count == 32 })
    }

    @Test func valuesEncodeWithTypeAndLength() {
        #expect(RowDigest.encode([.null]) == [0, 0, 0, 0, 0])
        #expect(RowDigest.encode([.integer(-1)]) == [1, 0, 0, 0, 8] + [UInt8](repeating: 0xff, count: 8))
        #expect(RowDigest.encode([.text([0x61])]) == [3, 0, 0, 0, 1, 0x61])
        #expect(RowDigest.encode([.blob([])]) == [4, 0, 0, 0, 0])
        #expect(RowDigest.encode([.real(1.0)]) == [2, 0, 0, 0, 8, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0])
    }
}
