/// The row hash over values that may be read where they lie: a trigger hashing a megabytes-large blob (an outbox
/// bundle) does not copy it first.
extension RowDigest {
    /// A value of a row: an owned one, or a blob read in place (valid only during the call).
    public enum RawValue {
        /// A value held as `Value`.
        case value(Value)
        /// A BLOB, read where it lies.
        case blob(UnsafeRawBufferPointer)
    }

    /// `rowHash` of the same values, byte for byte (the same encoder), without copying the blobs read in place.
    public static func rowHash(table: String, raw values: [RawValue], key: borrowing SymmetricKey) -> [UInt8] {
        hashRow(table: table, values, key: key)
    }

    /// `rowHash(table:raw:key:)` of the table named by the ASCII bytes `tableName` (a name that is not ASCII gives
    /// nil: the caller hashes it as a `String`), written to `out` (32 bytes), with no allocation: the digest triggers'
    /// function, once per row changed or checked.
    public static func rowHash(tableName: UnsafeRawBufferPointer, raw values: UnsafeBufferPointer<RawValue>,
                               key: borrowing SymmetricKey, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard out.count == 32, tableName.allSatisfy({ $0 < 0x80 }) else { return false }
        BLAKE2b.hash(into: out, key: key) { update in
            domain.withUnsafeBytes(update)
            update(tableName)
            withUnsafeBytes(of: UInt8(0)) { update($0) }
            encode(values, into: update)
        }
        return true
    }
}
