import CSodium

/// A buffer of secret bytes that is wiped with `sodium_memzero` when it ends.
///
/// It is `~Copyable`, so it cannot be duplicated implicitly, and it has no
/// description: a secret cannot be printed or logged by accident.
public struct SecretBytes: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer

    /// The number of secret bytes.
    public let count: Int

    /// Allocates `count` zero bytes.
    public init(zeroed count: Int) {
        storage = .allocate(byteCount: Swift.max(count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        self.count = count
    }

    /// Copies `bytes` into a new secret buffer. The caller remains responsible for wiping its own copy.
    public init(copying bytes: UnsafeRawBufferPointer) {
        self.init(zeroed: bytes.count)
        if let base = bytes.baseAddress, bytes.count > 0 {
            storage.baseAddress!.copyMemory(from: base, byteCount: bytes.count)
        }
    }

    /// Copies an array into a new secret buffer and wipes the array's storage.
    public init(consuming bytes: inout [UInt8]) {
        self.init(zeroed: bytes.count)
        let count = self.count
        bytes.withUnsafeMutableBytes { source in
            if count > 0 { storage.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count) }
            sodium_memzero(source.baseAddress, source.count)
        }
        bytes = []
    }

    /// Fills a new buffer of `count` bytes through `body`, which writes into it.
    public init<E: Error>(count: Int, filling body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        self.init(zeroed: count)
        try body(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
    }

    deinit {
        sodium_memzero(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    /// Gives read access to the secret bytes for the duration of `body`.
    public func withUnsafeBytes<R: ~Copyable, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Returns a copy in a new secret buffer.
    public func duplicate() -> SecretBytes {
        withUnsafeBytes { SecretBytes(copying: $0) }
    }

    /// Compares with `other` in constant time.
    public func constantTimeEquals(_ other: borrowing SecretBytes) -> Bool {
        withUnsafeBytes { a in other.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
    }
}
