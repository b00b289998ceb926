import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// The base64url text form and the strict binary reader.
struct TextArmorTests {
    // RFC 4648 §10 test vectors, in the URL-safe alphabet without padding.
    @Test(arguments: [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
                      ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")])
    func rfc4648Vectors(plain: String, encoded: String) throws {
        #expect(TextArmor.encode(Array(plain.utf8), prefix: "p:") == "p:" + encoded)
        #expect(try TextArmor.decode("p:" + encoded, prefix: "p:", what: "t", maxBytes: 100) == Array(plain.utf8))
    }

    @Test func urlSafeAlphabet() throws {
        #expect(TextArmor.encode([0xfb, 0xff], prefix: "") == "-_8")
        #expect(try TextArmor.decode("-_8", prefix: "", what: "t", maxBytes: 10) == [0xfb, 0xff])
    }

    @Test func nonCanonicalAndForeignCharactersAreRejected() {
        #expect(throws: WireError.badEncoding(what: "t")) { try TextArmor.decode("Zh", prefix: "", what: "t", maxBytes: 10) }
        #expect(throws: WireError.badEncoding(what: "t")) { try TextArmor.decode("Zm9v+", prefix: "", what: "t", maxBytes: 10) }
        #expect(throws: WireError.badEncoding(what: "t")) { try TextArmor.decode("Zm9vY", prefix: "", what: "t", maxBytes: 10) }
        #expect(throws: WireError.badEncoding(what: "t")) { try TextArmor.decode("Zm9v==", prefix: "", what: "t", maxBytes: 10) }
    }

    @Test func sizeIsBoundedBeforeDecoding() {
        let long = String(repeating: "A", count: 400)
        #expect(throws: WireError.self) { try TextArmor.decode(long, prefix: "", what: "t", maxBytes: 100) }
    }

    @Test func readerBoundsEveryLength() throws {
        var r = ByteReader([0, 5, 1, 2], what: "x")
        #expect(throws: WireError.truncated(what: "x f", needed: 5, available: 2)) {
            try r.readPrefixed(width: 2, "f", range: 0...10)
        }
        var r2 = ByteReader([0, 50], what: "x")
        #expect(throws: WireError.oversized(what: "x f", limit: 10, found: 50)) { try r2.readPrefixed(width: 2, "f", range: 0...10) }
        var r3 = ByteReader([0, 0, 0, 9], what: "x")
        #expect(throws: WireError.oversized(what: "x items count", limit: 8, found: 9)) { try r3.readCount(width: 4, "items", limit: 8) }
    }

    @Test func writerAndReaderAgree() throws {
        var w = ByteWriter()
        w.writeU8(7); w.writeU16(0x1234); w.writeU32(0xdead_beef); w.writeU64(1 << 40); w.writePrefixed(width: 2, [9, 9])
        var r = ByteReader(w.bytes, what: "x")
        #expect(try r.readU8("a") == 7)
        #expect(try r.readU16("b") == 0x1234)
        #expect(try r.readU32("c") == 0xdead_beef)
        #expect(try r.readU64("d") == 1 << 40)
        #expect(try r.readPrefixed(width: 2, "e", range: 0...2) == [9, 9])
        try r.finish()
    }

    @Test func hexRoundTrip() throws {
        #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
        #expect(try Hex.decode("00ABff", what: "h") == [0x00, 0xab, 0xff])
        #expect(throws: WireError.self) { try Hex.decode("abc", what: "h") }
        #expect(throws: WireError.self) { try Hex.decode("zz", what: "h") }
    }
}
