/// Signal's scannable fingerprint: the protobuf `CombinedFingerprints` message libsignal puts in its QR codes.
///
/// ```
/// message LogicalFingerprint   { optional bytes content = 1; }
/// message CombinedFingerprints { optional uint32 version = 1;
///                                optional LogicalFingerprint local_fingerprint = 2;
///                                optional LogicalFingerprint remote_fingerprint = 3; }
/// ```
/// Encoded as `08 <version> 12 22 0a 20 <local 32> 1a 22 0a 20 <remote 32>`: 74 bytes for versions below 128.
public struct ScannableFingerprint: Sendable, Equatable {
    /// The length of each party's half: the first 32 bytes of its iterated hash.
    public static let contentLength = 32
    /// The longest encoding `compare` reads; anything longer is refused before parsing.
    public static let maxEncodedLength = 1024

    /// The format version (roomkey writes 2).
    public let version: UInt32
    /// The local party's half.
    public let local: [UInt8]
    /// The remote party's half.
    public let remote: [UInt8]

    /// Makes a scannable fingerprint from two 32-byte halves.
    public init(version: UInt32, local: [UInt8], remote: [UInt8]) throws(SafetyNumberError) {
        for half in [local, remote] where half.count != Self.contentLength {
            throw .invalidContentLength(found: half.count)
        }
        self.version = version
        self.local = local
        self.remote = remote
    }

    /// The protobuf encoding, fields in number order as libsignal writes them.
    public var encoded: [UInt8] {
        var out: [UInt8] = [0x08]
        ProtobufReader.appendVarint(UInt64(version), to: &out)
        for (tag, half) in [(UInt8(0x12), local), (UInt8(0x1a), remote)] {
            out += [tag, UInt8(2 + Self.contentLength), 0x0a, UInt8(Self.contentLength)] + half
        }
        return out
    }

    /// libsignal's `ScannableFingerprint::compare`: the other party's encoding must have this version
    /// (else `versionMismatch`), and its halves, crossed, must equal ours; halves are compared in constant time.
    public func compare(_ theirs: [UInt8]) throws(SafetyNumberError) -> Bool {
        let other = try Self.decode(theirs)
        if other.version != version { throw .versionMismatch(theirs: other.version, ours: version) }
        let crossedLocal = ConstantTime.equals(other.local, remote)
        let crossedRemote = ConstantTime.equals(other.remote, local)
        return crossedLocal && crossedRemote
    }

    /// Decodes a `CombinedFingerprints` message as protobuf (proto2) does: fields in any order, unknown fields
    /// skipped (groups too), a repeated field's last value winning, absent fields empty (an absent version is 0), a
    /// version that does not fit 32 bits cut to its low 32.
    public static func decode(_ bytes: [UInt8]) throws(SafetyNumberError) -> (version: UInt32, local: [UInt8], remote: [UInt8]) {
        if bytes.count > maxEncodedLength {
            throw .malformedScannable(reason: "\(bytes.count) bytes, more than \(maxEncodedLength)")
        }
        var version: UInt32 = 0, local: [UInt8] = [], remote: [UInt8] = []
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case let (1, .varint(v)):
                // A uint32 field whose varint does not fit is cut to 32 bits, as protobuf's C++ cast does.
                version = UInt32(truncatingIfNeeded: v)
            case let (2, .bytes(b)): local = try logicalContent(b, merging: local)
            case let (3, .bytes(b)): remote = try logicalContent(b, merging: remote)
            case (1...3, _): throw .malformedScannable(reason: "field \(field) has the wrong wire type")
            default: continue
            }
        }
        return (version, local, remote)
    }

    /// The `content` of a `LogicalFingerprint` message merged over `earlier` (a repeated message merges, as in protobuf).
    private static func logicalContent(_ bytes: [UInt8], merging earlier: [UInt8]) throws(SafetyNumberError) -> [UInt8] {
        var content = earlier
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case let (1, .bytes(b)): content = b
            case (1, _): throw .malformedScannable(reason: "fingerprint content has the wrong wire type")
            default: continue
            }
        }
        return content
    }
}

/// A minimal, bounds-checked protobuf reader for the four wire types a `CombinedFingerprints` can hold, which skips
/// groups (wire types 3 and 4, nested at most `maxGroupDepth` deep) as unknown fields.
package struct ProtobufReader {
    /// One field's value.
    package enum Value {
        case varint(UInt64)
        case bytes([UInt8])
        case fixed
        case group
        /// The end of a group (only while one is being skipped).
        case endGroup
    }

    /// How deep groups may nest (protobuf's parsers stop at 100 levels of nesting in all).
    package static let maxGroupDepth = 64

    private let bytes: [UInt8]
    private var offset = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next field number and value, or nil at the end of the message.
    package mutating func next() throws(SafetyNumberError) -> (Int, Value)? {
        guard let (field, value) = try read(depth: 0) else { return nil }
        if case .endGroup = value { throw .malformedScannable(reason: "end of group \(field) without its start") }
        return (field, value)
    }

    /// The next field at group nesting `depth`; an end of group is returned, for the group being skipped to close.
    private mutating func read(depth: Int) throws(SafetyNumberError) -> (Int, Value)? {
        guard offset < bytes.count else { return nil }
        let key = try varint()
        let field = key >> 3
        guard field >= 1, field <= 536_870_911 else { throw .malformedScannable(reason: "invalid field number") }
        switch key & 7 {
        case 0: return (Int(field), .varint(try varint()))
        case 1: try skip(8); return (Int(field), .fixed)
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else { throw .malformedScannable(reason: "truncated field \(field)") }
            let start = offset
            offset += Int(length)
            return (Int(field), .bytes(Array(bytes[start..<offset])))
        case 5: try skip(4); return (Int(field), .fixed)
        case 3: try skipGroup(Int(field), depth: depth + 1); return (Int(field), .group)
        case 4: return (Int(field), .endGroup)
        default: throw .malformedScannable(reason: "unsupported wire type \(key & 7)")
        }
    }

    /// Skips the fields of group `field`, opened at nesting `depth`, and groups nested in it, through its end.
    private mutating func skipGroup(_ field: Int, depth: Int) throws(SafetyNumberError) {
        guard depth <= Self.maxGroupDepth else { throw .malformedScannable(reason: "groups nested too deep") }
        while true {
            guard let (inner, value) = try read(depth: depth) else { throw .malformedScannable(reason: "group \(field) without its end") }
            guard case .endGroup = value else { continue }
            guard inner == field else { throw .malformedScannable(reason: "end of group \(inner) inside group \(field)") }
            return
        }
    }

    private mutating func skip(_ count: Int) throws(SafetyNumberError) {
        guard count <= bytes.count - offset else { throw .malformedScannable(reason: "truncated fixed-width field") }
        offset += count
    }

    private mutating func varint() throws(SafetyNumberError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard offset < bytes.count else { throw .malformedScannable(reason: "truncated varint") }
            let byte = bytes[offset]
            offset += 1
            if shift == 63, byte > 1 { throw .malformedScannable(reason: "varint longer than 64 bits") }
            value |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw .malformedScannable(reason: "varint longer than 10 bytes")
    }

    /// Appends `value` as a base-128 varint.
    package static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
