import CSodium

/// An Ed25519 public key (32 bytes).
public struct SigningPublicKey: Hashable, Sendable {
    /// The raw 32 bytes.
    public let bytes: [UInt8]

    /// The length of an Ed25519 public key.
    public static let length = Int(crypto_sign_PUBLICKEYBYTES)

    /// Wraps 32 raw bytes.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.checkLength("Ed25519 public key", bytes.count, Self.length)
        self.bytes = bytes
    }

    /// Wraps a region already checked to be 32 bytes (a field of a parsed card).
    package init(checked bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == Self.length, "Ed25519 public key must be 32 bytes")
        self.bytes = Array(bytes)
    }

    /// Verifies a detached signature over `message`.
    public func verify(_ signature: [UInt8], over message: [UInt8]) throws(CryptoError) {
        Sodium.prepare()
        try Sodium.checkLength("Ed25519 signature", signature.count, Int(crypto_sign_BYTES))
        let ok = crypto_sign_verify_detached(signature, message, UInt64(message.count), bytes)
        if ok != 0 { throw .signatureInvalid }
    }

    /// Verifies a detached signature over bytes held in a buffer.
    public func verify(_ signature: [UInt8], over message: UnsafeRawBufferPointer) throws(CryptoError) {
        try Sodium.checkLength("Ed25519 signature", signature.count, Int(crypto_sign_BYTES))
        let ok = crypto_sign_verify_detached(signature, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                             UInt64(message.count), bytes)
        if ok != 0 { throw .signatureInvalid }
    }

    /// Verifies a detached signature and the message it covers, both held in buffers (no copy of either).
    public func verify(signature: UnsafeRawBufferPointer, over message: UnsafeRawBufferPointer) throws(CryptoError) {
        try Sodium.checkLength("Ed25519 signature", signature.count, Int(crypto_sign_BYTES))
        guard let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw .signatureInvalid }
        let ok = crypto_sign_verify_detached(sig, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count), bytes)
        if ok != 0 { throw .signatureInvalid }
    }

    /// True when the signature verifies (for callers that only need a yes or no).
    public func isValidSignature(_ signature: [UInt8], over message: [UInt8]) -> Bool {
        (try? verify(signature, over: message)) != nil
    }

    /// The X25519 form of this key (`crypto_sign_ed25519_pk_to_curve25519`).
    public func curve25519() throws(CryptoError) -> [UInt8] {
        try Sodium.ready()
        var out = [UInt8](repeating: 0, count: Int(crypto_scalarmult_curve25519_BYTES))
        if crypto_sign_ed25519_pk_to_curve25519(&out, bytes) != 0 { throw .keyConversionFailed }
        return out
    }
}

/// An Ed25519 key pair; the secret half is wiped when the pair ends.
public struct SigningKeyPair: ~Copyable {
    /// The length of an Ed25519 secret key in libsodium's format (seed || public key).
    public static let secretLength = Int(crypto_sign_SECRETKEYBYTES)
    /// The length of an Ed25519 signature.
    public static let signatureLength = Int(crypto_sign_BYTES)

    /// The public half.
    public let publicKey: SigningPublicKey
    private let secretKey: SecretBytes

    /// Generates a fresh key pair from the system CSPRNG.
    public static func generate() throws(CryptoError) -> SigningKeyPair {
        try Sodium.ready()
        var pk = [UInt8](repeating: 0, count: SigningPublicKey.length)
        let sk = SecretBytes(count: secretLength) { buf in
            _ = crypto_sign_keypair(&pk, buf.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return SigningKeyPair(publicKey: try SigningPublicKey(bytes: pk), secretKey: sk)
    }

    /// Derives a key pair from a 32-byte seed (`crypto_sign_seed_keypair`), for known-answer tests.
    public static func fromSeed(_ seed: borrowing SecretBytes) throws(CryptoError) -> SigningKeyPair {
        try Sodium.ready()
        try Sodium.checkLength("Ed25519 seed", seed.count, Int(crypto_sign_SEEDBYTES))
        var pk = [UInt8](repeating: 0, count: SigningPublicKey.length)
        let sk = seed.withUnsafeBytes { (s) -> SecretBytes in
            SecretBytes(count: secretLength) { (buf) -> Void in
                _ = crypto_sign_seed_keypair(&pk, buf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                             s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return SigningKeyPair(publicKey: try SigningPublicKey(bytes: pk), secretKey: sk)
    }

    /// Restores a key pair from its 64-byte secret key (seed || public key), recomputing the public key
    /// from the seed and refusing a key whose second half does not match it.
    public init(secretKey: consuming SecretBytes) throws(CryptoError) {
        try Sodium.ready()
        try Sodium.checkLength("Ed25519 secret key", secretKey.count, Self.secretLength)
        var pk = [UInt8](repeating: 0, count: SigningPublicKey.length)
        let rebuilt = secretKey.withUnsafeBytes { s in
            SecretBytes(count: Self.secretLength) { buf in
                _ = crypto_sign_seed_keypair(&pk, buf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                             s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        let embedded = secretKey.withUnsafeBytes { Array($0[32..<64]) }
        if !ConstantTime.equals(pk, embedded) { throw .operationFailed("Ed25519 secret key does not match its public key") }
        self.publicKey = try SigningPublicKey(bytes: pk)
        self.secretKey = rebuilt
    }

    private init(publicKey: SigningPublicKey, secretKey: consuming SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Signs `message`, returning a 64-byte detached signature.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Self.signatureLength)
        secretKey.withUnsafeBytes { sk in
            _ = crypto_sign_detached(&sig, nil, message, UInt64(message.count),
                                     sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return sig
    }

    /// Signs bytes held in a buffer (for contents that hold secrets).
    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Self.signatureLength)
        secretKey.withUnsafeBytes { sk in
            _ = crypto_sign_detached(&sig, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                     sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return sig
    }

    /// Signs bytes held in a buffer, writing the 64-byte signature into `signature` (which must be that long).
    public func sign(_ message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) {
        precondition(signature.count == Self.signatureLength, "a signature is 64 bytes")
        guard let out = signature.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        secretKey.withUnsafeBytes { sk in
            _ = crypto_sign_detached(out, nil,
                                     message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                     sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// A copy of the 64-byte secret key, for storage in the encrypted keyring.
    public func exportSecretKey() -> SecretBytes { secretKey.duplicate() }
}
