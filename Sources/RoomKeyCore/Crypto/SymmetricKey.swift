import CSodium

/// A 32-byte symmetric key (AEAD key, chain key, keyring key); wiped when it ends.
public struct SymmetricKey: ~Copyable {
    /// The length of every symmetric key roomkey uses.
    public static let length = 32

    /// The secret bytes.
    public let bytes: SecretBytes

    /// Wraps 32 secret bytes.
    public init(_ bytes: consuming SecretBytes) throws(CryptoError) {
        try Sodium.checkLength("symmetric key", bytes.count, Self.length)
        self.bytes = bytes
    }

    /// A fresh random key from `random`.
    public static func random(using random: any RandomSource) -> SymmetricKey {
        SymmetricKey(unchecked: random.secret(length))
    }

    private init(unchecked bytes: consuming SecretBytes) { self.bytes = bytes }

    /// Derives subkey `id` under an 8-byte `context` (`crypto_kdf_derive_from_key`).
    public func derive(subkey id: UInt64, context: KDFContext) -> SymmetricKey {
        Sodium.prepare()
        let out = bytes.withUnsafeBytes { master in
            SecretBytes(count: Self.length) { buf in
                _ = context.bytes.withUnsafeBufferPointer { ctx in
                    ctx.withMemoryRebound(to: CChar.self) { c in
                        crypto_kdf_derive_from_key(buf.baseAddress!.assumingMemoryBound(to: UInt8.self), Self.length,
                                                   id, c.baseAddress!, master.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        return SymmetricKey(unchecked: out)
    }

    /// A copy of this key.
    public func duplicate() -> SymmetricKey { SymmetricKey(unchecked: bytes.duplicate()) }
}

/// The 8-byte context that separates the uses of `crypto_kdf` subkeys.
public struct KDFContext: Sendable, Equatable {
    /// The 8 context bytes.
    public let bytes: [UInt8]

    /// Makes a context from exactly 8 ASCII characters.
    public init(_ text: StaticString) {
        let b = text.withUTF8Buffer { Array($0) }
        precondition(b.count == Int(crypto_kdf_CONTEXTBYTES), "KDF context must be 8 bytes")
        self.bytes = b
    }
}
