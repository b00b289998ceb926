/// The one row encoding behind every row hash: the encoder writes a value's type and length, and is lent its bytes
/// where they lie (an array's storage or a blob SQLite holds), so a large value is never copied to be hashed.
protocol RowEncodable {
    /// Calls `body` with the value's type code and its bytes, valid during the call.
    func withEncoding<R>(_ body: (_ type: UInt8, _ bytes: UnsafeRawBufferPointer) -> R) -> R
}

extension RowDigest.Value: RowEncodable {
    func withEncoding<R>(_ body: (_ type: UInt8, _ bytes: UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case .null: body(0, UnsafeRawBufferPointer(start: nil, count: 0))
        case let .integer(v): withUnsafeBytes(of: UInt64(bitPattern: v).bigEndian) { body(1, $0) }
        case let .real(v): withUnsafeBytes(of: v.bitPattern.bigEndian) { body(2, $0) }
        case let .text(b): b.withUnsafeBytes { body(3, $0) }
        case let .blob(b): b.withUnsafeBytes { body(4, $0) }
        }
    }
}

extension RowDigest.RawValue: RowEncodable {
    func withEncoding<R>(_ body: (_ type: UInt8, _ bytes: UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case let .value(v): v.withEncoding(body)
        case let .blob(b): body(4, b)
        }
    }
}

extension RowDigest {
    /// The keyed hash of one row of `table`: its encoding after the domain and the table name, fed to BLAKE2b as it
    /// is produced.
    static func hashRow<Values: Sequence>(table: String, _ values: Values, key: borrowing SymmetricKey) -> [UInt8]
    where Values.Element: RowEncodable {
        BLAKE2b.hash(key: key) { update in
            domain.withUnsafeBytes(update)
            var name = table
            name.withUTF8 { update(UnsafeRawBufferPointer($0)) }
            withUnsafeBytes(of: UInt8(0)) { update($0) }
            encode(values, into: update)
        }
    }

    /// The canonical encoding of a row's values, handed piece by piece to `update`: per value its type (u8), the
    /// length of its bytes (u32 big-endian), then the bytes.
    static func encode<Values: Sequence>(_ values: Values, into update: (UnsafeRawBufferPointer) -> Void)
    where Values.Element: RowEncodable {
        for value in values {
            value.withEncoding { type, bytes in
                let n = UInt32(truncatingIfNeeded: bytes.count)
                withUnsafeBytes(of: (type, UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff))) {
                    update($0)
                }
                update(bytes)
            }
        }
    }

    /// The canonical encoding of a row's values, as one array.
    static func encode(_ values: [Value]) -> [UInt8] {
        var out: [UInt8] = []
        encode(values) { out.append(contentsOf: $0) }
        return out
    }
}
