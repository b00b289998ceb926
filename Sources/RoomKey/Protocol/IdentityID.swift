/// A short, stable name for an identity: 16 bytes of domain-separated BLAKE2b of its Ed25519 public key.
public struct IdentityID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 16 raw bytes.
    public let bytes: [UInt8]

    /// The length of an identity id.
    public static let length = 16
    /// The BLAKE2b domain prefix.
    static let domain = Array("roomkey/identity-id/v1".utf8) + [0]

    /// Derives the id of `signingKey`.
    public init(signingKey: SigningPublicKey) {
        bytes = BLAKE2b.hash([Self.domain, signingKey.bytes], length: Self.length)
    }

    /// Wraps 16 raw bytes read from input.
    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count == Self.length else {
            throw .invalid(what: "identity id", reason: "expected \(Self.length) bytes, found \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// 32 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    /// The hex form.
    public var description: String { hex }

    /// Byte-wise order, so rosters sort the same everywhere.
    public static func < (a: IdentityID, b: IdentityID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
