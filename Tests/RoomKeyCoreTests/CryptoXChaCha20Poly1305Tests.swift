import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("XChaCha20-Poly1305")
struct CryptoXChaCha20Poly1305Tests {
    static let file = "crypto/xchacha20poly1305-draft-irtf-cfrg-xchacha-03.txt"

    static func seal(_ plaintext: [UInt8], key: borrowing SymmetricKey, nonce: [UInt8], ad: [UInt8]) -> [UInt8] {
        plaintext.withUnsafeBytes { XChaCha20Poly1305.seal($0, key: key, nonce: nonce, ad: ad) }
    }

    @Test("draft-irtf-cfrg-xchacha-03 §A.3.1: seal gives nonce || ciphertext || tag")
    func knownAnswerSeal() throws {
        let f = try KeyValueFixture(Self.file)
        let key = try makeKey(try f.hex("key"))
        let nonce = try f.hex("nonce")
        let box = Self.seal(try f.hex("plaintext"), key: key, nonce: nonce, ad: try f.hex("aad"))
        let expected = nonce + (try f.hex("ciphertext")) + (try f.hex("tag"))
        #expect(hexString(box) == hexString(expected))
        #expect(String(decoding: try f.hex("plaintext"), as: UTF8.self).hasPrefix("Ladies and Gentlemen"))
    }

    @Test("draft-irtf-cfrg-xchacha-03 §A.3.1: open recovers the plaintext")
    func knownAnswerOpen() throws {
        let f = try KeyValueFixture(Self.file)
        let key = try makeKey(try f.hex("key"))
        let box = (try f.hex("nonce")) + (try f.hex("ciphertext")) + (try f.hex("tag"))
        #expect(try XChaCha20Poly1305.open(box, key: key, ad: try f.hex("aad")) == (try f.hex("plaintext")))
        #expect(bytesOf(try XChaCha20Poly1305.openSecret(box, key: key, ad: try f.hex("aad"))) == (try f.hex("plaintext")))
    }

    @Test("seal(appending:) gives what seal gives with the same nonce, after the buffer's bytes, and opens")
    func sealAppendingMatchesSeal() throws {
        let key = try SymmetricKey.random(using: SystemRandom())
        let ad = Array("ad".utf8)
        for (a, b) in [([UInt8](), [UInt8]()), ([1, 2, 3], []), ((0..<5000).map { UInt8(truncatingIfNeeded: $0) }, [9, 9])] {
            var out: [UInt8] = [0xAA, 0xBB]
            let random = try SeededRandom(seed: [UInt8](repeating: 7, count: 32))
            a.withUnsafeBytes { ra in b.withUnsafeBytes { rb in XChaCha20Poly1305.seal(appending: [ra, rb], to: &out, key: key, ad: ad, random: random) } }
            let nonce = try SeededRandom(seed: [UInt8](repeating: 7, count: 32)).bytes(XChaCha20Poly1305.nonceLength)
            #expect(Array(out.prefix(2)) == [0xAA, 0xBB])
            #expect(Array(out.dropFirst(2)) == Self.seal(a + b, key: key, nonce: nonce, ad: ad))
            let opened = try XChaCha20Poly1305.openSecret(out, from: 2, key: key, ad: ad)
            #expect(opened.withUnsafeBytes { Array($0) } == a + b)
            out[out.count - 1] ^= 1
            #expect(throws: CryptoError.self) { try XChaCha20Poly1305.openSecret(out, from: 2, key: key, ad: ad) }
        }
    }

    @Test("constants: 24-byte nonce, 16-byte tag, 40 bytes of overhead")
    func constants() {
        #expect(XChaCha20Poly1305.nonceLength == 24)
        #expect(XChaCha20Poly1305.tagLength == 16)
        #expect(XChaCha20Poly1305.overhead == 40)
    }

    @Test("round trip with a random nonce, for several lengths")
    func roundTrip() throws {
        let random = try SystemRandom()
        let key = SymmetricKey.random(using: random)
        for plaintext in [[UInt8](), [7], counting(64), counting(1000)] {
            let box = XChaCha20Poly1305.seal(plaintext, key: key, ad: [1, 2, 3], random: random)
            #expect(box.count == plaintext.count + XChaCha20Poly1305.overhead)
            #expect(try XChaCha20Poly1305.open(box, key: key, ad: [1, 2, 3]) == plaintext)
        }
    }

    @Test("sealing secret bytes round trips through openSecret")
    func secretRoundTrip() throws {
        let random = try SystemRandom()
        let key = SymmetricKey.random(using: random)
        let box = XChaCha20Poly1305.seal(makeSecret(counting(32)), key: key, ad: [], random: random)
        #expect(bytesOf(try XChaCha20Poly1305.openSecret(box, key: key, ad: [])) == counting(32))
    }

    @Test("the random nonce comes from the given source: fresh each time, reproducible when seeded")
    func nonceFromRandomSource() throws {
        let key = try makeKey(counting(32))
        let system = try SystemRandom()
        let a = XChaCha20Poly1305.seal(counting(16), key: key, ad: [], random: system)
        let b = XChaCha20Poly1305.seal(counting(16), key: key, ad: [], random: system)
        #expect(a.prefix(24) != b.prefix(24))
        #expect(a != b)
        let s1 = XChaCha20Poly1305.seal(counting(16), key: key, ad: [], random: try SeededRandom(seed: counting(32)))
        let s2 = XChaCha20Poly1305.seal(counting(16), key: key, ad: [], random: try SeededRandom(seed: counting(32)))
        #expect(s1 == s2)
        #expect(Array(s1.prefix(24)) == (try SeededRandom(seed: counting(32)).bytes(24)))
    }

    // MARK: Failures

    static func fixtureBox() throws -> (box: [UInt8], key: [UInt8], ad: [UInt8]) {
        let f = try KeyValueFixture(file)
        return ((try f.hex("nonce")) + (try f.hex("ciphertext")) + (try f.hex("tag")), try f.hex("key"), try f.hex("aad"))
    }

    @Test("wrong associated data fails with .authenticationFailed")
    func wrongAD() throws {
        let (box, keyBytes, ad) = try Self.fixtureBox()
        let key = try makeKey(keyBytes)
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(box, key: key, ad: flippingBit(ad, at: 0)) }
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(box, key: key, ad: []) }
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(box, key: key, ad: ad + [0]) }
    }

    @Test("a flipped bit in nonce, ciphertext or tag fails with .authenticationFailed",
          arguments: [0, 23, 24, 100, 137, 138, 153])
    func flipped(index: Int) throws {
        let (box, keyBytes, ad) = try Self.fixtureBox()
        #expect(box.count == 154)
        let key = try makeKey(keyBytes)
        #expect(throws: CryptoError.authenticationFailed) {
            _ = try XChaCha20Poly1305.openSecret(flippingBit(box, at: index), key: key, ad: ad)
        }
    }

    @Test("the wrong key fails with .authenticationFailed")
    func wrongKey() throws {
        let (box, keyBytes, ad) = try Self.fixtureBox()
        let key = try makeKey(flippingBit(keyBytes, at: 31, bit: 7))
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(box, key: key, ad: ad) }
    }

    @Test("a truncated or extended box fails with .authenticationFailed")
    func truncated() throws {
        let (box, keyBytes, ad) = try Self.fixtureBox()
        let key = try makeKey(keyBytes)
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(Array(box.dropLast()), key: key, ad: ad) }
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(Array(box.prefix(40)), key: key, ad: ad) }
        #expect(throws: CryptoError.authenticationFailed) { _ = try XChaCha20Poly1305.open(box + [0], key: key, ad: ad) }
    }

    @Test("a box shorter than nonce + tag fails with .invalidLength", arguments: [0, 24, 39])
    func tooShort(length: Int) throws {
        let key = try makeKey(counting(32))
        #expect(throws: CryptoError.invalidLength(what: "XChaCha20-Poly1305 box", expected: 40, found: length)) {
            _ = try XChaCha20Poly1305.open(counting(length), key: key, ad: [])
        }
    }

    @Test("an explicit nonce that is not 24 bytes stops the process")
    func wrongNonceLength() async {
        await #expect(processExitsWith: .failure) {
            let key = try! SymmetricKey(SecretBytes(count: 32) { $0.initializeMemory(as: UInt8.self, repeating: 1) })
            _ = [UInt8]().withUnsafeBytes { XChaCha20Poly1305.seal($0, key: key, nonce: [0], ad: []) }
        }
    }
}
