import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("X25519 sealing (SealingKeyPair, SealingPublicKey)")
struct CryptoX25519Tests {
    static func seal(_ message: [UInt8], to pk: SealingPublicKey) throws -> [UInt8] {
        try message.withUnsafeBytes { try pk.seal($0) }
    }

    @Test("init(secretKey:) computes RFC 7748 §6.1 public keys", arguments: ["alice", "bob"])
    func rfc7748(name: String) throws {
        let f = try KeyValueFixture("crypto/x25519-rfc7748.txt")
        let kp = try SealingKeyPair(secretKey: makeSecret(try f.hex("\(name).sk")))
        #expect(hexString(kp.publicKey.bytes) == hexString(try f.hex("\(name).pk")))
        #expect(bytesOf(kp.exportSecretKey()) == (try f.hex("\(name).sk")))
    }

    @Test("seal and open round trip")
    func roundTrip() throws {
        let kp = try SealingKeyPair.generate()
        for message in [[UInt8](), [0], counting(32), counting(1000)] {
            let box = try Self.seal(message, to: kp.publicKey)
            #expect(box.count == message.count + SealingPublicKey.sealOverhead)
            let opened = try kp.open(box)
            #expect(bytesOf(opened) == message)
        }
        #expect(SealingPublicKey.sealOverhead == 48)
    }

    @Test("sealing secret bytes round trips")
    func sealSecret() throws {
        let kp = try SealingKeyPair.generate()
        let secret = makeSecret(counting(32, from: 100))
        let box = try kp.publicKey.seal(secret)
        #expect(bytesOf(try kp.open(box)) == counting(32, from: 100))
    }

    @Test("sealing twice gives different boxes (fresh ephemeral key)")
    func sealIsRandomized() throws {
        let kp = try SealingKeyPair.generate()
        let a = try Self.seal(counting(32), to: kp.publicKey)
        let b = try Self.seal(counting(32), to: kp.publicKey)
        #expect(a != b)
    }

    @Test("a key pair restored from its exported secret opens boxes sealed to the original")
    func restoredKeyOpens() throws {
        let kp = try SealingKeyPair.generate()
        let restored = try SealingKeyPair(secretKey: kp.exportSecretKey())
        #expect(restored.publicKey == kp.publicKey)
        let box = try Self.seal(counting(10), to: kp.publicKey)
        #expect(bytesOf(try restored.open(box)) == counting(10))
    }

    @Test("the wrong recipient cannot open with .sealedBoxOpenFailed")
    func wrongRecipient() throws {
        let alice = try SealingKeyPair.generate()
        let bob = try SealingKeyPair.generate()
        let box = try Self.seal(counting(32), to: alice.publicKey)
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try bob.open(box) }
    }

    @Test("a tampered box fails with .sealedBoxOpenFailed", arguments: [0, 31, 32, 47, 48, 79])
    func tampered(index: Int) throws {
        let kp = try SealingKeyPair.generate()
        let box = try Self.seal(counting(32), to: kp.publicKey)
        #expect(box.count == 80)
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try kp.open(flippingBit(box, at: index)) }
    }

    @Test("a truncated or extended box fails with .sealedBoxOpenFailed")
    func truncated() throws {
        let kp = try SealingKeyPair.generate()
        let box = try Self.seal(counting(32), to: kp.publicKey)
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try kp.open(Array(box.dropLast())) }
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try kp.open(Array(box.prefix(48))) }
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try kp.open(box + [0]) }
    }

    @Test("a box shorter than the overhead fails with .invalidLength", arguments: [0, 1, 47])
    func tooShort(length: Int) throws {
        let kp = try SealingKeyPair.generate()
        #expect(throws: CryptoError.invalidLength(what: "sealed box", expected: 48, found: length)) {
            _ = try kp.open(counting(length))
        }
    }

    @Test("wrong key lengths are refused with .invalidLength")
    func wrongLengths() {
        #expect(throws: CryptoError.invalidLength(what: "X25519 public key", expected: 32, found: 33)) {
            _ = try SealingPublicKey(bytes: counting(33))
        }
        #expect(throws: CryptoError.invalidLength(what: "X25519 secret key", expected: 32, found: 64)) {
            _ = try SealingKeyPair(secretKey: makeSecret(counting(64)))
        }
    }

    @Test("two generated key pairs differ")
    func generateIsRandom() throws {
        #expect(try SealingKeyPair.generate().publicKey != SealingKeyPair.generate().publicKey)
    }
}
