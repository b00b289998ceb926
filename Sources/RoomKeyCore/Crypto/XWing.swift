import CSodium
import Crypto
import Dispatch
import Foundation
import Synchronization

// The only file that uses swift-crypto: the X-Wing KEM (draft-connolly-cfrg-xwing-kem-06, ML-KEM-768 + X25519) and
// HPKE (RFC 9180) base mode with the ciphersuite swift-crypto offers for it: KEM 0x647a, HKDF-SHA256 (0x0001),
// AES-256-GCM (0x0002). Everything else in roomkey stays on libsodium.

/// An X-Wing public key (1,216 bytes: ML-KEM-768 encapsulation key || X25519 public key).
public struct XWingPublicKey: Hashable, Sendable {
    /// The length of an X-Wing public key.
    public static let length = 1216

    /// The raw bytes.
    public let bytes: [UInt8]

    /// Wraps 1,216 raw bytes.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.checkLength("X-Wing public key", bytes.count, Self.length)
        self.bytes = bytes
    }

    /// Throws unless something can be sealed to this key: its ML-KEM-768 half passes FIPS 203's modulus check of an
    /// encapsulation key (§7.2: the 768 12-bit coefficients of its first 1,152 bytes are each below q = 3329, which
    /// encapsulation requires) and its X25519 half is not of small order. Checked once, when a card carrying it is
    /// verified, so that no seal fails on it later.
    public func checkUsable() throws(CryptoError) {
        let q: UInt16 = 3329
        var i = 0
        while i < 1152 {
            let (b0, b1, b2) = (UInt16(bytes[i]), UInt16(bytes[i + 1]), UInt16(bytes[i + 2]))
            if b0 | (b1 & 0x0F) << 8 >= q || b1 >> 4 | b2 << 4 >= q {
                throw .unusablePublicKey("the ML-KEM-768 half of the X-Wing key fails FIPS 203's check")
            }
            i += 3
        }
        try SealingPublicKey.checkUsable(bytes[(Self.length - SealingPublicKey.length)...], what: "the X25519 half of the X-Wing key")
    }
}

/// An X-Wing key pair, held as its 32-byte seed (the private key of draft-connolly-cfrg-xwing-kem, expanded on use).
/// The seed is wiped when the pair ends and is never printed.
public struct XWingKeyPair: ~Copyable {
    /// The length of the private seed.
    public static let seedLength = 32

    /// The public half.
    public let publicKey: XWingPublicKey
    private let seed: SecretBytes

    /// Generates a key pair from a fresh random seed (`randombytes_buf`).
    public static func generate() throws(CryptoError) -> XWingKeyPair {
        try Sodium.ready()
        let seed = SecretBytes(count: seedLength) { randombytes_buf($0.baseAddress!, $0.count) }
        return try XWingKeyPair(seed: seed)
    }

    /// Restores a key pair from its 32-byte seed, deriving the public key.
    public init(seed: consuming SecretBytes) throws(CryptoError) {
        try Sodium.checkLength("X-Wing seed", seed.count, Self.seedLength)
        let pk: [UInt8]
        do {
            pk = try seed.withUnsafeBytes { s in
                let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: s, publicKey: nil)
                return [UInt8](key.publicKey.rawRepresentation)
            }
        } catch {
            throw .operationFailed("X-Wing key from seed")
        }
        self.publicKey = try XWingPublicKey(bytes: pk)
        self.seed = seed
    }

    /// A copy of the 32-byte seed, for storage in the encrypted keyring.
    public func exportSeed() -> SecretBytes { seed.duplicate() }

    /// Runs `body` with swift-crypto's private key, expanded from the seed for this call only.
    fileprivate func withPrivateKey<R>(_ body: (XWingMLKEM768X25519.PrivateKey) throws -> R) throws -> R {
        try seed.withUnsafeBytes { s in
            try body(try XWingMLKEM768X25519.PrivateKey(seedRepresentation: s, publicKey: nil))
        }
    }
}

/// The X-Wing KEM alone, for checking the published test vectors against this layer.
package enum XWingKEM {
    /// `Decaps(sk, ct)`: the 32-byte shared secret.
    package static func decapsulate(_ ciphertext: [UInt8], with keyPair: borrowing XWingKeyPair) throws(CryptoError) -> [UInt8] {
        do {
            return try keyPair.withPrivateKey { key in
                try key.decapsulate(Data(ciphertext)).withUnsafeBytes { Array($0) }
            }
        } catch {
            throw .operationFailed("X-Wing decapsulation")
        }
    }

    /// **For known-answer tests only.** `EncapsDerand(pk, eseed)` with the 64-byte `eseed` of the draft:
    /// `(ciphertext (1,120), shared secret (32))`.
    package static func encapsulateForKnownAnswerTests(_ publicKey: XWingPublicKey, eseed: [UInt8]) throws(CryptoError)
        -> (ciphertext: [UInt8], sharedSecret: [UInt8]) {
        try Sodium.checkLength("X-Wing encapsulation seed", eseed.count, 64)
        var ct = [UInt8](repeating: 0, count: XWingHPKE.encapsulatedLength)
        var ss = [UInt8](repeating: 0, count: 32)
        let rc = _xwingEncapExternalEntropy(&ct, &ss, publicKey.bytes, eseed)
        if rc != 1 { throw .operationFailed("XWING_encap_external_entropy") }
        return (ct, ss)
    }
}

/// BoringSSL's deterministic X-Wing encapsulation, linked in through swift-crypto's `CCryptoBoringSSL` (which swift-crypto
/// does not export). Declared here for the known-answer path only: production code never reaches it.
/// `int XWING_encap_external_entropy(uint8_t ct[1120], uint8_t ss[32], const uint8_t pk[1216], const uint8_t eseed[64])`.
@_silgen_name("CCryptoBoringSSL_XWING_encap_external_entropy")
private func _xwingEncapExternalEntropy(_ ciphertext: UnsafeMutablePointer<UInt8>, _ sharedSecret: UnsafeMutablePointer<UInt8>,
                                        _ publicKey: UnsafePointer<UInt8>, _ eseed: UnsafePointer<UInt8>) -> Int32

/// HPKE (RFC 9180) base mode, single shot (sequence number 0), with the X-Wing KEM, HKDF-SHA256 and AES-256-GCM:
/// `seal` returns `enc (1,120) || AES-256-GCM ciphertext || tag (16)`; the associated data is empty.
public enum XWingHPKE {
    /// The length of the X-Wing encapsulation (`enc`).
    public static let encapsulatedLength = 1120
    /// The AEAD tag length.
    public static let tagLength = 16
    /// HPKE identifiers: KEM, KDF, AEAD.
    public static let kemID: UInt16 = 0x647A, kdfID: UInt16 = 0x0001, aeadID: UInt16 = 0x0002

    private static var ciphersuite: HPKE.Ciphersuite { .XWingMLKEM768X25519_SHA256_AES_GCM_256 }

    /// Seals `message` to `recipient` with `info` (swift-crypto's `HPKE.Sender`, random encapsulation).
    public static func seal(_ message: UnsafeRawBufferPointer, to recipient: XWingPublicKey, info: [UInt8]) throws(CryptoError) -> [UInt8] {
        do {
            let pk = try XWingMLKEM768X25519.PublicKey(rawRepresentation: recipient.bytes)
            var sender = try HPKE.Sender(recipientKey: pk, ciphersuite: ciphersuite, info: Data(info))
            let ct = try sender.seal(message)
            return [UInt8](sender.encapsulatedKey) + [UInt8](ct)
        } catch {
            throw .operationFailed("X-Wing HPKE seal")
        }
    }

    /// Opens `enc || ciphertext` with `keyPair` (swift-crypto's `HPKE.Recipient`); any failure is `sealedBoxOpenFailed`.
    public static func open(_ sealed: ArraySlice<UInt8>, with keyPair: borrowing XWingKeyPair, info: [UInt8]) throws(CryptoError) -> SecretBytes {
        guard sealed.count >= encapsulatedLength + tagLength else {
            throw .invalidLength(what: "X-Wing HPKE box", expected: encapsulatedLength + tagLength, found: sealed.count)
        }
        let enc = Data(sealed.prefix(encapsulatedLength))
        let ct = Data(sealed.dropFirst(encapsulatedLength))
        do {
            var plain = try keyPair.withPrivateKey { key in
                var recipient = try HPKE.Recipient(privateKey: key, ciphersuite: ciphersuite, info: Data(info), encapsulatedKey: enc)
                return try recipient.open(ct)
            }
            defer { plain.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) } }
            let count = plain.count
            return SecretBytes(count: count) { out in plain.withUnsafeBytes { out.copyMemory(from: $0) } }
        } catch {
            throw .sealedBoxOpenFailed
        }
    }

    /// **For known-answer tests only; production code never calls this.** The same output as `seal`, but the X-Wing
    /// encapsulation takes its 64 bytes of randomness from `eseed` (draft-connolly-cfrg-xwing-kem `EncapsDerand`) and the
    /// RFC 9180 key schedule (§5.1, base mode) runs here, so a fixed seed gives a fixed box. `open` opens it like any box.
    package static func sealForKnownAnswerTests(_ message: [UInt8], to recipient: XWingPublicKey, info: [UInt8], eseed: [UInt8]) throws(CryptoError) -> [UInt8] {
        let (enc, ss) = try XWingKEM.encapsulateForKnownAnswerTests(recipient, eseed: eseed)
        let (key, nonce) = keySchedule(sharedSecret: ss, info: info, kem: kemID, kdf: kdfID, aead: aeadID)
        return enc + (try aesGCMSeal(message, key: key, nonce: nonce, ad: []))
    }

    /// AES-256-GCM `ciphertext || tag`, for the known-answer path and its test.
    package static func aesGCMSeal(_ message: [UInt8], key: [UInt8], nonce: [UInt8], ad: [UInt8]) throws(CryptoError) -> [UInt8] {
        do {
            let box = try AES.GCM.seal(message, using: Crypto.SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce), authenticating: ad)
            return [UInt8](box.ciphertext) + [UInt8](box.tag)
        } catch {
            throw .operationFailed("AES-256-GCM")
        }
    }

    /// RFC 9180 §5.1 `KeySchedule` in base mode with HKDF-SHA256: `(key (32), base_nonce (12))` for the suite
    /// `"HPKE" || kem || kdf || aead`. Test-only (known answers); production uses swift-crypto's own schedule.
    package static func keySchedule(sharedSecret: [UInt8], info: [UInt8], kem: UInt16, kdf: UInt16, aead: UInt16)
        -> (key: [UInt8], nonce: [UInt8]) {
        let suite = Array("HPKE".utf8) + be16(kem) + be16(kdf) + be16(aead)
        func extract(_ salt: [UInt8], _ label: String, _ ikm: [UInt8]) -> [UInt8] {
            let prk = HKDF<SHA256>.extract(inputKeyMaterial: Crypto.SymmetricKey(data: Array("HPKE-v1".utf8) + suite + Array(label.utf8) + ikm),
                                           salt: salt)
            return prk.withUnsafeBytes { Array($0) }
        }
        func expand(_ prk: [UInt8], _ label: String, _ ctx: [UInt8], _ length: Int) -> [UInt8] {
            let info = be16(UInt16(length)) + Array("HPKE-v1".utf8) + suite + Array(label.utf8) + ctx
            return HKDF<SHA256>.expand(pseudoRandomKey: prk, info: info, outputByteCount: length).withUnsafeBytes { Array($0) }
        }
        let context = [0x00] + extract([], "psk_id_hash", []) + extract([], "info_hash", info)
        let secret = extract(sharedSecret, "secret", [])
        return (expand(secret, "key", context, 32), expand(secret, "base_nonce", context, 12))
    }

    private static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    /// Seals `message` to each key of `keys` on every core; box *i* (`enc || ct || tag`) goes to
    /// `out[offsets[i] ..< offsets[i] + encapsulatedLength + message.count + tagLength]`, with `infos[i]` as its info.
    package static func batchSeal(_ message: borrowing SecretBytes, keys: [XWingPublicKey], infos: [[UInt8]], offsets: [Int],
                                  into out: inout [UInt8]) throws(CryptoError) {
        let n = keys.count
        let boxLength = encapsulatedLength + message.count + tagLength
        guard infos.count == n, offsets.count == n, offsets.allSatisfy({ $0 >= 0 && $0 + boxLength <= out.count }) else {
            throw .invalidLength(what: "X-Wing batch buffers", expected: n, found: offsets.count)
        }
        if n == 0 { return }
        // The workers read flat buffers only: sharing the arrays of keys and infos would make both cores retain and
        // release the same objects for every recipient, which costs more than copying them out once.
        var flatKeys = [UInt8]()
        flatKeys.reserveCapacity(n * XWingPublicKey.length)
        var flatInfos = [UInt8](), infoStarts = [Int]()
        infoStarts.reserveCapacity(n + 1)
        for i in 0..<n {
            flatKeys.append(contentsOf: keys[i].bytes)
            infoStarts.append(flatInfos.count)
            flatInfos.append(contentsOf: infos[i])
        }
        infoStarts.append(flatInfos.count)
        let failures = Atomic<Int>(0)
        message.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { o in
                flatKeys.withUnsafeBytes { k in
                    flatInfos.withUnsafeBytes { f in
                        infoStarts.withUnsafeBufferPointer { starts in
                            offsets.withUnsafeBufferPointer { slots in
                                nonisolated(unsafe) let (msg, outBase, keyBase, infoBase) = (m, o.baseAddress!, k.baseAddress!, f.baseAddress)
                                nonisolated(unsafe) let (infoAt, slotAt) = (starts, slots)
                                BatchSeal.spread(n, chunk: 4, minimumPerWorker: 8) { i in
                                    let key = UnsafeRawBufferPointer(start: keyBase + i * XWingPublicKey.length, count: XWingPublicKey.length)
                                    let info = UnsafeRawBufferPointer(start: infoBase.map { $0 + infoAt[i] }, count: infoAt[i + 1] - infoAt[i])
                                    if !sealRaw(msg, to: key, info: info, into: outBase + slotAt[i], boxLength: boxLength) {
                                        failures.add(1, ordering: .relaxed)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if failures.load(ordering: .relaxed) != 0 { throw .operationFailed("X-Wing HPKE seal") }
    }

    /// `seal` from raw buffers, writing the box (`boxLength` bytes) at `out`; false on any failure.
    private static func sealRaw(_ message: UnsafeRawBufferPointer, to key: UnsafeRawBufferPointer, info: UnsafeRawBufferPointer,
                                into out: UnsafeMutableRawPointer, boxLength: Int) -> Bool {
        do {
            let pk = try XWingMLKEM768X25519.PublicKey(rawRepresentation: key)
            var sender = try HPKE.Sender(recipientKey: pk, ciphersuite: ciphersuite, info: Data(info))
            let ct = try sender.seal(message)
            let enc = sender.encapsulatedKey
            guard enc.count + ct.count == boxLength else { return false }
            enc.copyBytes(to: out.assumingMemoryBound(to: UInt8.self), count: enc.count)
            ct.copyBytes(to: (out + enc.count).assumingMemoryBound(to: UInt8.self), count: ct.count)
            return true
        } catch {
            return false
        }
    }
}
