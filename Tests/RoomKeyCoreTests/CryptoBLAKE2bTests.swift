import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("BLAKE2b")
struct CryptoBLAKE2bTests {
    static let file = "crypto/blake2b.txt"

    @Test("RFC 7693 appendix A: BLAKE2b-512 of \"abc\"")
    func rfc7693() throws {
        let f = try KeyValueFixture(Self.file)
        let input = try f.hex("rfc7693.abc.input")
        #expect(input == Array("abc".utf8))
        #expect(hexString(BLAKE2b.hash([input], length: 64)) == hexString(try f.hex("rfc7693.abc.blake2b512")))
        // The same bytes split across parts.
        #expect(BLAKE2b.hash([[0x61], [], [0x62, 0x63]], length: 64) == (try f.hex("rfc7693.abc.blake2b512")))
    }

    @Test("libsodium generichash vector: 32-byte key, 32-byte output, one part")
    func libsodiumKeyed() throws {
        let f = try KeyValueFixture(Self.file)
        let key = try makeKey(try f.hex("libsodium.generichash.key"))
        let out = BLAKE2b.hash([try f.hex("libsodium.generichash.input")], length: 32, key: key)
        #expect(hexString(out) == hexString(try f.hex("libsodium.generichash.out32")))
        // 32 is the default length.
        #expect(BLAKE2b.hash([try f.hex("libsodium.generichash.input")], key: key) == out)
    }

    @Test("libsodium generichash2 vector: keyed, the input given as three updates")
    func libsodiumKeyedMultipart() throws {
        let f = try KeyValueFixture(Self.file)
        let key = try makeKey(try f.hex("libsodium.generichash2.key"))
        let part = try f.hex("libsodium.generichash2.part")
        let expected = try f.hex("libsodium.generichash2.out32")
        #expect(hexString(BLAKE2b.hash([part, part, part], length: 32, key: key)) == hexString(expected))
        #expect(BLAKE2b.hash([part + part + part], length: 32, key: key) == expected)
    }

    @Test("the output has the requested length", arguments: [16, 17, 32, 48, 63, 64])
    func outputLength(length: Int) throws {
        #expect(BLAKE2b.hash([counting(10)], length: length).count == length)
        #expect(BLAKE2b.hash([counting(10)], length: length, key: try makeKey(counting(32))).count == length)
    }

    @Test("the default length is 32 bytes")
    func defaultLength() {
        #expect(BLAKE2b.hash([counting(10)]).count == 32)
        #expect(BLAKE2b.hash([counting(10)]) == BLAKE2b.hash([counting(10)], length: 32))
    }

    @Test("a shorter output is not a prefix of a longer one (the length is hashed in)")
    func lengthIsParameter() {
        let long = BLAKE2b.hash([counting(10)], length: 64)
        let short = BLAKE2b.hash([counting(10)], length: 32)
        #expect(Array(long.prefix(32)) != short)
    }

    @Test("parts are concatenated: any split of the input gives the same digest")
    func multipartEqualsSinglePart() throws {
        let data = counting(300)
        let whole = BLAKE2b.hash([data], length: 64)
        for cut in [0, 1, 127, 128, 129, 299, 300] {
            #expect(BLAKE2b.hash([Array(data[..<cut]), Array(data[cut...])], length: 64) == whole)
        }
        #expect(BLAKE2b.hash([], length: 64) == BLAKE2b.hash([[]], length: 64))
        let key = try makeKey(counting(32))
        #expect(BLAKE2b.hash([Array(data[..<50]), [], Array(data[50...])], key: key) == BLAKE2b.hash([data], key: key))
    }

    @Test("keyed differs from unkeyed, and different keys differ")
    func keyMatters() throws {
        let plain = BLAKE2b.hash([counting(20)])
        let k1 = BLAKE2b.hash([counting(20)], key: try makeKey(counting(32)))
        let k2 = BLAKE2b.hash([counting(20)], key: try makeKey(flippingBit(counting(32), at: 0)))
        #expect(plain != k1)
        #expect(k1 != k2)
        #expect(k1 == BLAKE2b.hash([counting(20)], key: try makeKey(counting(32))))
    }

    @Test("a length below 16 stops the process")
    func lengthTooShort() async {
        await #expect(processExitsWith: .failure) {
            _ = BLAKE2b.hash([[1, 2, 3]], length: 15)
        }
    }

    @Test("a length above 64 stops the process")
    func lengthTooLong() async {
        await #expect(processExitsWith: .failure) {
            _ = BLAKE2b.hash([[1, 2, 3]], length: 65)
        }
    }
}
