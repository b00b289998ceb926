import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Sealing ahead in a room large enough for it (more members than `EphemeralKeyPool.minimumPairs`): the bundles of a
/// creation, a removal and the member's rotation on receiving it open for exactly the roster, as every bundle does.
@Suite(.temporaryFolder) struct SealAheadTests {
    static let count = EphemeralKeyPool.minimumPairs + 16

    /// Member *i*'s sealing key pair, from its seed.
    static func sealing(_ i: Int) throws -> SealingKeyPair {
        var seed = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ i &* 59 &+ 7) }
        return try SealingKeyPair.fromSeed(SecretBytes(consuming: &seed))
    }

    /// Opens `bundle`'s stanza for member `i` (card `cards[i]`).
    static func opens(_ bundle: Bundle, _ cards: [IdentityCard], _ i: Int) -> Bool {
        (try? BundleContent(opening: bundle, recipient: cards[i].id, keyPair: try sealing(i))) != nil
    }

    /// alice and bob (contacts of each other) in a room "big" with m0...m`count - 1` (whose sealing keys `sealing` makes
    /// again), created by alice; bob has received its genesis. Bundles are recorded in `written` by name.
    static func room() throws -> (alice: Keyring, bob: Keyring, written: OutboxBundleTests.Written, cards: [IdentityCard]) {
        let alice = try KeyringTests.create(passphrase: nil), bob = try KeyringTests.create("bob", passphrase: nil)
        let cards = try (0..<count).map { i in
            try IdentityCard(handle: "m\(i)", signer: try SigningKeyPair.generate(), sealingKey: try sealing(i).publicKey,
                             created: 1_790_000_000)
        }
        _ = try alice.addContacts(cards, as: nil)
        _ = try alice.addContacts([try bob.identityCard()], as: nil)
        _ = try bob.addContacts([try alice.identityCard()], as: nil)
        let written = OutboxBundleTests.Written()
        alice.sink = OutboxBundleTests.sink(written)
        bob.sink = OutboxBundleTests.sink(written)
        _ = try alice.createRoom(name: "big", members: ["bob"] + cards.map(\.handle), deliver: { _ in "genesis" })
        try GenerationHistoryTests.receive(bob, written, "genesis")
        return (alice, bob, written, cards)
    }

    @Test func bundlesSealedAheadOpenForExactlyTheRoster() throws {
        let (alice, bob, written, cards) = try Self.room()
        let genesis = try Bundle.parse(try #require(written.files["genesis"]))
        #expect((0..<Self.count).allSatisfy { Self.opens(genesis, cards, $0) })

        _ = try alice.change(room: "big", [.remove(["m0"])], deliver: { _ in "remove" })
        let removal = try Bundle.parse(try #require(written.files["remove"]))
        #expect(removal.recipients.count == Self.count)  // bob and m1...: not alice, not m0
        #expect(!Self.opens(removal, cards, 0))
        #expect((1..<Self.count).allSatisfy { Self.opens(removal, cards, $0) })

        // bob applies the removal and rotates: his new sender key is sealed (ahead) to the roster he now holds.
        let results = try bob.receive([ReceiveInput(path: "remove", bytes: try #require(written.files["remove"]))],
                                      deliver: { _ in "bob-rotation" })
        #expect(results.map(\.status) == [.applied])
        let rotation = try Bundle.parse(try #require(written.files["bob-rotation"]))
        #expect(rotation.recipients.count == Self.count)  // alice and m1...
        #expect(!Self.opens(rotation, cards, 0))
        #expect((1..<Self.count).allSatisfy { Self.opens(rotation, cards, $0) })
        #expect(alice.sealingAhead == false && bob.sealingAhead == false, "every pool is dropped with its operation")
    }
}
