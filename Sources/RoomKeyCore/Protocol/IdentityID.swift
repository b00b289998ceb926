/// A short, stable name for an identity: 16 bytes of domain-separated BLAKE2b of its Ed25519 public key.
///
/// Stored as two integers so that rosters of many thousands hash, compare and sort without allocating.
public struct IdentityID: Hashable, Sendable, Comparable, CustomStringConvertible {
    private let high: UInt64
    private let low: UInt64

    /// The length of an identity id.
    public static let length = 16
    /// The BLAKE2b domain prefix.
    package static let domain = Array("roomkey/identity-id/v1".utf8) + [0]

    /// Derives the id of `signingKey`.
    public init(signingKey: SigningPublicKey) {
        self.init(unchecked: BLAKE2b.hash([Self.domain, signingKey.bytes], length: Self.length))
    }

    /// Wraps 16 raw bytes read from input.
    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count == Self.length else {
            throw .invalid(what: "identity id", reason: "expected \(Self.length) bytes, found \(bytes.count)")
        }
        self.init(unchecked: bytes)
    }

    /// Reads 16 raw bytes from `reader` (as `init(bytes: reader.read(16, field))`, without the array in between).
    public init(from reader: inout ByteReader, _ field: String) throws(WireError) {
        (high, low) = try reader.readHalves(field)
    }

    private init(unchecked bytes: [UInt8]) {
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The 16 raw bytes.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }

    /// Appends the 16 bytes to `writer` without building an intermediate array.
    public func write(to writer: inout ByteWriter) {
        writer.writeU64(high)
        writer.writeU64(low)
    }

    /// 32 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }

    /// Parses exactly 32 lowercase hex digits (the form `hex` writes) without intermediate arrays; nil otherwise.
    public init?<Digits: Collection<UInt8>>(hex digits: Digits) {
        guard digits.count == 2 * Self.length else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for (i, c) in digits.enumerated() {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            if i < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
        }
        self.high = high
        self.low = low
    }

    /// Appends the 32 lowercase hex digits to `writer`.
    public func writeHex(to writer: inout ByteWriter) {
        func digits(_ word: UInt64) {
            for shift in stride(from: 60, through: 0, by: -4) {
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(shift)) & 0xF
                writer.writeU8(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            }
        }
        digits(high)
        digits(low)
    }
    /// The hex form.
    public var description: String { hex }

    /// Byte-wise order, so rosters sort the same everywhere.
    public static func < (a: IdentityID, b: IdentityID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
