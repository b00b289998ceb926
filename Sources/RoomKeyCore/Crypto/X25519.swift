import CSodium

/// An X25519 public key (32 bytes) that sealed boxes are addressed to.
public struct SealingPublicKey: Hashable, Sendable {
    /// The raw 32 bytes.
    public let bytes: [UInt8]

    /// The length of an X25519 public key.
    public static let length = Int(crypto_box_PUBLICKEYBYTES)
    /// The bytes a sealed box adds to its message.
    public static let sealOverhead = crypto_box_sealbytes()

    /// Wraps 32 raw bytes.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.checkLength("X25519 public key", bytes.count, Self.length)
        self.bytes = bytes
    }

    /// Wraps a region already checked to be 32 bytes (a field of a parsed card).
    package init(checked bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == Self.length, "X25519 public key must be 32 bytes")
        self.bytes = Array(bytes)
    }

    /// Throws unless something can be sealed to this key: libsodium refuses a point of small order (its product with
    /// any scalar is zero), so `crypto_box_seal` to it fails. Checked once, when a card carrying it is verified.
    public func checkUsable() throws(CryptoError) {
        try Self.checkUsable(bytes, what: "X25519 key")
    }

    /// `checkUsable` of the 32 bytes at `key`, `what` naming the key in the error.
    package static func checkUsable(_ key: some Collection<UInt8>, what: String) throws(CryptoError) {
        try Sodium.ready()
        let point = Array(key)
        try Sodium.checkLength(what, point.count, length)
        // Any clamped scalar will do: the product is zero exactly when the point has small order.
        let scalar = [UInt8](repeating: 0x42, count: Int(crypto_scalarmult_SCALARBYTES))
        var product = [UInt8](repeating: 0, count: Int(crypto_scalarmult_BYTES))
        if crypto_scalarmult(&product, scalar, point) != 0 { throw .unusablePublicKey("\(what) of small order") }
    }

    /// Seals `message` anonymously to this key (`crypto_box_seal`).
    public func seal(_ message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        try Sodium.ready()
        var out = [UInt8](repeating: 0, count: message.count + Self.sealOverhead)
        let rc = crypto_box_seal(&out, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                 UInt64(message.count), bytes)
        if rc != 0 { throw .operationFailed("crypto_box_seal") }
        return out
    }

    /// Seals a secret to this key.
    public func seal(_ secret: borrowing SecretBytes) throws(CryptoError) -> [UInt8] {
        try secret.withUnsafeBytes { (buf) throws(CryptoError) in try seal(buf) }
    }

    /// **For known-answer tests only; production code never calls this** (it seals with `seal`, whose ephemeral key
    /// pair comes from libsodium's RNG). Builds exactly what `crypto_box_seal` builds, but with the ephemeral key
    /// pair derived from the 32-byte `ephemeralSeed` (`crypto_box_seed_keypair`):
    /// `nonce = BLAKE2b-192(epk || recipient pk)`, output `epk || crypto_box_easy(message, nonce, recipient pk, esk)`.
    /// So `crypto_box_seal_open` (`SealingKeyPair.open`) opens it like any sealed box, and a fixed seed gives a fixed
    /// box for regression vectors. A seed must never be reused outside tests: it would reuse the ephemeral key.
    package func sealForKnownAnswerTests(_ message: UnsafeRawBufferPointer, ephemeralSeed: [UInt8]) throws(CryptoError) -> [UInt8] {
        try Sodium.ready()
        try Sodium.checkLength("X25519 ephemeral seed", ephemeralSeed.count, Int(crypto_box_SEEDBYTES))
        var epk = [UInt8](repeating: 0, count: Self.length)
        var esk = [UInt8](repeating: 0, count: SealingKeyPair.secretLength)
        defer { esk.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) } }
        if crypto_box_seed_keypair(&epk, &esk, ephemeralSeed) != 0 { throw .operationFailed("crypto_box_seed_keypair") }
        let nonce = BLAKE2b.hash([epk, bytes], length: Int(crypto_box_NONCEBYTES))
        var out = epk + [UInt8](repeating: 0, count: message.count + Int(crypto_box_MACBYTES))
        let rc = out.withUnsafeMutableBufferPointer { o in
            crypto_box_easy(o.baseAddress! + Self.length, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                            UInt64(message.count), nonce, bytes, esk)
        }
        if rc != 0 { throw .operationFailed("crypto_box_easy") }
        return out
    }
}

/// An X25519 key pair for opening sealed boxes; the secret half is wiped when the pair ends.
public struct SealingKeyPair: ~Copyable {
    /// The length of an X25519 secret key.
    public static let secretLength = Int(crypto_box_SECRETKEYBYTES)

    /// The public half.
    public let publicKey: SealingPublicKey
    private let secretKey: SecretBytes

    /// Generates a fresh key pair (`crypto_box_keypair`).
    public static func generate() throws(CryptoError) -> SealingKeyPair {
        try Sodium.ready()
        var pk = [UInt8](repeating: 0, count: SealingPublicKey.length)
        let sk = SecretBytes(count: secretLength) { buf in
            _ = crypto_box_keypair(&pk, buf.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return SealingKeyPair(publicKey: try SealingPublicKey(bytes: pk), secretKey: sk)
    }

    /// Derives a key pair from a 32-byte seed (`crypto_box_seed_keypair`), for known-answer tests.
    package static func fromSeed(_ seed: borrowing SecretBytes) throws(CryptoError) -> SealingKeyPair {
        try Sodium.ready()
        try Sodium.checkLength("X25519 seed", seed.count, Int(crypto_box_SEEDBYTES))
        var pk = [UInt8](repeating: 0, count: SealingPublicKey.length)
        var rc: Int32 = -1
        let sk = seed.withUnsafeBytes { (s) -> SecretBytes in
            SecretBytes(count: secretLength) { (buf) -> Void in
                rc = crypto_box_seed_keypair(&pk, buf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                             s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        if rc != 0 { throw .operationFailed("crypto_box_seed_keypair") }
        return SealingKeyPair(publicKey: try SealingPublicKey(bytes: pk), secretKey: sk)
    }

    /// Restores a key pair from its 32-byte secret key, recomputing the public key.
    public init(secretKey: consuming SecretBytes) throws(CryptoError) {
        try Sodium.ready()
        try Sodium.checkLength("X25519 secret key", secretKey.count, Self.secretLength)
        var pk = [UInt8](repeating: 0, count: SealingPublicKey.length)
        let rc = secretKey.withUnsafeBytes { s in
            crypto_scalarmult_base(&pk, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        if rc != 0 { throw .operationFailed("crypto_scalarmult_base") }
        self.publicKey = try SealingPublicKey(bytes: pk)
        self.secretKey = secretKey
    }

    private init(publicKey: SealingPublicKey, secretKey: consuming SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Opens a sealed box addressed to this key pair into secret bytes (`crypto_box_seal_open`).
    public func open(_ sealed: [UInt8]) throws(CryptoError) -> SecretBytes {
        try Sodium.ready()
        guard sealed.count >= SealingPublicKey.sealOverhead else {
            throw .invalidLength(what: "sealed box", expected: SealingPublicKey.sealOverhead, found: sealed.count)
        }
        let pk = publicKey.bytes
        var rc: Int32 = 0
        let out = secretKey.withUnsafeBytes { sk in
            SecretBytes(count: sealed.count - SealingPublicKey.sealOverhead) { buf in
                rc = crypto_box_seal_open(buf.baseAddress?.assumingMemoryBound(to: UInt8.self), sealed,
                                          UInt64(sealed.count), pk,
                                          sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        if rc != 0 { throw .sealedBoxOpenFailed }
        return out
    }

    /// A copy of the 32-byte secret key, for storage in the encrypted keyring.
    public func exportSecretKey() -> SecretBytes { secretKey.duplicate() }
}
