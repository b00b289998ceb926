import CSodium

/// A source of random bytes; the protocol core takes one so tests can inject a deterministic one.
public protocol RandomSource {
    /// Fills `buffer` with random bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    /// Returns `count` random bytes.
    public func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }

    /// Returns `count` random secret bytes.
    public func secret(_ count: Int) -> SecretBytes {
        SecretBytes(count: count) { fill($0) }
    }
}

/// The operating system's CSPRNG through libsodium's `randombytes_buf`.
public struct SystemRandom: RandomSource {
    /// Creates the system random source, initialising libsodium if needed.
    public init() throws(CryptoError) { try Sodium.ready() }

    /// Fills `buffer` with bytes from `randombytes_buf`.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count > 0 { randombytes_buf(buffer.baseAddress!, buffer.count) }
    }
}

/// A deterministic random source (`randombytes_buf_deterministic`) for tests and known-answer vectors.
/// Not safe to share between threads.
public final class SeededRandom: RandomSource {
    private let seed: [UInt8]
    private var counter: UInt64 = 0

    /// Creates a source from a 32-byte seed; equal seeds give equal streams.
    public init(seed: [UInt8]) throws(CryptoError) {
        try Sodium.ready()
        try Sodium.checkLength("random seed", seed.count, Int(randombytes_SEEDBYTES))
        self.seed = seed
    }

    /// Fills `buffer` with the next deterministic bytes: draw *n* uses the seed
    /// `BLAKE2b-256(seed || u64 n)`, so streams of different seeds never overlap.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        counter += 1
        var n = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { n[i] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * i)) }
        let block = BLAKE2b.hash([seed, n], length: Int(randombytes_SEEDBYTES))
        randombytes_buf_deterministic(buffer.baseAddress!, buffer.count, block)
    }
}
