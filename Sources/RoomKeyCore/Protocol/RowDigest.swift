/// A keyed multiset hash of a table's rows: the sum, modulo 2^256, of a keyed BLAKE2b-256 of every row.
///
/// Adding a row adds its hash, deleting one subtracts it, so a digest can be kept up to date one row change at a time
/// and compared with a recomputation over every row. Addition (not XOR) keeps two equal rows from cancelling out; the
/// key keeps anyone without it from computing the hash of a row they add or the rows that would balance a deletion.
///
/// Row hash: `BLAKE2b-256(key, "roomkey/row-digest/v1" 00 || table || 00 || value...)`, each value encoded as
/// `type (u8: 0 null, 1 integer, 2 real, 3 text, 4 blob) || length (u32 big-endian) || bytes`, integers and reals as
/// 8 big-endian bytes (a real by its IEEE 754 bit pattern). The sum is read as a 256-bit little-endian number.
public struct RowDigest: Equatable, Sendable {
    /// One SQLite value of a row, in column order.
    public enum Value: Equatable, Sendable {
        /// NULL.
        case null
        /// An INTEGER.
        case integer(Int64)
        /// A REAL.
        case real(Double)
        /// TEXT, as its UTF-8 bytes.
        case text([UInt8])
        /// A BLOB.
        case blob([UInt8])
    }

    /// The 32-byte little-endian sum.
    public private(set) var bytes: [UInt8]

    /// The digest of no rows.
    public static let empty = RowDigest(unchecked: [UInt8](repeating: 0, count: 32))

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A digest from its 32 stored bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// The domain separator that starts every row hash.
    static let domain = Array("roomkey/row-digest/v1".utf8) + [0]

    /// The keyed hash of one row of `table` (32 bytes).
    public static func rowHash(table: String, values: [Value], key: borrowing SymmetricKey) -> [UInt8] {
        hashRow(table: table, values, key: key)
    }

    /// Adds a row hash (a row inserted).
    public mutating func add(_ hash: [UInt8]) {
        hash.withUnsafeBytes { add(raw: $0) }
    }

    /// Adds a row hash read where it lies (the rows a transaction changed are read without copying each hash out).
    public mutating func add(raw hash: UnsafeRawBufferPointer) {
        var carry: UInt16 = 0
        for i in 0..<32 {
            let sum = UInt16(bytes[i]) + UInt16(i < hash.count ? hash[i] : 0) + carry
            bytes[i] = UInt8(truncatingIfNeeded: sum)
            carry = sum >> 8
        }
    }

    /// Subtracts a row hash (a row deleted).
    public mutating func subtract(_ hash: [UInt8]) {
        var borrow: Int16 = 0
        for i in 0..<32 {
            var diff = Int16(bytes[i]) - Int16(i < hash.count ? hash[i] : 0) - borrow
            borrow = diff < 0 ? 1 : 0
            if diff < 0 { diff += 256 }
            bytes[i] = UInt8(diff)
        }
    }

    /// This digest with `other`'s rows added.
    public mutating func add(_ other: RowDigest) { add(other.bytes) }

    /// This digest with `other`'s rows taken away.
    public mutating func subtract(_ other: RowDigest) { subtract(other.bytes) }
}
