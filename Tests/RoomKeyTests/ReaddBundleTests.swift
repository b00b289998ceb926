import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// One admin bundle of many commits that each take a member out and add it back (a hostile review): every receiver
/// re-read and re-sealed that member's growing tenure at every commit, quadratic in the commits (111 s for 8,000, in
/// one write transaction that held the keyring); and a tenure past its bound kept its oldest stays and dropped the
/// current one, so a member read as not a member.
@Suite(.temporaryFolder) struct ReaddBundleTests {
    typealias Written = OutboxBundleTests.Written

    @Test func aBundleOfReaddsWritesEachTenureOnce() throws {
        let alice = try KeyringTests.create("alice", passphrase: nil)
        let bob = try KeyringTests.create("bob", passphrase: nil)
        for (a, b) in [(alice, bob), (bob, alice)] { _ = try a.addContacts([try b.identityCard()], as: nil) }
        let written = Written()
        for k in [alice, bob] { k.sink = OutboxBundleTests.sink(written) }
        let carol = try TestPerson("carol", created: 1_790_000_000)
        _ = try alice.addContacts([carol.card], as: nil)
        _ = try alice.createRoom(name: "team", members: ["bob", "carol"], deliver: { _ in "genesis" })
        #expect(try bob.receive([written.input("genesis")], deliver: { _ in "bob-g" }).map(\.status) == [.applied])
        let state = try bob.room("team").state
        let a = try alice.identity()
        // alice's commits each [remove carol, add carol]: the roster, and so its hash, never changes.
        let count = 2_000
        var commits: [Commit] = [], previous = state.head
        for i in 0..<count {
            let c = Commit(roomID: state.roomID, epoch: state.epoch + 1 + UInt64(i), previousHead: previous, signer: a.signing,
                           time: UInt64(Date().timeIntervalSince1970), operations: [.remove(carol.id), .add(carol.card)],
                           rosterHash: state.roster.hash)
            commits.append(c)
            previous = c.head
        }
        let epoch = state.epoch + UInt64(count)
        let bundle = try BundleSealer.seal(roomID: state.roomID, epoch: epoch, signer: a.signing,
                                           recipients: [try bob.identityCard(), carol.card].map { StanzaRecipient(card: $0) },
                                           content: BundleContent.encode(commits: commits), random: try SystemRandom())
        let before = (bob.tenureRowsWritten, bob.summaryRowsWritten)
        #expect(try bob.receive([ReceiveInput(path: "readds", bytes: bundle)], deliver: { _ in "bob-r" }).map(\.status) == [.applied])
        // carol's tenure, and the room's summary, are written once for the whole bundle (each was written once per
        // commit: 2,000 times; the summary costs what the room's size does).
        #expect(bob.tenureRowsWritten - before.0 == 1)
        #expect(bob.summaryRowsWritten - before.1 == 1)
        let summary = try #require(try bob.read { db in try bob.storedSummary(db, state.roomID) })
        #expect(summary.members == 3 && summary.isMember)
        let tenure = try #require(try bob.read { db in try bob.storedTenure(db, state.roomID, carol.id) })
        #expect(tenure.stays.count == count + 1 && tenure.stay(at: epoch) != nil && tenure.stay(at: state.epoch) != nil)
        // A message carol sends at the new epoch is hers, from a member.
        let key = try OwnSenderKey.generate(roomID: state.roomID, owner: carol.id, epoch: epoch, generation: 0, random: try SystemRandom())
        let keyBundle = try BundleSealer.seal(roomID: state.roomID, epoch: epoch, signer: carol.signing,
                                              recipients: [try alice.identityCard(), try bob.identityCard()].map { StanzaRecipient(card: $0) },
                                              content: BundleContent.encode(senderKey: key.shared, commits: []), random: try SystemRandom())
        #expect(try bob.receive([ReceiveInput(path: "carol-key", bytes: keyBundle)], deliver: { _ in "bob-k" }).map(\.status) == [.applied])
        var encryptor = MessageEncryptor(key: key, random: try SystemRandom())
        var opened: [UInt8] = []
        let origin = try bob.decrypt(try encryptor.encrypt([1, 2, 3])) { _, plain in opened = plain.withUnsafeBytes { Array($0) } }
        #expect(opened == [1, 2, 3] && origin.sender == carol.id)
    }

    @Test func aTenurePastItsBoundKeepsTheCurrentStay() throws {
        var tenure = MemberTenure(member: try IdentityID(bytes: [UInt8](repeating: 7, count: 16)))
        var epoch: UInt64 = 0
        tenure.apply([.join(handle: "bob")], at: epoch)
        for _ in 0..<MemberTenure.maxStays {
            epoch += 1
            tenure.apply([.leave], at: epoch)
            epoch += 1
            tenure.apply([.join(handle: "bob")], at: epoch)
        }
        #expect(tenure.stays.count == MemberTenure.maxStays && tenure.stay(at: epoch) != nil, "in memory: a member")
        #expect(tenure.stay(at: 0) == nil, "the oldest stay went")
        let stored = try MemberTenure.parse(tenure.encoded)
        #expect(stored == tenure && stored.stay(at: epoch) != nil, "stored: still a member")
    }

    /// While one room's bundle is stored, another room's summary is saved at once, under its own row (a review found
    /// it would be kept as the pending one and saved under the first room's row).
    @Test func anotherRoomsSummaryIsSavedUnderItsOwnRow() throws {
        let k = try KeyringTests.create("alice", passphrase: nil)
        _ = try k.createRoom(name: "a", members: [], deliver: { _ in "a" })
        _ = try k.createRoom(name: "b", members: [], deliver: { _ in "b" })
        let a = try k.room("a").id, b = try k.room("b").id
        try k.write { db in
            let before = try k.storedSummary(db, a)
            var other = try #require(try k.storedSummary(db, b))
            other.isAdmin = false
            try k.storingCommits(db, a) { try k.saveSummary(db, b, other) }
            #expect(try k.storedSummary(db, a) == before, "room a's summary stays")
            #expect(try k.storedSummary(db, b) == other, "room b's summary was saved")
        }
    }
}
