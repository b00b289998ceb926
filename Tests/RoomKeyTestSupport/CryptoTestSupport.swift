import Testing
import RoomKeyCore

// Small helpers shared by the Crypto*Tests files.

/// A new secret buffer holding a copy of `bytes`.
package func makeSecret(_ bytes: [UInt8]) -> SecretBytes {
    SecretBytes(count: bytes.count) { buf in buf.copyBytes(from: bytes) }
}

/// Expects `a.constantTimeEquals(b) == equal` (the `#expect` macro cannot take non-copyable operands).
package func expectConstantTimeEquals(_ a: borrowing SecretBytes, _ b: borrowing SecretBytes, _ equal: Bool,
                              sourceLocation: SourceLocation = #_sourceLocation) {
    let result = a.constantTimeEquals(b)
    #expect(result == equal, sourceLocation: sourceLocation)
}

/// A symmetric key holding a copy of `bytes` (which must be 32 bytes long).
package func makeKey(_ bytes: [UInt8]) throws -> SymmetricKey {
    try SymmetricKey(makeSecret(bytes))
}

/// The bytes of a secret buffer, copied into a plain array for comparisons.
package func bytesOf(_ secret: borrowing SecretBytes) -> [UInt8] {
    secret.withUnsafeBytes { Array($0) }
}

/// The bytes of a symmetric key, copied into a plain array for comparisons.
package func bytesOf(_ key: borrowing SymmetricKey) -> [UInt8] {
    key.bytes.withUnsafeBytes { Array($0) }
}

/// `bytes` with bit `bit` (0-7) of byte `index` flipped.
package func flippingBit(_ bytes: [UInt8], at index: Int, bit: Int = 0) -> [UInt8] {
    var out = bytes
    out[index] ^= UInt8(1) << UInt8(bit)
    return out
}

/// The bytes 0, 1, 2, ... `count - 1` (mod 256).
package func counting(_ count: Int, from start: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: start + $0) }
}
