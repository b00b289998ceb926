import CSodium

/// BLAKE2b (`crypto_generichash`), optionally keyed.
public enum BLAKE2b {
    /// Hashes the concatenation of `parts` to `length` bytes (16...64).
    public static func hash(_ parts: [[UInt8]], length: Int = 32) -> [UInt8] {
        hash(parts, length: length, keyBytes: nil)
    }

    /// Unkeyed BLAKE2b of a region of a larger buffer, without copying it out first.
    public static func hash(_ region: ArraySlice<UInt8>, length: Int = 32) -> [UInt8] {
        region.withUnsafeBytes { hash(raw: [$0], length: length, keyBytes: nil) }
    }

    /// Unkeyed BLAKE2b over the concatenation of raw `parts` (large values hashed where they lie).
    public static func hash(raw parts: [UnsafeRawBufferPointer], length: Int = 32) -> [UInt8] {
        hash(raw: parts, length: length, keyBytes: nil)
    }

    /// Keyed BLAKE2b over the bytes `feed` hands, piece by piece, to the function it is given (each piece is hashed
    /// where it lies, during that call).
    public static func hash(length: Int = 32, key: borrowing SymmetricKey,
                            feed: ((UnsafeRawBufferPointer) -> Void) -> Void) -> [UInt8] {
        key.bytes.withUnsafeBytes { k in
            digest(length: length, keyBytes: k) { state in feed { part in update(state, part) } }
        }
    }

    /// `hash(length:key:feed:)` written to `out` (16...64 bytes, the hash's length) with the hash state on the stack:
    /// no allocation, for a hash computed once per row of a table.
    public static func hash(into out: UnsafeMutableRawBufferPointer, key: borrowing SymmetricKey,
                            feed: ((UnsafeRawBufferPointer) -> Void) -> Void) {
        Sodium.prepare()
        precondition(out.count >= Int(crypto_generichash_BYTES_MIN) && out.count <= Int(crypto_generichash_BYTES_MAX))
        guard let digest = out.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let stateSize = crypto_generichash_statebytes()
        key.bytes.withUnsafeBytes { k in
            withUnsafeTemporaryAllocation(byteCount: stateSize, alignment: 64) { raw in
                let state = OpaquePointer(raw.baseAddress!)
                defer { sodium_memzero(raw.baseAddress, stateSize) }
                _ = crypto_generichash_init(state, k.baseAddress?.assumingMemoryBound(to: UInt8.self), k.count, out.count)
                feed { part in update(state, part) }
                _ = crypto_generichash_final(state, digest, out.count)
            }
        }
    }

    /// Keyed BLAKE2b over the concatenation of `parts`, used as a MAC or blind index.
    public static func hash(_ parts: [[UInt8]], length: Int = 32, key: borrowing SymmetricKey) -> [UInt8] {
        key.bytes.withUnsafeBytes { k in hash(parts, length: length, keyBytes: k) }
    }

    private static func hash(_ parts: [[UInt8]], length: Int, keyBytes: UnsafeRawBufferPointer?) -> [UInt8] {
        digest(length: length, keyBytes: keyBytes) { state in
            for part in parts { _ = crypto_generichash_update(state, part, UInt64(part.count)) }
        }
    }

    private static func hash(raw parts: [UnsafeRawBufferPointer], length: Int, keyBytes: UnsafeRawBufferPointer?) -> [UInt8] {
        digest(length: length, keyBytes: keyBytes) { state in
            for part in parts { update(state, part) }
        }
    }

    private static func update(_ state: OpaquePointer, _ part: UnsafeRawBufferPointer) {
        guard part.count > 0 else { return }
        _ = crypto_generichash_update(state, part.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(part.count))
    }

    private static func digest(length: Int, keyBytes: UnsafeRawBufferPointer?, _ update: (OpaquePointer) -> Void) -> [UInt8] {
        Sodium.prepare()
        precondition(length >= Int(crypto_generichash_BYTES_MIN) && length <= Int(crypto_generichash_BYTES_MAX))
        let stateSize = crypto_generichash_statebytes()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: stateSize, alignment: 64)
        defer { sodium_memzero(raw, stateSize); raw.deallocate() }
        let state = OpaquePointer(raw)
        _ = crypto_generichash_init(state, keyBytes?.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                    keyBytes?.count ?? 0, length)
        update(state)
        var out = [UInt8](repeating: 0, count: length)
        _ = crypto_generichash_final(state, &out, length)
        return out
    }
}

extension BLAKE2b {
    /// Unkeyed BLAKE2b-256 fed piece by piece, for bytes that arrive over time (a bundle still being read).
    package struct Stream: ~Copyable {
        private let state: UnsafeMutableRawPointer

        /// Starts an empty hash.
        package init() {
            Sodium.prepare()
            state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
            _ = crypto_generichash_init(OpaquePointer(state), nil, 0, 32)
        }

        /// Hashes `part` where it lies.
        package mutating func update(_ part: UnsafeRawBufferPointer) { BLAKE2b.update(OpaquePointer(state), part) }

        /// The 32-byte digest of every part given.
        package consuming func finish() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            _ = crypto_generichash_final(OpaquePointer(state), &out, 32)
            return out
        }

        deinit {
            sodium_memzero(state, crypto_generichash_statebytes())
            state.deallocate()
        }
    }
}

/// SHA-512 (`crypto_hash_sha512`), as Signal's safety numbers require.
public enum SHA512 {
    /// Hashes the concatenation of `parts` (64 bytes out).
    public static func hash(_ parts: [[UInt8]]) -> [UInt8] {
        Sodium.prepare()
        var state = crypto_hash_sha512_state()
        _ = crypto_hash_sha512_init(&state)
        for part in parts { _ = crypto_hash_sha512_update(&state, part, UInt64(part.count)) }
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha512_BYTES))
        _ = crypto_hash_sha512_final(&state, &out)
        return out
    }
}
