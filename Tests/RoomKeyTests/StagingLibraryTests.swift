import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Review finding H2: the library's membership calls never commit directly in a room with a git remote; the change is
/// staged (with its base and subjects) for `sync`, and a remote with staged changes is not removed without `force`.
@Suite(.temporaryFolder) struct StagingLibraryTests {
    /// alice's keyring with a room "team" (alice, bob, carol, bob an admin) and contact dave, and a remote "origin".
    static func keyring() throws -> (Keyring, [String: IdentityCard]) {
        let keyring = try KeyringTests.create(passphrase: nil)
        var cards: [String: IdentityCard] = [:]
        for name in ["bob", "carol", "dave"] { cards[name] = try makeTestCard(handle: name) }
        _ = try keyring.addContacts(cards.values.sorted { $0.handle < $1.handle }, as: nil)
        _ = try keyring.createRoom(name: "team", members: ["bob", "carol"], deliver: { _ in "out" })
        _ = try keyring.change(room: "team", [.promote("bob")], deliver: { _ in "out" })
        _ = try keyring.addRemote(name: "origin", url: "file:///nonexistent/remote.git")
        return (keyring, cards)
    }

    @Test func changeChangeIfNeededAndLeaveStageInARoomWithARemote() throws {
        let (keyring, cards) = try Self.keyring()
        let before = try keyring.room("team").state
        var written = 0
        let added = try keyring.change(room: "team", [.add(["dave"])], deliver: { _ in written += 1; return "out" })
        #expect(added.stagedFor == "origin")
        let removed = try keyring.changeIfNeeded(room: "team", [.removeIfPresent(["carol"])], deliver: { _ in written += 1; return "out" })
        #expect(removed.commit?.stagedFor == "origin")
        let left = try keyring.leave(room: "team", deliver: { _ in written += 1; return "out" })
        #expect(left.stagedFor == "origin")
        #expect(written == 0, "no bundle is written for a staged change")
        let after = try keyring.room("team").state
        #expect(after.epoch == before.epoch && after.head == before.head)
        let staged = try keyring.stagedIntents()
        #expect(staged.map(\.operations) == [[.add(try #require(cards["dave"]))], [.remove(try #require(cards["carol"]).id)], [.leave]])
        // Each intent records its base and what it is about.
        #expect(staged.allSatisfy { $0.base?.epoch == before.epoch && $0.base?.head == before.head })
        #expect(staged.first?.subjects == [try #require(cards["dave"]).id])
        // A change the staged ones make impossible is refused now.
        #expect(throws: (any Error).self) { try keyring.change(room: "team", [.add(["dave"])], deliver: { _ in "out" }) }
    }

    @Test func removingARemoteWithStagedChangesNeedsForce() throws {
        let (keyring, _) = try Self.keyring()
        _ = try keyring.change(room: "team", [.add(["dave"])], deliver: { _ in "out" })
        #expect(throws: StagedChangesError.staged(room: "team", remote: "origin", intents: 1, flight: false)) {
            try keyring.removeRemote(name: "origin")
        }
        _ = try keyring.addRemote(name: "other", url: "file:///nonexistent/other.git")
        #expect(throws: StagedChangesError.staged(room: "team", remote: "origin", intents: 1, flight: false)) {
            try keyring.setRemote(room: "team", remote: "other")
        }
        _ = try keyring.removeRemote(name: "origin", force: true)
        #expect(try keyring.stagedIntents().isEmpty)
        #expect(try keyring.auditEntries().contains { $0.detail.contains("1 staged change(s) deleted (--force)") })
    }

    /// Every membership command asks `stage` first; in a room without a remote that question must not cost a write
    /// transaction (a write-count bump, its digests and fsyncs) before the direct path's own.
    @Test func stagingARoomWithoutARemoteWritesNothing() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob"), try makeTestCard(handle: "carol")], as: nil)
        _ = try keyring.createRoom(name: "team", members: ["bob"], deliver: { _ in "out" })
        let before = keyring.committedWrites
        #expect(try keyring.stage(room: "team", [.add(["carol"])]) == nil)
        #expect(keyring.committedWrites == before, "stage wrote to the keyring")
        // An unknown room is still refused, as the write did.
        #expect(throws: (any Error).self) { try keyring.stage(room: "nope", [.add(["carol"])]) }
        // The direct path then commits once.
        _ = try keyring.change(room: "team", [.add(["carol"])], deliver: { _ in "out" })
        #expect(keyring.committedWrites == before + 1)
    }
}
