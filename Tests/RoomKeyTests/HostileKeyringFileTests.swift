import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Keyring files made hostile by someone who can write the keyring's folder or hands over a backup (a hostile review):
/// refused before they can keep a command busy for ever.
@Suite(.temporaryFolder) struct HostileKeyringFileTests {
    typealias Upgrade = SchemaUpgradeStorageTests

    /// A view stored under the name of a table read before the schema check (`grdb_migrations`), as an endless
    /// recursive query: refused before it is read (it spun at full CPU until killed).
    @Test(.timeLimit(.minutes(5))) func aViewUnderATableNameIsRefusedBeforeItRuns() async throws {
        let path = try KeyringTests.create(passphrase: nil).path
        try Upgrade.outside(path, """
            ALTER TABLE grdb_migrations RENAME TO kept_migrations;
            CREATE VIEW grdb_migrations AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
                SELECT 'v1' AS identifier FROM c WHERE x < 0;
            """)
        #expect(throws: IntegrityError.edited("its schema was changed outside roomkey (view grdb_migrations)")) { try Upgrade.open(path) }
    }

    /// A FIFO at the keyring's path is not a keyring: refused at once (opening it waited for a writer for ever).
    @Test(.timeLimit(.minutes(5))) func aFifoAtTheKeyringPathIsRefusedAtOnce() async throws {
        let path = try temporaryPath("keyring.sqlite")
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(mkfifo(path, 0o600) == 0)
        #expect(throws: KeyringError.unreadable(path: path, reason: "not a regular file")) { try Upgrade.open(path) }
    }
}
