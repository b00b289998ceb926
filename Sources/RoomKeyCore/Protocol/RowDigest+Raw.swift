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

    /// `rowHash` of the same values, byte for byte, without copying the blobs read in place.
    public static func rowHash(table: String, raw values: [RawValue], key: borrowing SymmetricKey) -> [UInt8] {
        // Everything but the in-place blobs is encoded into `owned`; `segments` interleaves its ranges with the blobs.
        var owned = domain + Array(table.utf8) + [0]
        var segments: [(owned: Range<Int>, blob: UnsafeRawBufferPointer?)] = []
        var start = 0
        for value in values {
            switch value {
            case let .value(v):
                owned += encode([v])
            case let .blob(b):
                var w = ByteWriter()
                w.writeU8(4)
                w.writeU32(UInt32(truncatingIfNeeded: b.count))
                owned += w.bytes
                segments.append((start..<owned.count, b))
                start = owned.count
            }
        }
        segments.append((start..<owned.count, nil))
        return owned.withUnsafeBytes { all in
            var parts: [UnsafeRawBufferPointer] = []
            for segment in segments {
                parts.append(UnsafeRawBufferPointer(rebasing: all[segment.owned]))
                if let blob = segment.blob { parts.append(blob) }
            }
            return BLAKE2b.hash(raw: parts, key: key)
        }
    }
}
