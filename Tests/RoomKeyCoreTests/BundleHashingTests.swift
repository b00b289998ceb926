import Foundation
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// The hashes of a bundle (stanza hash from the raw stanza region, the seen digest from it), the raw-buffer AEAD and
/// BLAKE2b paths the large rows use, and the card checks a commit may skip.
@Suite struct BundleHashingTests {
    /// A version 2 bundle (one sealed-box and `pq` X-Wing recipients) and the keys to open and check it.
    final class Sealed {
        let signer: SigningKeyPair
        let sealing: SealingKeyPair
        let id: IdentityID
        let bytes: [UInt8]

        init(pq: Int = 1) throws {
            signer = try SigningKeyPair.generate()
            sealing = try SealingKeyPair.generate()
            id = IdentityID(signingKey: try SigningKeyPair.generate().publicKey)
            var recipients = [StanzaRecipient(id: id, sealingKey: sealing.publicKey)]
            for _ in 0..<pq {
                recipients.append(StanzaRecipient(id: IdentityID(signingKey: try SigningKeyPair.generate().publicKey),
                                                  sealingKey: try SealingKeyPair.generate().publicKey,
                                                  xwingKey: try XWingKeyPair.generate().publicKey))
            }
            bytes = try BundleSealer.seal(roomID: try RoomID(bytes: counting(16)), epoch: 3, signer: signer, recipients: recipients,
                                          content: BundleContent.encode(commits: []), random: try SystemRandom())
        }
    }

    @Test(arguments: [1, 900])
    func parsedHashesMatchTheRegionsTheyCover(pq: Int) throws {
        let b = try Sealed(pq: pq)
        let stanzaEnd = b.bytes.count - (24 + 6 + 64 + 16)
        let parsed = try Bundle.parse(b.bytes)
        let stanzaHash = BLAKE2b.hash([Array(b.bytes[Bundle.headerLength..<stanzaEnd])])
        #expect(parsed.stanzaHash == stanzaHash)
        // The seen digest: its domain, the header, the stanza hash, then the payload (every byte after the stanzas).
        #expect(parsed.seenDigest == BLAKE2b.hash([Array("roomkey/bundle-seen/v1".utf8), [0], Array(b.bytes[..<Bundle.headerLength]),
                                                   stanzaHash, Array(b.bytes[stanzaEnd...])]))
        let content = try BundleContent(opening: parsed, recipient: b.id, keyPair: b.sealing)
        try content.verify(signer: b.signer.publicKey)
    }

    /// A bundle kept for one recipient holds that recipient's sealed key only (a few bytes per other recipient instead of
    /// a stanza each), names the same recipients, hashes and digest, and opens and verifies as the whole bundle does.
    @Test func aBundleRetainedForOneRecipientOpensAsTheWholeOne() throws {
        let b = try Sealed(pq: 300)
        let whole = try Bundle.parse(b.bytes)
        let slim = whole.retainingStanza(of: b.id)
        #expect(slim.recipients == whole.recipients && slim.stanzaKinds == whole.stanzaKinds)
        #expect(slim.stanzaHash == whole.stanzaHash && slim.seenDigest == whole.seenDigest)
        #expect(slim.stanzaBytes.count == Bundle.sealedKeyLength(.sealedBox) && slim.sealedOffsets.isEmpty)
        #expect(whole.stanzaBytes.count > 300 * 1_000)
        #expect(slim.stanza(for: b.id)?.sealed == whole.stanza(for: b.id)?.sealed)
        let other = whole.recipients[7]
        #expect(whole.stanza(for: other) != nil && slim.stanza(for: other) == nil)
        let content = try BundleContent(opening: slim, recipient: b.id, keyPair: b.sealing)
        try content.verify(signer: b.signer.publicKey)
        #expect(slim.payload == whole.payload && !whole.payload.isEmpty)
        // Kept for someone it does not name, it holds no stanza and no payload (nothing opens it for them), and is still
        // the same bundle to them: header, recipients, hashes and digest.
        let stranger = whole.retainingStanza(of: IdentityID(signingKey: try SigningKeyPair.generate().publicKey))
        #expect(stranger.stanzaBytes.isEmpty && stranger.stanza(for: b.id) == nil && stranger.payload.isEmpty)
        #expect(stranger.recipients == whole.recipients && stranger.seenDigest == whole.seenDigest && stranger.headerBytes == whole.headerBytes)
    }

    /// Every byte of a bundle is in its seen digest: a changed byte anywhere (header, count, a stanza, the payload)
    /// changes it, so two files never share one (short of a BLAKE2b collision).
    @Test func theSeenDigestCoversEveryByte() throws {
        let b = try Sealed(pq: 2)
        let digest = try Bundle.parse(b.bytes).seenDigest
        var checked = 0
        for at in stride(from: 3, to: b.bytes.count, by: 97) {
            guard let other = try? Bundle.parse(flippingBit(b.bytes, at: at)) else { continue }
            #expect(other.seenDigest != digest, "byte \(at)")
            checked += 1
        }
        #expect(checked > 15)
    }

    @Test func malformedStanzaListsAreRejected() throws {
        let b = try Sealed()
        let countAt = Bundle.headerLength
        // Truncated inside the stanza list, and a count that claims more stanzas than the bytes hold.
        for cut in [countAt + 2, countAt + 4 + 10, countAt + 4 + Bundle.stanzaLengthV2Box + 100] {
            #expect(throws: WireError.self, "cut at \(cut)") { _ = try Bundle.parse(Array(b.bytes.prefix(cut))) }
        }
        var more = b.bytes
        more[countAt + 3] &+= 1
        #expect(throws: WireError.self) { _ = try Bundle.parse(more) }
        // A byte added at the end, or any stanza byte changed, no longer matches what the sender sealed and signed: the
        // payload's associated data holds the stanza hash.
        for bad in [b.bytes + [0], flippingBit(b.bytes, at: countAt + 4 + 16 + 1 + 5), flippingBit(b.bytes, at: countAt + 4 + 3)] {
            guard let parsed = try? Bundle.parse(bad), parsed.recipients.contains(b.id) else { continue }
            #expect(throws: (any Error).self) {
                let content = try BundleContent(opening: parsed, recipient: b.id, keyPair: b.sealing)
                try content.verify(signer: b.signer.publicKey)
            }
        }
    }

    @Test func rawAEADPathsMatchTheArrayOnes() throws {
        let random = try SystemRandom()
        let key = SymmetricKey.random(using: random)
        let plain = counting(1000)
        let sealed = plain.withUnsafeBytes { XChaCha20Poly1305.seal($0, key: key, ad: [7], random: random, prefix: [1, 2]) }
        #expect(Array(sealed.prefix(2)) == [1, 2] && sealed.count == 2 + plain.count + XChaCha20Poly1305.overhead)
        let box = Array(sealed.dropFirst(2))
        #expect(try XChaCha20Poly1305.open(box, key: key, ad: [7]) == plain)
        #expect(try box.withUnsafeBytes { try XChaCha20Poly1305.open(raw: $0, key: key, ad: [7]) } == plain)
        #expect(try XChaCha20Poly1305.openSecret(sealed, from: 2, key: key, ad: [7]).withUnsafeBytes { Array($0) } == plain)
        // Tampering, a wrong associated data, and a box shorter than the overhead all fail.
        let cases: [([UInt8], [UInt8])] = [(flippingBit(box, at: 30), [7]), (box, [8]), (Array(box.prefix(39)), [7])]
        for (bad, ad) in cases {
            #expect(throws: CryptoError.self) { _ = try bad.withUnsafeBytes { try XChaCha20Poly1305.open(raw: $0, key: key, ad: ad) } }
            #expect(throws: CryptoError.self) { _ = try XChaCha20Poly1305.openSecret([0] + bad, from: 1, key: key, ad: ad) }
        }
    }

    @Test func rowHashIsTheHashOfTheRowEncoding() throws {
        let key = SymmetricKey.random(using: try SystemRandom())
        let rows: [[RowDigest.Value]] = [[], [.null], [.integer(-5), .real(2.5)], [.text(Array("héllo".utf8)), .blob([])],
                                         [.blob(counting(70_000)), .integer(1), .null, .text([])]]
        for values in rows {
            #expect(RowDigest.rowHash(table: "room_epoch", values: values, key: key)
                    == BLAKE2b.hash([RowDigest.domain, Array("room_epoch".utf8), [0], RowDigest.encode(values)], key: key))
        }
        let big = counting(3000)
        #expect(BLAKE2b.hash(big[100..<2000]) == BLAKE2b.hash([Array(big[100..<2000])]))
    }

    @Test func aCardIsCheckedUnlessTheCallerVerifiedIt() throws {
        let creator = try SigningKeyPair.generate()
        let me = try IdentityCard(handle: "me", signer: creator, sealingKey: try SealingKeyPair.generate().publicKey, created: 1)
        let good = try IdentityCard(handle: "good", signer: try SigningKeyPair.generate(), sealingKey: try SealingKeyPair.generate().publicKey,
                                    created: 1)
        var forgedBytes = good.encoded
        forgedBytes[forgedBytes.count - 1] ^= 1
        let forged = try IdentityCard.parse(forgedBytes)
        let ops = { (card: IdentityCard) in [Operation.create(name: "r", creator: me), .add(card)] }
        // (card, verified says, accepted)
        let table: [(IdentityCard, Bool, Bool)] = [(good, false, true), (good, true, true), (forged, false, false), (forged, true, true)]
        for (card, said, accepted) in table {
            let result = Result { try RoomState.apply(ops(card), to: Roster(), author: me.id, genesis: true, verified: { $0.id == card.id && said }) }
            let ok = (try? result.get()) != nil
            #expect(ok == accepted, "\(card.handle) verified=\(said)")
        }
    }
}
