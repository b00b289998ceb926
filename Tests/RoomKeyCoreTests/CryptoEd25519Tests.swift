import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("Ed25519 signing (SigningKeyPair, SigningPublicKey)")
struct CryptoEd25519Tests {
    static let rfcFile = "crypto/ed25519-rfc8032.txt"

    struct Vector {
        let seed, pk, msg, sig: [UInt8]
        init(_ name: String) throws {
            let f = try KeyValueFixture(CryptoEd25519Tests.rfcFile)
            seed = try f.hex("\(name).seed")
            pk = try f.hex("\(name).pk")
            msg = try f.hex("\(name).msg")
            sig = try f.hex("\(name).sig")
        }
    }

    // MARK: Known answers (RFC 8032 §7.1)

    @Test("fromSeed gives RFC 8032 public keys and signatures", arguments: ["test1", "test2", "test3"])
    func rfc8032(name: String) throws {
        let v = try Vector(name)
        #expect(v.seed.count == 32 && v.pk.count == 32 && v.sig.count == 64)
        let kp = try SigningKeyPair.fromSeed(makeSecret(v.seed))
        #expect(hexString(kp.publicKey.bytes) == hexString(v.pk))
        #expect(hexString(kp.sign(v.msg)) == hexString(v.sig))
        try SigningPublicKey(bytes: v.pk).verify(v.sig, over: v.msg)
        // libsodium's secret key format is seed || public key.
        #expect(bytesOf(kp.exportSecretKey()) == v.seed + v.pk)
    }

    @Test("an RFC 8032 signature with one bit flipped fails", arguments: ["test1", "test2", "test3"])
    func rfc8032FlippedSignature(name: String) throws {
        let v = try Vector(name)
        let pk = try SigningPublicKey(bytes: v.pk)
        for index in [0, 31, 32, 63] {
            #expect(throws: CryptoError.signatureInvalid) {
                try pk.verify(flippingBit(v.sig, at: index), over: v.msg)
            }
        }
        #expect(!pk.isValidSignature(flippingBit(v.sig, at: 10, bit: 3), over: v.msg))
    }

    @Test("an RFC 8032 signature does not verify another message or under another key")
    func rfc8032WrongMessageOrKey() throws {
        let v2 = try Vector("test2"), v3 = try Vector("test3")
        let pk2 = try SigningPublicKey(bytes: v2.pk)
        #expect(throws: CryptoError.signatureInvalid) { try pk2.verify(v2.sig, over: flippingBit(v2.msg, at: 0)) }
        #expect(throws: CryptoError.signatureInvalid) { try pk2.verify(v2.sig, over: v3.msg) }
        #expect(throws: CryptoError.signatureInvalid) { try pk2.verify(v2.sig, over: v2.msg + [0]) }
        #expect(throws: CryptoError.signatureInvalid) { try SigningPublicKey(bytes: v3.pk).verify(v2.sig, over: v2.msg) }
    }

    // MARK: Round trips

    @Test("a generated key pair signs and verifies")
    func roundTrip() throws {
        let kp = try SigningKeyPair.generate()
        let msg = Array("room message".utf8)
        let sig = kp.sign(msg)
        #expect(sig.count == SigningKeyPair.signatureLength)
        #expect(SigningKeyPair.signatureLength == 64)
        #expect(kp.publicKey.bytes.count == SigningPublicKey.length)
        try kp.publicKey.verify(sig, over: msg)
        #expect(kp.publicKey.isValidSignature(sig, over: msg))
        // Ed25519 is deterministic.
        #expect(kp.sign(msg) == sig)
    }

    @Test("a generated pair: flipped message or signature fails with .signatureInvalid")
    func roundTripTampered() throws {
        let kp = try SigningKeyPair.generate()
        let msg = counting(100)
        let sig = kp.sign(msg)
        #expect(throws: CryptoError.signatureInvalid) { try kp.publicKey.verify(sig, over: flippingBit(msg, at: 50)) }
        #expect(throws: CryptoError.signatureInvalid) { try kp.publicKey.verify(flippingBit(sig, at: 5), over: msg) }
        #expect(throws: CryptoError.signatureInvalid) { try kp.publicKey.verify(sig, over: Array(msg.dropLast())) }
        let other = try SigningKeyPair.generate()
        #expect(throws: CryptoError.signatureInvalid) { try other.publicKey.verify(sig, over: msg) }
    }

    @Test("two generated key pairs differ")
    func generateIsRandom() throws {
        #expect(try SigningKeyPair.generate().publicKey != SigningKeyPair.generate().publicKey)
    }

    @Test("init(secretKey:) restores the same pair from exportSecretKey()")
    func secretKeyRoundTrip() throws {
        let kp = try SigningKeyPair.generate()
        let restored = try SigningKeyPair(secretKey: kp.exportSecretKey())
        #expect(restored.publicKey == kp.publicKey)
        let msg = Array("hello".utf8)
        #expect(restored.sign(msg) == kp.sign(msg))
        try kp.publicKey.verify(restored.sign(msg), over: msg)
        #expect(kp.exportSecretKey().count == SigningKeyPair.secretLength)
    }

    @Test("init(secretKey:) of an RFC 8032 seed || pk gives the RFC public key and signature")
    func secretKeyFromRFC() throws {
        let v = try Vector("test3")
        let kp = try SigningKeyPair(secretKey: makeSecret(v.seed + v.pk))
        #expect(kp.publicKey.bytes == v.pk)
        #expect(kp.sign(v.msg) == v.sig)
    }

    @Test("init(secretKey:) rejects a secret key whose public half does not match its seed")
    func secretKeyMismatch() throws {
        // seed of TEST 1 with the public key of TEST 2: the documented check must refuse it.
        let v1 = try Vector("test1"), v2 = try Vector("test2")
        #expect(throws: CryptoError.self) {
            _ = try SigningKeyPair(secretKey: makeSecret(v1.seed + v2.pk))
        }
    }

    // MARK: Lengths

    @Test("wrong lengths are refused with .invalidLength")
    func wrongLengths() {
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 public key", expected: 32, found: 31)) {
            _ = try SigningPublicKey(bytes: counting(31))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, found: 33)) {
            _ = try SigningKeyPair.fromSeed(makeSecret(counting(33)))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 secret key", expected: 64, found: 32)) {
            _ = try SigningKeyPair(secretKey: makeSecret(counting(32)))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 signature", expected: 64, found: 63)) {
            let v = try Vector("test1")
            try SigningPublicKey(bytes: v.pk).verify(Array(v.sig.dropLast()), over: v.msg)
        }
    }
}
