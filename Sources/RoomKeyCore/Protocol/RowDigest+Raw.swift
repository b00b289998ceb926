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
}
