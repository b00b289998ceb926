import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Library-level tests of the keyring file: creation, unlocking, integrity, schema checks, passphrase change.
@Suite(.temporaryFolder) struct KeyringTests {
    static let fastKDF = KDFLimits(opsLimit: Argon2id.minOpsLimit, memLimit: Argon2id.minMemLimit)

    /// A new keyring path in the running test's temporary folder (the suite needs `.temporaryFolder`).
    static func tempPath() throws -> String { try temporaryPath("keyring.sqlite") }

    static func secret(_ text: String) -> PassphraseProvider {
        { var bytes = Array(text.utf8); return SecretBytes(consuming: &bytes) }
    }

    static func create(_ handle: String = "alice", passphrase: String? = "correct horse") throws -> Keyring {
        try Keyring.create(path: try tempPath(), handle: handle, passphrase: passphrase.map(secret), limits: fastKDF,
                           random: SystemRandom())
    }

    @Test func createThenOpenWithPassphrase() throws {
        let keyring = try Self.create()
        let card = try keyring.identityCard()
        let reopened = try Keyring.open(path: keyring.path, passphrase: Self.secret("correct horse"), random: SystemRandom())
        #expect(try reopened.identityCard() == card)
        #expect(reopened.isPassphraseProtected)
        let identity = try reopened.identity()
        #expect(identity.card.signingKey == identity.signing.publicKey)
    }

    @Test func wrongPassphraseIsLocked() throws {
        let keyring = try Self.create()
        #expect(throws: KeyringError.wrongPassphrase) {
            try Keyring.open(path: keyring.path, passphrase: Self.secret("wrong"), random: SystemRandom())
        }
    }

    @Test func unprotectedKeyringNeverAsksForAPassphrase() throws {
        let keyring = try Self.create(passphrase: nil)
        let reopened = try Keyring.open(path: keyring.path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
        #expect(!reopened.isPassphraseProtected)
    }

    @Test func createRefusesAnExistingFile() throws {
        let keyring = try Self.create()
        #expect(throws: KeyringError.alreadyExists(path: keyring.path)) {
            try Keyring.create(path: keyring.path, handle: "x", passphrase: nil, random: SystemRandom())
        }
    }

    @Test func fileAndFolderArePrivate() throws {
        let keyring = try Self.create()
        let fm = FileManager.default
        let fileMode = try fm.attributesOfItem(atPath: keyring.path)[.posixPermissions] as? Int
        let dirMode = try fm.attributesOfItem(atPath: (keyring.path as NSString).deletingLastPathComponent)[.posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(dirMode == 0o700)
    }

    @Test func foreignFilesAreNotKeyrings() throws {
        let path = try Self.tempPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("just some text, not SQLite at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: KeyringError.notAKeyring(path: path)) { try Keyring.open(path: path, passphrase: Self.secret("x"), random: SystemRandom()) }
        let other = try Self.tempPath()
        try FileManager.default.createDirectory(atPath: (other as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try DatabaseQueue(path: other).write { try $0.execute(sql: "CREATE TABLE t (x)") }
        #expect(throws: KeyringError.notAKeyring(path: other)) { try Keyring.open(path: other, passphrase: Self.secret("x"), random: SystemRandom()) }
    }

    @Test func newerSchemaIsRefused() throws {
        let keyring = try Self.create(passphrase: nil)
        try DatabaseQueue(path: keyring.path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')")
        }
        #expect(throws: KeyringError.newerSchema(path: keyring.path, unknown: ["v99-future"])) {
            try Keyring.open(path: keyring.path, passphrase: Self.secret("x"), random: SystemRandom())
        }
    }

    /// A header edited to limits out of range or to a short salt is refused before the passphrase is asked for.
    @Test(arguments: ["ops_limit = 1000", "mem_limit = 1099511627776", "ops_limit = -1", "salt = x'00'"])
    func anEditedHeaderIsRefusedBeforeThePassphrase(edit: String) throws {
        let keyring = try Self.create(passphrase: "correct horse")
        let path = keyring.path
        _ = consume keyring
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "UPDATE keyring_header SET \(edit)") }
        var asked = false
        #expect(throws: KeyringError.self) {
            try Keyring.open(path: path, passphrase: { asked = true; return try Self.secret("correct horse")() }, random: SystemRandom())
        }
        #expect(!asked)
    }

    @Test func swappedOrEditedRowsFailIntegrity() throws {
        let keyring = try Self.create(passphrase: nil)
        let bob = try makeTestCard(handle: "bob"), carol = try makeTestCard(handle: "carol")
        _ = try keyring.addContacts([bob, carol], as: nil)
        // Swap the sealed payloads of the two contact rows: each is bound to its own primary key.
        try DatabaseQueue(path: keyring.path).write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name_tag, sealed FROM contact")
            try db.execute(sql: "UPDATE contact SET sealed = ? WHERE name_tag = ?", arguments: [rows[1]["sealed"] as Data, rows[0]["name_tag"] as Data])
        }
        let reopened = try Keyring.open(path: keyring.path, passphrase: Self.secret("x"), random: SystemRandom())
        // The table's digest catches the swap before any row is opened; under it, each row is bound to its own key.
        #expect(throws: IntegrityError.edited("rows of contact were added, deleted or changed outside roomkey")) { try reopened.contacts() }
        let sealed = try DatabaseQueue(path: keyring.path).read { db in try Row.fetchAll(db, sql: "SELECT name_tag, sealed FROM contact") }
        #expect(throws: KeyringError.integrityFailure(table: "contact")) {
            _ = try (sealed[0]["sealed"] as Data).withUnsafeBytes {
                try reopened.rows.open(raw: $0, table: "contact", primaryKey: Array(sealed[0]["name_tag"] as Data))
            }
        }

        try DatabaseQueue(path: keyring.path).write { db in
            // Change byte 21 to a different value whatever it was.
            try db.execute(sql: """
                UPDATE identity SET sealed = substr(sealed, 1, 20)
                    || CASE WHEN substr(sealed, 21, 1) = x'00' THEN x'01' ELSE x'00' END || substr(sealed, 22)
                """)
        }
        // The table's digest sees the edit first; the row's own seal refuses it as well.
        #expect(throws: IntegrityError.edited("rows of identity were added, deleted or changed outside roomkey")) { try reopened.identity() }
        let identity = try #require(try DatabaseQueue(path: keyring.path).read { db in try Data.fetchOne(db, sql: "SELECT sealed FROM identity") })
        #expect(throws: KeyringError.integrityFailure(table: "identity")) { _ = try reopened.openIdentity(Array(identity)) }
    }

    @Test func changingThePassphraseKeepsTheRows() throws {
        let keyring = try Self.create()
        let card = try keyring.identityCard()
        try keyring.changePassphrase(to: Self.secret("new phrase"), limits: Self.fastKDF)
        #expect(throws: KeyringError.wrongPassphrase) {
            try Keyring.open(path: keyring.path, passphrase: Self.secret("correct horse"), random: SystemRandom())
        }
        let reopened = try Keyring.open(path: keyring.path, passphrase: Self.secret("new phrase"), random: SystemRandom())
        #expect(try reopened.identityCard() == card)
        #expect(throws: KeyringError.emptyPassphrase) { try reopened.changePassphrase(to: Self.secret(""), limits: Self.fastKDF) }
    }

    @Test func temporaryTablesAndJournalsStayInMemory() throws {
        let keyring = try Self.create(passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob")], as: nil)
        // 2 is MEMORY: the digest triggers' delta table and the statement journals never become files in /var/tmp.
        #expect(try keyring.write { try Int.fetchOne($0, sql: "PRAGMA temp_store") } == 2)
        #expect(try keyring.read { try Int.fetchOne($0, sql: "PRAGMA temp_store") } == 2)
    }

    @Test func largeBlobsAreStoredExactlyAsBound() throws {
        let keyring = try Self.create(passphrase: nil)
        let big = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        for blob in [[], [0], big] {
            let back = try keyring.db.write { db in
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS t (k INTEGER, v BLOB); DELETE FROM t")
                try db.executeWithLargeBlob("INSERT INTO t (k, v) VALUES (?, ?)", [7], blob: blob)
                return try Row.fetchOne(db, sql: "SELECT k, v FROM t")
            }
            #expect(back?["k"] == 7)
            #expect((back?["v"] as Data?).map(Array.init) ?? [] == blob)
        }
    }

    @Test func databaseHoldsNoPlainMetadata() throws {
        let keyring = try Self.create("alice-handle-xyz", passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob-handle-xyz")], as: "bobs-name-xyz")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: keyring.path)) + ((try? Data(contentsOf: URL(fileURLWithPath: keyring.path + "-wal"))) ?? Data())
        for needle in ["alice-handle-xyz", "bob-handle-xyz", "bobs-name-xyz"] {
            #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(needle) found in clear")
        }
    }
}
