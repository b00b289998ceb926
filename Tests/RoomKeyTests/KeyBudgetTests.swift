import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// What one member can make a receiver keep: the keys of one member and epoch that hold 2,000 skipped message keys.
@Suite(.temporaryFolder) struct KeyBudgetTests {
    typealias Written = OutboxBundleTests.Written

    /// PROTOCOL, Storage: "a member who rotates without end, each key with a message far along its chain, costs a
    /// receiver at most 65 keys with up to 2,000 skipped message keys each per epoch". A hostile member who signs many
    /// keys of ONE generation gets 64 of them into the head's list and 64 more into the kept list: 128 keys keep 2,000.
    @Test func oneMemberCannotMakeMoreThan65KeysKeep2000SkippedKeysPerEpoch() throws {
        let alice = try KeyringTests.create("alice", passphrase: nil)
        let bob = try KeyringTests.create("bob", passphrase: nil)
        _ = try alice.addContacts([try bob.identityCard()], as: nil)
        _ = try bob.addContacts([try alice.identityCard()], as: nil)
        let written = Written()
        for k in [alice, bob] { k.sink = OutboxBundleTests.sink(written) }
        _ = try alice.createRoom(name: "team", members: ["bob"], deliver: { _ in "genesis" })
        #expect(try bob.receive([written.input("genesis")], deliver: { _ in "bob-g" }).map(\.status) == [.applied])
        let room = try bob.room("team").id
        let b = try bob.identity()
        let aliceCard = try alice.identityCard()
        // bob (hostile) signs 160 keys of generation 0 at epoch 0, each in its own bundle, and one message at
        // iteration 2000 under each (alice keeps iterations 0..<2000 as skipped keys).
        for i in 0..<160 {
            let key = try OwnSenderKey.generate(roomID: room, owner: b.id, epoch: 0, generation: 0, random: try SystemRandom())
            let bundle = try BundleSealer.seal(roomID: room, epoch: 0, signer: b.signing, recipients: [StanzaRecipient(card: aliceCard)],
                                               content: BundleContent.encode(senderKey: key.shared, commits: []), random: try SystemRandom())
            let status = try alice.receive([ReceiveInput(path: "k\(i)", bytes: bundle)], deliver: { _ in "x" }).map(\.status)
            #expect(status == [.applied])
            let step = try SenderChain(chainKey: key.shared.chainKey.duplicate(), iteration: 0).receiveStep(2000)
            let message = try RoomMessage.seal(roomID: room, epoch: 0, sender: b.id, keyID: key.shared.info.keyID, iteration: 2000,
                                               plaintext: [1], messageKey: step.messageKey, signer: key.signing, random: try SystemRandom())
            _ = try alice.decrypt(message) { _, _ in }
        }
        let full = try alice.read { db in
            try alice.ownerKeys(db, room, owner: b.id, epoch: 0).filter { key in
                (try alice.loadSenderKey(db, room, keyTag: key.tag)?.chain.skipped.count ?? 0) == SenderChain.maxSkipped
            }.count
        }
        #expect(full <= 65, "keys of one member and epoch holding 2,000 skipped message keys: \(full)")
    }
}
