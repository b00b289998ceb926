/// A strict big-endian reader: every read is bounds-checked and `finish` rejects trailing bytes.
public struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0
    /// What is being read, for error messages.
    public let what: String

    /// Reads `bytes`, naming them `what` in errors.
    public init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - offset }

    /// Reads exactly `count` bytes.
    public mutating func read(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        try need(count, field)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads exactly `count` bytes onto the end of `out` (no array of their own).
    public mutating func read(_ count: Int, _ field: String, appendingTo out: inout [UInt8]) throws(WireError) {
        try need(count, field)
        out += bytes[offset..<offset + count]
        offset += count
    }

    /// Skips exactly `count` bytes.
    public mutating func skip(_ count: Int, _ field: String) throws(WireError) {
        try need(count, field)
        offset += count
    }

    /// Reads 16 bytes as two big-endian halves, in place: ids are read by the tens of thousands, and this makes no array
    /// for each one (the error on too few bytes is `read(16, field)`'s).
    public mutating func readHalves(_ field: String) throws(WireError) -> (high: UInt64, low: UInt64) {
        try need(16, field)
        return (try readUInt(8, field), try readUInt(8, field))
    }

    /// Reads one byte.
    public mutating func readU8(_ field: String) throws(WireError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads a big-endian UInt16.
    public mutating func readU16(_ field: String) throws(WireError) -> UInt16 {
        UInt16(try readUInt(2, field))
    }

    /// Reads a big-endian UInt32.
    public mutating func readU32(_ field: String) throws(WireError) -> UInt32 {
        UInt32(try readUInt(4, field))
    }

    /// Reads a big-endian UInt64.
    public mutating func readU64(_ field: String) throws(WireError) -> UInt64 {
        try readUInt(8, field)
    }

    /// Throws unless `count` more bytes are there. The field's name is only built for the error: rosters and bundles
    /// read tens of thousands of fields, and formatting a name for each would cost more than reading it.
    private func need(_ count: Int, _ field: @autoclosure () -> String) throws(WireError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(what: "\(what) \(field())", needed: count, available: remaining)
        }
    }

    /// Reads a big-endian integer of `width` bytes in place.
    private mutating func readUInt(_ width: Int, _ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        try need(width, field())
        var value: UInt64 = 0
        for i in offset..<(offset + width) { value = value << 8 | UInt64(bytes[i]) }
        offset += width
        return value
    }

    /// Reads a version byte and checks it equals `expected`.
    public mutating func expectVersion(_ expected: UInt8) throws(WireError) {
        let found = try readU8("version")
        if found != expected { throw .unknownVersion(what: what, expected: expected, found: found) }
    }

    /// Reads a length (1, 2 or 4 bytes wide), checks it is within `range`, then reads that many bytes.
    public mutating func readPrefixed(width: Int, _ field: String, range: ClosedRange<Int>) throws(WireError) -> [UInt8] {
        let length = Int(try readUInt(width, "\(field) length"))
        if length > range.upperBound { throw .oversized(what: "\(what) \(field)", limit: range.upperBound, found: length) }
        if length < range.lowerBound { throw .invalid(what: "\(what) \(field)", reason: "shorter than \(range.lowerBound) bytes") }
        return try read(length, field)
    }

    /// Reads a count (2 or 4 bytes wide) and checks it against `limit` before anything is allocated.
    public mutating func readCount(width: Int, _ field: String, limit: Int) throws(WireError) -> Int {
        let count = Int(try readUInt(width, "\(field) count"))
        if count > limit { throw .oversized(what: "\(what) \(field) count", limit: limit, found: count) }
        return count
    }

    /// Checks that everything was read.
    public func finish() throws(WireError) {
        if remaining != 0 { throw .trailingBytes(what: what, count: remaining) }
    }
}

/// A big-endian writer, the mirror of `ByteReader`.
public struct ByteWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends raw bytes.
    public mutating func write(_ data: [UInt8]) { bytes += data }
    /// Hands over the bytes written, leaving the writer empty: the caller's array is then the only reference to them,
    /// so writing into it in place copies nothing.
    public mutating func take() -> [UInt8] {
        var out: [UInt8] = []
        swap(&out, &bytes)
        return out
    }
    /// Empties the writer, keeping its capacity.
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
    /// Appends a region of a larger buffer.
    public mutating func write(_ data: ArraySlice<UInt8>) { bytes += data }
    /// Appends raw bytes read in place (a large buffer, without first copying it into an array).
    public mutating func write(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
    /// Appends one byte.
    public mutating func writeU8(_ v: UInt8) { bytes.append(v) }
    /// Appends a big-endian UInt16.
    public mutating func writeU16(_ v: UInt16) { writeUInt(UInt64(v), 2) }
    /// Appends a big-endian UInt32.
    public mutating func writeU32(_ v: UInt32) { writeUInt(UInt64(v), 4) }
    /// Appends a big-endian UInt64.
    public mutating func writeU64(_ v: UInt64) { writeUInt(v, 8) }

    /// Appends a length of `width` bytes followed by `data`.
    public mutating func writePrefixed(width: Int, _ data: [UInt8]) {
        writeUInt(UInt64(data.count), width)
        write(data)
    }

    private mutating func writeUInt(_ v: UInt64, _ width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
}
