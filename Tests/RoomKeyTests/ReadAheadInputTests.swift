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
        #expect(results.first?.error?.message == "rot changed while it was being received")
        #expect(try bob.pendingBundles().isEmpty)
    }
}
