import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A member's `receive` seals ahead only for a rotation that will happen: a bundle that is forged, refused or a
/// duplicate starts no pool, and one that cannot start a pool (a small room) leaves a later large room its pool
/// (found by a hostile review of the first version, which started a pool as soon as a bundle's content opened).
@Suite(.temporaryFolder) struct SealAheadReceiveTests {
    /// Bundles that open for bob and carry commits but that no contact signed start no pool: one from an outsider, one
    /// whose header names alice but that mallory signed (only the signature check stops it), and a duplicate.
    @Test func aBundleNotSignedByAContactStartsNoPool() throws {
        let (alice, bob, written, cards) = try SealAheadTests.room()
        let genesis = try Bundle.parse(try #require(written.files["genesis"]))
        let commits = try BundleContent(opening: genesis, recipient: cards[0].id, keyPair: try SealAheadTests.sealing(0)).commits

        // Mallory knows bob's public card and the room id (it is in every bundle header), nothing else.
        let mallory = try SigningKeyPair.generate()
        let bobCard = try bob.identityCard()
        let forged = try BundleSealer.seal(roomID: genesis.roomID, epoch: 1, signer: mallory,
                                           recipients: [StanzaRecipient(id: bobCard.id, sealingKey: bobCard.sealingKey,
                                                                        xwingKey: bobCard.xwingKey)],
                                           content: BundleContent.encode(commits: commits), random: try SystemRandom())
        // A bundle built as roomkey builds one, its header naming alice (a contact of bob) as the sender, but signed by
        // mallory: it opens for bob, and only the signature shows it is not hers.
        // It carries alice's own (genuine) next commit, which bob has not received yet.
        _ = try alice.change(room: "big", [.remove(["m0"])], deliver: { _ in "remove" })
        let removal = try Bundle.parse(try #require(written.files["remove"]))
        let next = try BundleContent(opening: removal, recipient: cards[1].id, keyPair: try SealAheadTests.sealing(1)).commits
        #expect(next.map(\.epoch) == [1])
        let posing = try Self.bundle(room: genesis.roomID, epoch: 1, claiming: try alice.identityCard().id, signer: mallory,
                                     to: bobCard, content: BundleContent.encode(commits: next))
        var seenPosing: [Bool] = []
        let posed = try bob.receive([ReceiveInput(path: "posing", bytes: posing)], deliver: { _ in "posing-out" },
                                    onResult: { _ in seenPosing.append(bob.sealingAhead) })
        #expect(posed.map(\.status) == [.rejected])
        #expect(seenPosing == [false], "a bundle naming a contact but not signed by her must not start a pool")

        var seenWhileDeciding: [Bool] = []
        let results = try bob.receive([ReceiveInput(path: "forged", bytes: forged)], deliver: { _ in "forged-out" },
                                      onResult: { _ in seenWhileDeciding.append(bob.sealingAhead) })
        #expect(results.map(\.status) != [.applied])
        #expect(written.files["forged-out"] == nil, "nothing was sealed")
        // The first version started sealing ahead (80 pairs) here although the bundle was refused.
        #expect(seenWhileDeciding == [false], "a refused bundle from a non-member must not start a pool")

        // Nor a duplicate: bob receives the genesis again (nothing to rotate).
        var seenOnDuplicate: [Bool] = []
        let again = try bob.receive([ReceiveInput(path: "genesis", bytes: try #require(written.files["genesis"]))],
                                    deliver: { _ in "bob-out2" }, onResult: { _ in seenOnDuplicate.append(bob.sealingAhead) })
        #expect(again.map(\.status) == [.duplicate])
        #expect(seenOnDuplicate == [false], "a duplicate must not start a pool")
    }

    /// A forged bundle for a small room, sorted first (epoch 0), does not keep a genuine removal in a large room from
    /// its pool: the first version set `sealingAhead` for it although it started no pool and was refused.
    @Test(arguments: [true, false]) func aSmallOrRefusedFirstBundleDisablesThePoolForTheRun(withForged: Bool) throws {
        let (alice, bob, written, _) = try SealAheadTests.room()
        _ = try alice.createRoom(name: "small", members: ["bob"], deliver: { _ in "small-genesis" })
        let small = try Bundle.parse(try #require(written.files["small-genesis"]))
        _ = try alice.change(room: "big", [.remove(["m0"])], deliver: { _ in "remove" })
        let bobCard = try bob.identityCard()
        // bob is in the small room too; a forged epoch-0 bundle for it sorts before the removal.
        _ = try bob.receive([ReceiveInput(path: "small-genesis", bytes: try #require(written.files["small-genesis"]))],
                            deliver: { _ in "bob-small" })
        let me = try bob.identity()
        let commits: [Commit]
        switch me.xwing {
        case .some(let xwing): commits = try BundleContent(opening: small, recipient: bobCard.id, keyPair: me.sealing, xwing: xwing).commits
        case .none: commits = try BundleContent(opening: small, recipient: bobCard.id, keyPair: me.sealing).commits
        }
        let forged = try BundleSealer.seal(roomID: small.roomID, epoch: 0, signer: try SigningKeyPair.generate(),
                                           recipients: [StanzaRecipient(id: bobCard.id, sealingKey: bobCard.sealingKey,
                                                                        xwingKey: bobCard.xwingKey)],
                                           content: BundleContent.encode(commits: commits), random: try SystemRandom())
        var poolAtRemoval: [Bool] = []
        _ = try bob.receive([ReceiveInput(path: "remove", bytes: try #require(written.files["remove"])),
                            ] + (withForged ? [ReceiveInput(path: "forged", bytes: forged)] : []), deliver: { _ in "bob-rotation" },
                            onResult: { r in if r.path == "remove" { poolAtRemoval.append(bob.ephemeralPool?.waitUntilMade(1) == true) } })
        #expect(written.files["bob-rotation"] != nil)
        #expect(poolAtRemoval == [BatchSeal.cores > 1], "withForged \(withForged): the 81-member room's rotation has pairs made ahead")
    }

    /// Carol is bob's contact but not a member of the room: her own validly signed bundle, carrying alice's genuine
    /// next commit, is rejected and starts no pool (the first version of the early start did: found by a hostile review).
    @Test func aContactOutsideTheRoomStartsNoPool() throws {
        let (alice, bob, written, cards) = try SealAheadTests.room()
        let carolKey = try SigningKeyPair.generate()
        let carol = try IdentityCard(handle: "carol", signer: carolKey, sealingKey: try SealAheadTests.sealing(999).publicKey,
                                     created: 1_790_000_000)
        _ = try bob.addContacts([carol], as: nil)
        _ = try alice.change(room: "big", [.remove(["m0"])], deliver: { _ in "remove" })
        let removal = try Bundle.parse(try #require(written.files["remove"]))
        let next = try BundleContent(opening: removal, recipient: cards[1].id, keyPair: try SealAheadTests.sealing(1)).commits
        let bytes = try SealAheadReceiveTests.bundle(room: removal.roomID, epoch: 1, claiming: carol.id, signer: carolKey,
                                                     to: try bob.identityCard(), content: BundleContent.encode(commits: next))
        var seen: [Bool] = []
        let results = try bob.receive([ReceiveInput(path: "carol", bytes: bytes)], deliver: { _ in "bob-out" },
                                      onResult: { _ in seen.append(bob.sealingAhead) })
        #expect(results.map(\.status) == [.rejected])
        #expect(seen == [false], "a non-member contact's refused bundle must not start a pool")
    }

    /// `BundleSealer.seal`'s construction with a header that names `claimed` as the sender whatever `signer` is.
    static func bundle(room: RoomID, epoch: UInt64, claiming claimed: IdentityID, signer: borrowing SigningKeyPair,
                       to recipient: IdentityCard, content: consuming SecretBytes) throws -> [UInt8] {
        let random = try SystemRandom()
        let header = Bundle.header(roomID: room, epoch: epoch, sender: claimed, version: 2)
        let key = SymmetricKey.random(using: random)
        var out = try BundleSealer.sealStanzasV2([StanzaRecipient(card: recipient)], key: key, roomID: room, epoch: epoch,
                                                 after: header)
        let stanzaHash = BLAKE2b.hash(out[header.count...])
        let signature = try BundleSealer.signedMessage(header: header, stanzaHash: stanzaHash, content: content) { signer.sign($0) }
        content.withUnsafeBytes { c in
            signature.withUnsafeBytes { sig in
                XChaCha20Poly1305.seal(appending: [c, sig], to: &out, key: key, ad: Bundle.adDomain + header + stanzaHash, random: random)
            }
        }
        return out
    }
}
