import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// Round trips and the malformed-card corpus of the identity card format.
struct IdentityCardTests {
    static func makeCard(handle: String = "alice", created: UInt64 = 1_790_000_000) throws -> IdentityCard {
        try makeTestCard(handle: handle, created: created)
    }

    @Test func textRoundTripVerifies() throws {
        let card = try Self.makeCard(handle: "Zoë")
        #expect(card.text.hasPrefix("roomkey-card-v1:"))
        #expect(!card.text.contains("\n"))
        let back = try IdentityCard.verified(text: card.text)
        #expect(back == card)
        #expect(back.id == IdentityID(signingKey: card.signingKey))
        #expect(back.id.hex.count == 32)
    }

    @Test func binaryLayoutIsAsDocumented() throws {
        let card = try Self.makeCard(handle: "bob", created: 0x0102_0304_0506_0708)
        let b = card.encoded
        #expect(b.count == 1 + 1 + 3 + 32 + 32 + 8 + 64)
        #expect(b[0] == 1)
        #expect(b[1] == 3)
        #expect(Array(b[2..<5]) == Array("bob".utf8))
        #expect(Array(b[5..<37]) == card.signingKey.bytes)
        #expect(Array(b[37..<69]) == card.sealingKey.bytes)
        #expect(Array(b[69..<77]) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    /// The keys and the signature are read from the binary form when asked for: at every handle length (the keys'
    /// offset), in bytes not characters, and in both versions, they are the ones the card was made with.
    @Test(arguments: ["a", "Zoë", "名前", String(repeating: "é", count: 64), String(repeating: "x", count: Handle.maxBytes)],
          [false, true])
    func keysAndSignatureAreTheOnesTheCardWasMadeWith(handle: String, postQuantum: Bool) throws {
        let signer = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate().publicKey
        let xwing = postQuantum ? try XWingKeyPair.generate().publicKey : nil
        let made = try IdentityCard(handle: handle, signer: signer, sealingKey: sealing, xwingKey: xwing, created: 7)
        for card in [made, try IdentityCard.parse(made.encoded), try IdentityCard.verified(text: made.text)] {
            #expect(card.handle == handle)
            #expect(card.signingKey == signer.publicKey)
            #expect(card.sealingKey == sealing)
            #expect(card.xwingKey == xwing)
            #expect(card.signature == Array(made.encoded.suffix(64)))
            #expect(card.id == IdentityID(signingKey: signer.publicKey))
            #expect(throws: Never.self) { try card.verify() }
        }
    }

    @Test func everyTruncationIsMalformed() throws {
        let bytes = try Self.makeCard().encoded
        for length in 0..<bytes.count {
            #expect(throws: WireError.self) { try IdentityCard.parse(Array(bytes.prefix(length))) }
        }
    }

    @Test func trailingBytesAreRejected() throws {
        let bytes = try Self.makeCard().encoded
        #expect(throws: WireError.trailingBytes(what: "identity card", count: 1)) { try IdentityCard.parse(bytes + [0]) }
    }

    @Test func unknownVersionIsRejected() throws {
        var bytes = try Self.makeCard().encoded
        bytes[0] = 3
        #expect(throws: WireError.unknownVersion(what: "identity card", expected: 2, found: 3)) { try IdentityCard.parse(bytes) }
        // Version 2 is known (a card with an X-Wing key): a version 1 body under it is cut short.
        bytes[0] = 2
        #expect(throws: WireError.self) { try IdentityCard.parse(bytes) }
    }

    @Test func everyBitFlipIsCaught() throws {
        let bytes = try Self.makeCard().encoded
        for index in bytes.indices {
            var flipped = bytes
            flipped[index] ^= 0x01
            // Either the parser rejects it or the signature does; it never verifies.
            let verifies = (try? IdentityCard.parse(flipped).verify()) != nil
            #expect(!verifies, "flip at byte \(index) verified")
        }
    }

    @Test func badSignatureIsARejection() throws {
        var bytes = try Self.makeCard().encoded
        bytes[bytes.count - 1] ^= 0x80
        let card = try IdentityCard.parse(bytes)
        #expect(throws: CryptoError.signatureInvalid) { try card.verify() }
        let text = TextArmor.encode(bytes, prefix: IdentityCard.textPrefix)
        do {
            _ = try IdentityCard.verified(text: text)
            Issue.record("a forged card verified")
        } catch let error as CryptoError {
            #expect(error.category == .rejected)
        }
    }

    @Test(arguments: ["", String(repeating: "x", count: 129), "tab\there", "line\nbreak", "e\u{301}"])
    func invalidHandlesAreRefused(handle: String) throws {
        #expect(throws: WireError.self) { try Self.makeCard(handle: handle) }
    }

    @Test func longestHandleIsAccepted() throws {
        let card = try Self.makeCard(handle: String(repeating: "é", count: 64))
        #expect(card.encoded.count == IdentityCard.maxV1BinaryLength)
        #expect(try IdentityCard.verified(text: card.text) == card)
    }

    @Test func oversizedAndEmptyHandlesInInputAreMalformed() throws {
        let good = try Self.makeCard().encoded
        var empty = good
        empty.replaceSubrange(1..<7, with: [0])
        #expect(throws: WireError.self) { try IdentityCard.parse(empty) }
        var long = [UInt8(1), 200] + [UInt8](repeating: 0x61, count: 200) + Array(good[7...])
        #expect(throws: WireError.self) { try IdentityCard.parse(long) }
        long = [UInt8](repeating: 0, count: IdentityCard.maxBinaryLength + 1)
        #expect(throws: WireError.oversized(what: "identity card", limit: IdentityCard.maxBinaryLength, found: long.count)) {
            try IdentityCard.parse(long)
        }
    }

    @Test func textFormIsStrict() throws {
        let card = try Self.makeCard()
        // Neither prefix: the error names the one cards are made with now.
        #expect(throws: WireError.wrongPrefix(expected: IdentityCard.textPrefixV2)) {
            try IdentityCard.verified(text: "roomkey-card-v3:" + card.text.dropFirst(16))
        }
        // A version 1 card under the version 2 prefix is malformed too.
        #expect(throws: WireError.invalid(what: "identity card", reason: "the text prefix does not match card version 1")) {
            try IdentityCard.verified(text: "roomkey-card-v2:" + card.text.dropFirst(16))
        }
        #expect(throws: WireError.badEncoding(what: "identity card")) { try IdentityCard.verified(text: card.text + "!") }
        #expect(try IdentityCard.verified(text: "  " + card.text + "\r\n") == card)
    }

    @Test func manyCardsNameTheBadLine() throws {
        let a = try Self.makeCard(handle: "a"), b = try Self.makeCard(handle: "b")
        let cards = try IdentityCard.verifiedCards(in: "# team\n\(a.text)\n\n\(b.text)\n")
        #expect(cards == [a, b])
        #expect(try IdentityCard.verifiedCards(in: "\(a.text)\r\n\(b.text)\r\n") == [a, b])
        do {
            _ = try IdentityCard.verifiedCards(in: "\(a.text)\nroomkey-card-v1:AAAA\n")
            Issue.record("a bad line was accepted")
        } catch let error as LineError {
            #expect(error.line == 2)
            #expect(error.category == .malformed)
        }
    }
}
