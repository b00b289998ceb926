import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("SymmetricKey and its KDF")
struct CryptoSymmetricKeyTests {
    static let ctxA = KDFContext("roomkey1")
    static let ctxB = KDFContext("roomkey2")

    @Test("libsodium kdf.exp vector: subkey 32 under \"KDF test\"")
    func libsodiumVector() throws {
        let f = try KeyValueFixture("crypto/kdf-libsodium.txt")
        #expect(try f.string("context") == "KDF test")
        let master = try makeKey(try f.hex("master"))
        let sub = master.derive(subkey: try f.uint64("id"), context: KDFContext("KDF test"))
        #expect(hexString(bytesOf(sub)) == hexString(try f.hex("subkey")))
    }

    @Test("derive is deterministic")
    func deterministic() throws {
        let master = try makeKey(counting(32))
        let again = try makeKey(counting(32))
        #expect(bytesOf(master.derive(subkey: 1, context: Self.ctxA)) == bytesOf(again.derive(subkey: 1, context: Self.ctxA)))
        #expect(bytesOf(master.derive(subkey: 1, context: Self.ctxA)) == bytesOf(master.derive(subkey: 1, context: Self.ctxA)))
        #expect(bytesOf(master.duplicate().derive(subkey: 9, context: Self.ctxB)) == bytesOf(master.derive(subkey: 9, context: Self.ctxB)))
    }

    @Test("different subkey ids give different keys")
    func differentIDs() throws {
        let master = try makeKey(counting(32))
        var seen = Set<[UInt8]>()
        for id: UInt64 in [0, 1, 2, 3, 255, 256, 1 << 32, .max] {
            seen.insert(bytesOf(master.derive(subkey: id, context: Self.ctxA)))
        }
        #expect(seen.count == 8)
    }

    @Test("different contexts and different master keys give different keys")
    func differentContextsAndMasters() throws {
        let master = try makeKey(counting(32))
        let other = try makeKey(flippingBit(counting(32), at: 0))
        let a = bytesOf(master.derive(subkey: 1, context: Self.ctxA))
        #expect(a != bytesOf(master.derive(subkey: 1, context: Self.ctxB)))
        #expect(a != bytesOf(other.derive(subkey: 1, context: Self.ctxA)))
        #expect(a != bytesOf(master))
        #expect(a.count == SymmetricKey.length)
    }

    @Test("derived keys chain: a subkey's own subkeys differ from the parent's")
    func chaining() throws {
        let chain0 = try makeKey(counting(32))
        let chain1 = chain0.derive(subkey: 2, context: Self.ctxA)
        let message0 = chain0.derive(subkey: 1, context: Self.ctxA)
        let message1 = chain1.derive(subkey: 1, context: Self.ctxA)
        #expect(bytesOf(message0) != bytesOf(message1))
        #expect(bytesOf(chain1) != bytesOf(message0))
    }

    @Test("init refuses anything but 32 bytes", arguments: [0, 16, 31, 33, 64])
    func wrongLength(length: Int) {
        #expect(throws: CryptoError.invalidLength(what: "symmetric key", expected: 32, found: length)) {
            _ = try makeKey(counting(length))
        }
    }

    @Test("random(using:) is 32 bytes, fresh from the system, reproducible when seeded")
    func random() throws {
        let system = try SystemRandom()
        let a = SymmetricKey.random(using: system)
        let b = SymmetricKey.random(using: system)
        #expect(bytesOf(a).count == 32)
        #expect(bytesOf(a) != bytesOf(b))
        let s1 = SymmetricKey.random(using: try SeededRandom(seed: counting(32)))
        let s2 = SymmetricKey.random(using: try SeededRandom(seed: counting(32)))
        #expect(bytesOf(s1) == bytesOf(s2))
    }

    @Test("duplicate() is an equal, independent copy")
    func duplicate() throws {
        let k = try makeKey(counting(32))
        let d = k.duplicate()
        #expect(bytesOf(d) == bytesOf(k))
        expectConstantTimeEquals(k.bytes, d.bytes, true)
    }

    @Test("KDFContext keeps its 8 ASCII bytes")
    func context() {
        #expect(KDFContext("KDF test").bytes == Array("KDF test".utf8))
        #expect(Self.ctxA != Self.ctxB)
    }

    @Test("a KDFContext that is not 8 bytes stops the process")
    func contextWrongLength() async {
        await #expect(processExitsWith: .failure) {
            _ = KDFContext("short")
        }
    }
}
