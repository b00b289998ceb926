import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A restore never replaces a keyring that another command has open (a hostile review: a `room remove` that had the
/// keyring open across a `restore --force` committed into the replaced file, sent its bundle anyway, and left a write
/// count that locked the restored keyring out as rolled back).
@Suite(.temporaryFolder) struct RestoreInUseTests {
    @Test func aKeyringOpenElsewhereIsNotReplaced() throws {
        let made = try KeyringTests.create(passphrase: nil)
        let path = made.path
        let backup = try SchemaUpgradeStorageTests.pathInNewFolder("backup.sqlite")
        try made.backup(to: backup)
        let (bob, carol) = (try KeyringTests.create("bob", passphrase: nil), try KeyringTests.create("carol", passphrase: nil))
        _ = try made.addContacts([try bob.identityCard()], as: "bob")
        let noPassphrase: PassphraseProvider = { throw KeyringError.passphraseRequired }
        var user: Keyring? = try Keyring.open(path: path, passphrase: noPassphrase, random: SystemRandom())
        #expect(throws: RestoreError.keyringInUse(path: path)) {
            _ = try Keyring.restore(from: backup, to: path, force: true, passphrase: noPassphrase, random: SystemRandom())
        }
        // Nothing was restored: the open keyring still writes to the file at the path.
        let before = try #require(user).read { db in try user?.writeCount(db) }
        _ = try user?.addContacts([try carol.identityCard()], as: "carol")
        let reopened = try Keyring.open(path: path, passphrase: noPassphrase, random: SystemRandom())
        #expect(try reopened.read { db in try reopened.writeCount(db) } == (before ?? 0) + 1)
        #expect(try reopened.contacts().map(\.name).sorted() == ["bob", "carol"])
        // Once every other user has closed it, the restore goes ahead.
        let card = try made.identityCard()
        user = nil
        _ = consume reopened
        _ = consume made
        let restored = try Keyring.restore(from: backup, to: path, force: true, passphrase: noPassphrase, random: SystemRandom())
        #expect(try restored.identityCard() == card)
    }

    /// A command that waited for the write lock past the busy timeout says so, instead of SQLite's "database is locked".
    @Test func aBusyKeyringIsNamed() {
        let error = Keyring.diagnosed(DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked"), path: "/k", while: "x")
        #expect(error as? KeyringError == .busy(path: "/k", seconds: 30))
        #expect((error as? KeyringError)?.category == .failure)
    }
}
