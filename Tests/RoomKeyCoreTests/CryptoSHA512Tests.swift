import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("SHA-512")
struct CryptoSHA512Tests {
    static let file = "crypto/sha512.txt"

    @Test("published vectors: FIPS 180-2 C.1 \"abc\", C.2 two blocks, CAVP empty message",
          arguments: ["fips.abc", "fips.twoblock", "cavp.empty"])
    func knownAnswers(name: String) throws {
        let f = try KeyValueFixture(Self.file)
        let input = try f.utf8("\(name).input")
        let digest = SHA512.hash([input])
        #expect(digest.count == 64)
        #expect(hexString(digest) == hexString(try f.hex("\(name).digest")))
    }

    @Test("the empty message: no parts, one empty part, and several empty parts agree")
    func emptyMessage() throws {
        let f = try KeyValueFixture(Self.file)
        let expected = try f.hex("cavp.empty.digest")
        #expect(try f.utf8("cavp.empty.input").isEmpty)
        #expect(SHA512.hash([]) == expected)
        #expect(SHA512.hash([[]]) == expected)
        #expect(SHA512.hash([[], [], []]) == expected)
    }

    @Test("multi-part equals single part at every split of the two-block message")
    func multipart() throws {
        let f = try KeyValueFixture(Self.file)
        let input = try f.utf8("fips.twoblock.input")
        let expected = try f.hex("fips.twoblock.digest")
        #expect(input.count == 112)
        for cut in 0...input.count {
            #expect(SHA512.hash([Array(input[..<cut]), Array(input[cut...])]) == expected)
        }
        #expect(SHA512.hash(input.map { [$0] }) == expected)
    }

    @Test("a one-bit change changes the digest")
    func avalanche() {
        #expect(SHA512.hash([counting(200)]) != SHA512.hash([flippingBit(counting(200), at: 199)]))
    }
}
