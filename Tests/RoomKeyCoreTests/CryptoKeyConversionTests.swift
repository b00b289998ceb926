import CSodium
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("SigningPublicKey.curve25519 (Ed25519 -> X25519)")
struct CryptoKeyConversionTests {
    @Test("libsodium's ed25519_convert vector")
    func libsodiumVector() throws {
        let f = try KeyValueFixture("crypto/ed25519-to-curve25519-libsodium.txt")
        let kp = try SigningKeyPair.fromSeed(makeSecret(try f.hex("seed")))
        #expect(hexString(try kp.publicKey.curve25519()) == hexString(try f.hex("curve25519_pk")))
        // The published X25519 secret opens to the same public key through SealingKeyPair.
        let sealing = try SealingKeyPair(secretKey: makeSecret(try f.hex("curve25519_sk")))
        #expect(sealing.publicKey.bytes == (try kp.publicKey.curve25519()))
    }

    /// The X25519 public key obtained from the Ed25519 secret key, computed directly with libsodium.
    static func curveFromSecret(_ kp: borrowing SigningKeyPair) -> [UInt8] {
        let sk = bytesOf(kp.exportSecretKey())
        var curveSK = [UInt8](repeating: 0, count: 32)
        var curvePK = [UInt8](repeating: 0, count: 32)
        #expect(crypto_sign_ed25519_sk_to_curve25519(&curveSK, sk) == 0)
        #expect(crypto_scalarmult_base(&curvePK, curveSK) == 0)
        return curvePK
    }

    @Test("converting the public key equals scalarmult_base of the converted secret key")
    func consistencyWithSecretKey() throws {
        for i in 0..<20 {
            let kp = try SigningKeyPair.fromSeed(makeSecret(counting(32, from: i * 32)))
            #expect(try kp.publicKey.curve25519() == Self.curveFromSecret(kp))
        }
        for _ in 0..<20 {
            let kp = try SigningKeyPair.generate()
            #expect(try kp.publicKey.curve25519() == Self.curveFromSecret(kp))
        }
    }

    @Test("RFC 8032 public keys convert consistently with their seeds", arguments: ["test1", "test2", "test3"])
    func rfcKeys(name: String) throws {
        let v = try CryptoEd25519Tests.Vector(name)
        let kp = try SigningKeyPair.fromSeed(makeSecret(v.seed))
        let converted = try SigningPublicKey(bytes: v.pk).curve25519()
        #expect(converted.count == 32)
        #expect(converted == Self.curveFromSecret(kp))
    }

    @Test("a sealed box to the converted key opens with the converted secret key")
    func sealToConvertedKey() throws {
        let kp = try SigningKeyPair.generate()
        var curveSK = [UInt8](repeating: 0, count: 32)
        #expect(crypto_sign_ed25519_sk_to_curve25519(&curveSK, bytesOf(kp.exportSecretKey())) == 0)
        let recipient = try SealingKeyPair(secretKey: makeSecret(curveSK))
        let sealingPK = try SealingPublicKey(bytes: kp.publicKey.curve25519())
        #expect(sealingPK == recipient.publicKey)
        let box = try [UInt8]("to the identity".utf8).withUnsafeBytes { try sealingPK.seal($0) }
        #expect(bytesOf(try recipient.open(box)) == Array("to the identity".utf8))
    }

    @Test("small-order points are refused with .keyConversionFailed")
    func smallOrderPoints() throws {
        // The identity (y = 1) and the order-4 point y = 0: libsodium refuses small-order keys.
        let identity = [UInt8(1)] + [UInt8](repeating: 0, count: 31)
        let zero = [UInt8](repeating: 0, count: 32)
        for bytes in [identity, zero] {
            let pk = try SigningPublicKey(bytes: bytes)
            #expect(throws: CryptoError.keyConversionFailed) { _ = try pk.curve25519() }
        }
    }
}
