import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Inputs read ahead for one recipient (`ReceiveInput(path:read:retainingFor:reload:)`): a bundle that waits is kept
/// whole by reading its file again, and only if the file still holds the bundle that was checked.
@Suite(.temporaryFolder) struct ReadAheadInputTests {
    typealias G = GenerationHistoryTests

    /// alice adds carol (epoch 1) and rotates; bob gets the rotation first, read ahead: it waits.
    static func early() throws -> (bob: Keyring, written: OutboxBundleTests.Written, me: IdentityID) {
        let (alice, bob, written) = try G.pair()
        let carol = try KeyringTests.create("carol", passphrase: nil)
        _ = try alice.addContacts([try carol.identityCard()], as: nil)
        _ = try alice.change(room: "team", [.add(["carol"])], deliver: { _ in "add" })
        try G.rotate(alice, "rot")
        return (bob, written, try bob.identityCard().id)
    }

    static func ahead(_ written: OutboxBundleTests.Written, _ name: String, for me: IdentityID, reload: String) throws -> ReceiveInput {
        let bytes = try #require(written.files[name])
        let again = try #require(written.files[reload])
        return ReceiveInput(path: name, read: ReceiveInput(path: name, bytes: bytes), retainingFor: me, reload: { again })
    }

    @Test func aBundleThatWaitsIsKeptWholeAndAppliesLater() throws {
        let (bob, written, me) = try Self.early()
        let first = try bob.receive([try Self.ahead(written, "rot", for: me, reload: "rot")], deliver: { _ in "bob-out" })
        #expect(first.map(\.status) == [.pending])
        #expect(try bob.pendingBundles().map(\.bytes) == [try #require(written.files["rot"])])
        let second = try bob.receive([try Self.ahead(written, "add", for: me, reload: "add")], deliver: { _ in "bob-out" })
        #expect(second.map(\.status) == [.applied, .applied])
    }

    /// The file changed between the read and the store: the input is malformed, nothing is kept.
    @Test func aBundleWhoseFileChangedIsNotKept() throws {
        let (bob, written, me) = try Self.early()
        let results = try bob.receive([try Self.ahead(written, "rot", for: me, reload: "add")], deliver: { _ in "bob-out" })
        #expect(results.map(\.status) == [.malformed])
        #expect(results.first?.error?.message == "the file changed while it was being received")
        #expect(try bob.pendingBundles().isEmpty)
    }

    /// A file that cannot be read again (any error) is malformed, and the run goes on (found by review: an error of
    /// another kind ended the run after earlier bundles were applied).
    @Test func aBundleThatCannotBeReadAgainIsMalformedAndTheRunGoesOn() throws {
        let (bob, written, me) = try Self.early()
        let bytes = try #require(written.files["rot"])
        let gone = ReceiveInput(path: "rot", read: ReceiveInput(path: "rot", bytes: bytes), retainingFor: me,
                                reload: { throw POSIXError(.EIO) })
        let results = try bob.receive([gone], deliver: { _ in "bob-out" })
        #expect(results.map(\.status) == [.malformed])
        #expect(results.first?.error?.message.hasPrefix("the file could not be read again to keep it") == true)
        #expect(try bob.pendingBundles().isEmpty)
    }

    /// For a keyring that still holds whole-file digests the hash is made as the file is read, so the room's check
    /// never reads it again (found by review: it was read again inside the write, and a file gone by then ended the run).
    @Test func theWholeFileHashIsMadeAsTheFileIsRead() throws {
        let (_, written, me) = try Self.early()
        let bytes = try #require(written.files["rot"])
        let input = ReceiveInput(path: "rot", read: ReceiveInput(path: "rot", bytes: bytes), retainingFor: me, hashingWhole: true,
                                 reload: { throw POSIXError(.ENOENT) })
        #expect(try Keyring.WholeFileHash().of(input) == BLAKE2b.hash([bytes]))
    }
}
