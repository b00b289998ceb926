import Foundation
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// An identity with an X-Wing key too, from fixed seeds (`<who>.xwing_seed` besides `VectorIdentity`'s inputs).
final class PQVectorIdentity {
    let signing: SigningKeyPair
    let sealing: SealingKeyPair
    let xwing: XWingKeyPair
    let card: IdentityCard
    var id: IdentityID { card.id }

    init(_ f: VectorFile, _ who: String) throws {
        let d = VectorIdentity.defaults[who]!
        let handle = try f.text("\(who).handle", d.handle)
        let signingSeed = try f.input("\(who).signing_seed", count: 32, label: "\(who).signing_seed")
        let sealingSeed = try f.input("\(who).sealing_seed", count: 32, label: "\(who).sealing_seed")
        let xwingSeed = try f.input("\(who).xwing_seed", count: 32, label: "\(who).xwing_seed")
        let created = try f.uint("\(who).created", d.created)
        signing = try SigningKeyPair.fromSeed(makeSecret(signingSeed))
        sealing = try SealingKeyPair.fromSeed(makeSecret(sealingSeed))
        xwing = try XWingKeyPair(seed: makeSecret(xwingSeed))
        card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, xwingKey: xwing.publicKey, created: created)
    }
}

@Suite(.serialized)
struct PostQuantumTests {
    // MARK: published vectors, checked against the crypto layer

    @Test func xwingDraftVectors() throws {
        let f = try KeyValueFixture("crypto/xwing-draft-connolly-cfrg-xwing-kem-06.txt")
        var checked = 0
        for i in 0... {
            guard f.values["\(i).seed"] != nil else { break }
            let pair = try XWingKeyPair(seed: makeSecret(try f.hex("\(i).seed")))
            #expect(pair.publicKey.bytes == (try f.hex("\(i).pk")), "vector \(i): public key")
            let (ct, ss) = try XWingKEM.encapsulateForKnownAnswerTests(pair.publicKey, eseed: try f.hex("\(i).eseed"))
            #expect(ct == (try f.hex("\(i).ct")), "vector \(i): ciphertext")
            #expect(ss == (try f.hex("\(i).ss")), "vector \(i): shared secret")
            #expect(try XWingKEM.decapsulate(try f.hex("\(i).ct"), with: pair) == (try f.hex("\(i).ss")), "vector \(i): decapsulation")
            checked += 1
        }
        #expect(checked == 3)
    }

    @Test func hpkeKeyScheduleMatchesRFC9180Vector() throws {
        let f = try KeyValueFixture("crypto/hpke-rfc9180-base-x25519-sha256-aes256gcm.txt")
        let (key, nonce) = XWingHPKE.keySchedule(sharedSecret: try f.hex("shared_secret"), info: try f.hex("info"),
                                                 kem: UInt16(try f.uint64("kem_id")), kdf: UInt16(try f.uint64("kdf_id")),
                                                 aead: UInt16(try f.uint64("aead_id")))
        #expect(key == (try f.hex("key")))
        #expect(nonce == (try f.hex("base_nonce")))
        #expect(try f.hex("nonce") == nonce)
        #expect(try XWingHPKE.aesGCMSeal(try f.hex("pt"), key: key, nonce: nonce, ad: try f.hex("aad")) == (try f.hex("ct")))
    }

    // MARK: HPKE with X-Wing

    @Test func hpkeRoundTripAndTampering() throws {
        let pair = try XWingKeyPair.generate()
        let other = try XWingKeyPair.generate()
        let message = [UInt8](repeating: 0x42, count: 32)
        let info = Array("roomkey/test".utf8)
        let box = try message.withUnsafeBytes { try XWingHPKE.seal($0, to: pair.publicKey, info: info) }
        #expect(box.count == 1120 + 32 + 16)
        #expect(bytesOf(try XWingHPKE.open(box[...], with: pair, info: info)) == message)
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try XWingHPKE.open(box[...], with: other, info: info) }
        #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try XWingHPKE.open(box[...], with: pair, info: info + [0]) }
        for index in [0, 500, 1119, 1120, 1151, 1167] {
            #expect(throws: CryptoError.sealedBoxOpenFailed, "byte \(index)") {
                _ = try XWingHPKE.open(flippingBit(box, at: index)[...], with: pair, info: info)
            }
        }
        // The known-answer path (fixed encapsulation seed, own key schedule) makes boxes swift-crypto's HPKE opens.
        let eseed = [UInt8](repeating: 9, count: 64)
        let fixed = try XWingHPKE.sealForKnownAnswerTests(message, to: pair.publicKey, info: info, eseed: eseed)
        #expect(fixed == (try XWingHPKE.sealForKnownAnswerTests(message, to: pair.publicKey, info: info, eseed: eseed)))
        #expect(bytesOf(try XWingHPKE.open(fixed[...], with: pair, info: info)) == message)
    }

    // MARK: cards

    @Test func cardVersion2() throws {
        let signing = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate()
        let xwing = try XWingKeyPair.generate()
        let v1 = try IdentityCard(handle: "alice", signer: signing, sealingKey: sealing.publicKey, created: 100)
        let v2 = try IdentityCard(handle: "alice", signer: signing, sealingKey: sealing.publicKey, xwingKey: xwing.publicKey, created: 100)
        #expect(v2.text.hasPrefix("roomkey-card-v2:") && v1.text.hasPrefix("roomkey-card-v1:"))
        #expect(v2.encoded.count == 1 + 1 + 5 + 32 + 32 + 1216 + 8 + 64)
        #expect(v2.id == v1.id)
        #expect(try IdentityCard.verified(text: v2.text) == v2)
        #expect(try IdentityCard.verified(text: v1.text) == v1)
        #expect(try IdentityCard.verifiedCards(in: v1.text + "\n" + v2.text).count == 2)
        // The same safety number for both cards of one identity.
        let bob = try makeTestCard(handle: "bob")
        #expect(try SafetyNumber(local: bob, remote: v1).digits == (try SafetyNumber(local: bob, remote: v2).digits))

        // Tampering with the X-Wing key breaks the self-signature.
        let keyStart = 1 + 1 + 5 + 32 + 32
        for index in [keyStart, keyStart + 600, keyStart + 1215] {
            let bad = try IdentityCard.parse(flippingBit(v2.encoded, at: index))
            #expect(throws: CryptoError.signatureInvalid) { try bad.verify() }
        }
        // Prefix and version must agree; unknown versions and trailing bytes are malformed.
        #expect(throws: WireError.self) { _ = try IdentityCard.verified(text: TextArmor.encode(v2.encoded, prefix: IdentityCard.textPrefix)) }
        #expect(throws: WireError.self) { _ = try IdentityCard.verified(text: TextArmor.encode(v1.encoded, prefix: IdentityCard.textPrefixV2)) }
        var v3 = v2.encoded
        v3[0] = 3
        #expect(throws: WireError.unknownVersion(what: "identity card", expected: 2, found: 3)) { _ = try IdentityCard.parse(v3) }
        #expect(throws: WireError.self) { _ = try IdentityCard.parse(v2.encoded + [0]) }
        #expect(throws: WireError.self) { _ = try IdentityCard.parse(Array(v2.encoded.dropLast())) }
        // A version 1 byte in front of a version 2 body is malformed (too long for version 1).
        var v1Header = v2.encoded
        v1Header[0] = 1
        #expect(throws: WireError.self) { _ = try IdentityCard.parse(v1Header) }
    }

    // MARK: bundles

    @Test func mixedBundleOpensForEveryKindAndRejectsTampering() throws {
        let sender = try SigningKeyPair.generate()
        let classicSealing = try SealingKeyPair.generate()
        let pqSealing = try SealingKeyPair.generate()
        let pqXWing = try XWingKeyPair.generate()
        let classicID = IdentityID(signingKey: try SigningKeyPair.generate().publicKey)
        let pqID = IdentityID(signingKey: try SigningKeyPair.generate().publicKey)
        let room = try RoomID(bytes: counting(16))
        let content = BundleContent.encode(commits: [])
        let recipients = [StanzaRecipient(id: classicID, sealingKey: classicSealing.publicKey),
                          StanzaRecipient(id: pqID, sealingKey: pqSealing.publicKey, xwingKey: pqXWing.publicKey)]
        let bytes = try BundleSealer.seal(roomID: room, epoch: 7, signer: sender, recipients: recipients, content: content,
                                          random: try SystemRandom())
        let bundle = try Bundle.parse(bytes)
        #expect(bundle.version == 2 && Array(bytes.prefix(4)) == Bundle.magicV2)
        #expect(bundle.recipients == [classicID, pqID] && bundle.stanzaKinds == [.sealedBox, .xwing])
        #expect(bytes.count == Bundle.headerLength + 4 + Bundle.stanzaLengthV2Box + Bundle.stanzaLengthV2XWing + 24 + 6 + 64 + 16)
        let a = try BundleContent(opening: bundle, recipient: classicID, keyPair: classicSealing)
        try a.verify(signer: sender.publicKey)
        let b = try BundleContent(opening: bundle, recipient: pqID, keyPair: pqSealing, xwing: pqXWing)
        try b.verify(signer: sender.publicKey)
        // Without its X-Wing key the post-quantum recipient cannot open its stanza.
        #expect(throws: CryptoError.self) { _ = try BundleContent(opening: bundle, recipient: pqID, keyPair: pqSealing) }
        // The info binds the recipient: pq's stanza does not open as classic (who has no stanza of that kind anyway),
        // and a flipped byte anywhere in the X-Wing stanza body fails to open.
        let body = Bundle.headerLength + bundle.sealedOffsets[1]
        for index in [body, body + 1119, body + 1120, body + 1167] {
            let bad = try Bundle.parse(flippingBit(bytes, at: index))
            #expect(throws: CryptoError.self, "byte \(index)") {
                _ = try BundleContent(opening: bad, recipient: pqID, keyPair: pqSealing, xwing: pqXWing)
            }
        }
        // An unknown stanza kind, and a version 2 bundle without any X-Wing stanza, are malformed.
        var unknownKind = bytes
        unknownKind[body - 1] = 3
        #expect(throws: WireError.self) { _ = try Bundle.parse(unknownKind) }
        var kind1 = bytes
        kind1[body - 1] = 1
        #expect(throws: WireError.self) { _ = try Bundle.parse(kind1) }
        let onlyClassic = try BundleSealer.seal(roomID: room, epoch: 7, signer: sender, recipients: [recipients[0]], content: content,
                                                random: try SystemRandom())
        #expect(Array(onlyClassic.prefix(4)) == Bundle.magic)
        var forcedV2 = onlyClassic
        forcedV2[3] = 2
        #expect(throws: WireError.self) { _ = try Bundle.parse(forcedV2) }
        var v9 = bytes
        v9[3] = 9
        #expect(throws: WireError.unknownVersion(what: "bundle", expected: 2, found: 9)) { _ = try Bundle.parse(v9) }
        #expect(throws: WireError.self) { _ = try Bundle.parse(Array(bytes.prefix(Bundle.headerLength + 4 + 100))) }
    }

    // MARK: known-answer files (fixtures/vectors)

    @Test func cardV2Vector() throws {
        let f = try VectorFile("card-v2.txt", header: [
            "roomkey known-answer vector: an identity card, version 2 (PROTOCOL.md §1.4).",
            "The identity key is crypto_sign_seed_keypair(signing_seed), the sealing key crypto_box_seed_keypair(sealing_seed),",
            "the X-Wing key pair the one of draft-connolly-cfrg-xwing-kem-06 for the 32-byte private seed xwing_seed.",
            "Expected: the X-Wing public key, the identity id (§1.1, as for version 1), the binary card and its text form.",
        ])
        let alice = try PQVectorIdentity(f, "alice")
        try f.expect("alice.xwing_public_key", alice.xwing.publicKey.bytes)
        try f.expect("alice.id", alice.id.bytes)
        try f.expect("card", alice.card.encoded)
        try f.expect("card_text", text: alice.card.text)
        let parsed = try IdentityCard.verified(text: try f.expectedText("card_text"))
        #expect(parsed.encoded == (try f.expected("card")))
        #expect(parsed.xwingKey?.bytes == (try f.expected("alice.xwing_public_key")))
        try f.finish()
    }

    @Test func mixedBundleVector() throws {
        let f = try VectorFile("bundle-pq-mixed.txt", header: [
            "roomkey known-answer vector: a version 2 bundle (PROTOCOL.md §5.1) from alice to bob (version 1 card: a kind 1",
            "stanza) and zoë (version 2 card: a kind 2 X-Wing HPKE stanza), carrying no commit and no sender key.",
            "Random inputs, in the order drawn: bundle_key, payload_nonce; stanza.i.seed is the ephemeral seed of stanza i",
            "(32 bytes: crypto_box_seed_keypair for a sealed box; 64 bytes: the X-Wing EncapsDerand eseed for kind 2).",
            "Expected: each stanza's HPKE info, the content and the bundle; readers open each stanza to bundle_key.",
        ])
        let alice = try VectorIdentity(f, "alice")
        let bob = try VectorIdentity(f, "bob")
        let zoe = try PQVectorIdentity(f, "zoe")
        let room = try RoomID(bytes: f.input("room_id", count: 16, label: "room_id"))
        let epoch = try f.uint("epoch", 3)
        let bundleKey = try f.input("bundle_key", count: 32)
        let nonce = try f.input("payload_nonce", count: 24)
        let recipients = [StanzaRecipient(card: bob.card), StanzaRecipient(card: zoe.card)].sorted { $0.id < $1.id }
        var seeds: [[UInt8]] = []
        for (i, r) in recipients.enumerated() {
            seeds.append(try f.input("stanza.\(i).seed", count: r.xwingKey == nil ? 32 : 64))
            try f.expect("stanza.\(i).recipient", text: r.id == bob.id ? "bob" : "zoë")
            if r.xwingKey != nil { try f.expect("stanza.\(i).info", Bundle.stanzaInfo(roomID: room, epoch: epoch, recipient: r.id)) }
        }
        let content = BundleContent.encode(commits: [])
        try f.expect("content", bytesOf(content))
        let random = TapeRandom([bundleKey, nonce])
        let bytes = try BundleSealer.sealForKnownAnswerTests(roomID: room, epoch: epoch, signer: alice.signing, recipients: recipients,
                                                             content: content, random: random, stanzaSeeds: seeds)
        #expect(random.finished)
        try f.expect("bundle", bytes)

        let parsed = try Bundle.parse(try f.expected("bundle"))
        #expect(parsed.version == 2 && parsed.recipients == recipients.map(\.id))
        let bobOpened = try BundleContent(opening: parsed, recipient: bob.id, keyPair: bob.sealing)
        try bobOpened.verify(signer: alice.signing.publicKey)
        let zoeOpened = try BundleContent(opening: parsed, recipient: zoe.id, keyPair: zoe.sealing, xwing: zoe.xwing)
        try zoeOpened.verify(signer: alice.signing.publicKey)
        let stanza = try #require(parsed.stanza(for: zoe.id))
        #expect(stanza.kind == .xwing)
        #expect(bytesOf(try XWingHPKE.open(stanza.sealed[...], with: zoe.xwing,
                                           info: Bundle.stanzaInfo(roomID: room, epoch: epoch, recipient: zoe.id))) == bundleKey)
        try f.finish()
    }
}
