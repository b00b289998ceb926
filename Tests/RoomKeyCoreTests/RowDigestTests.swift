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

    /// Every SQLite value type at its edges: NULL, integers (zero, negative, min, max), reals, text (empty,
    /// non-ASCII), blobs (empty, one byte, large).
    static let everyType: [RowDigest.Value] = [
        .null, .integer(0), .integer(-5), .integer(.min), .integer(.max), .real(1.5), .real(-0.0), .real(.infinity),
        .text([]), .text(Array("tëxt ✓".utf8)), .blob([]), .blob([0]), .blob(large()),
    ]

    /// 70,000 bytes that are not a plain count.
    static func large() -> [UInt8] { (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) } }

    /// A hash pinned from the format's description (computed with Python's `hashlib.blake2b`, not with roomkey), so a
    /// change to the encoder cannot move every stored digest unnoticed.
    @Test func theHashOfAKnownRowIsPinned() throws {
        let key = try makeKey(Self.key)
        let values: [RowDigest.Value] = [.null, .integer(-5), .integer(.min), .integer(.max), .real(1.5), .real(-0.0),
                                         .text([]), .text(Array("tëxt".utf8)), .blob([]), .blob(Self.large())]
        #expect(Hex.encode(RowDigest.rowHash(table: "room_epoch", values: values, key: key))
                == "244c191b9a13f99a07d3b7976da2897776d1543f0b844d255c13a524bda2c6f6")
        #expect(Hex.encode(RowDigest.rowHash(table: "t", values: [], key: key))
                == "587adaa357730a7b7b956578764f235a31a6c6c694d1891a7cf2a0af96240f3d")
    }

    /// The owned and the in-place entry points hash every value type alike, alone and in whole rows, and both equal the
    /// hash of an encoding written out here by hand.
    @Test func bothEntryPointsHashEveryValueTypeAlike() throws {
        let key = try makeKey(Self.key)
        let rows = Self.everyType.map { [$0] } + [Self.everyType, Self.everyType.reversed(), []]
        var seen = Set<[UInt8]>()
        for values in rows {
            let owned = RowDigest.rowHash(table: "t", values: values, key: key)
            #expect(owned == Self.hashInPlace(values, key: key))
            #expect(owned == RowDigest.rowHash(table: "t", raw: values.map { .value($0) }, key: key))
            #expect(owned == Self.hashOnTheStack(values, table: "t", key: key))
            #expect(owned == BLAKE2b.hash([Array("roomkey/row-digest/v1".utf8), [0, 0x74, 0], Self.reference(values)], key: key))
            seen.insert(owned)
        }
        #expect(seen.count == rows.count)
    }

    /// A table name that is not ASCII is left to the `String` entry point.
    @Test func theStackEntryPointTakesOnlyAnASCIITableName() throws {
        let key = try makeKey(Self.key)
        #expect(Self.hashOnTheStack(Self.everyType, table: "tablé", key: key) == nil)
        #expect(Self.hashOnTheStack(Self.everyType, table: "table_2", key: key) == RowDigest.rowHash(table: "table_2", values: Self.everyType, key: key))
    }

    /// `rowHash(tableName:raw:key:into:)` (the digest triggers' entry point), nil when it declines the row.
    static func hashOnTheStack(_ values: [RowDigest.Value], table: String, key: borrowing SymmetricKey) -> [UInt8]? {
        let raw: [RowDigest.RawValue] = values.map { .value($0) }
        var out = [UInt8](repeating: 0, count: 32)
        let done = Array(table.utf8).withUnsafeBytes { name in
            raw.withUnsafeBufferPointer { values in
                out.withUnsafeMutableBytes { RowDigest.rowHash(tableName: name, raw: values, key: key, into: $0) }
            }
        }
        return done ? out : nil
    }

    /// `rowHash(table:raw:key:)` with every blob copied to memory of its own and read there.
    static func hashInPlace(_ values: [RowDigest.Value], key: borrowing SymmetricKey) -> [UInt8] {
        var buffers: [UnsafeMutableRawBufferPointer] = []
        defer { buffers.forEach { $0.deallocate() } }
        let raw: [RowDigest.RawValue] = values.map { value in
            guard case let .blob(bytes) = value else { return .value(value) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            buffer.copyBytes(from: bytes)
            buffers.append(buffer)
            return .blob(UnsafeRawBufferPointer(buffer))
        }
        return RowDigest.rowHash(table: "t", raw: raw, key: key)
    }

    /// The row encoding as the format describes it, written independently of `RowDigest`'s encoder.
    static func reference(_ values: [RowDigest.Value]) -> [UInt8] {
        values.flatMap { value -> [UInt8] in
            let (type, bytes): (UInt8, [UInt8]) = switch value {
            case .null: (0, [])
            case let .integer(v): (1, bigEndian(UInt64(bitPattern: v)))
            case let .real(v): (2, bigEndian(v.bitPattern))
            case let .text(b): (3, b)
            case let .blob(b): (4, b)
            }
            return [type] + bigEndian(UInt64(bytes.count)).suffix(4) + bytes
        }
    }

    /// The 8 big-endian bytes of `v`.
    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
}
