import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Upgrading an older keyring at open (`Keyring.upgradeSchema`): its rows are checked against its sealed digests before
/// any migration runs, in the transaction that migrates them and seals new digests, so that an edit made to an older
/// keyring is never laundered into digests computed over the migrated rows.
@Suite(.temporaryFolder) struct SchemaUpgradeStorageTests {
    static let last = "v15-key-generations"

    /// Turns `k`'s file into a keyring as the roomkey before `v12-seen-digest` left it (see `olderSchema`): without the
    /// last four migrations (`v13-roster-replay` and `v14-head-time` make no table, so `seen_bundle_whole` tells whether
    /// `v12` ran, and `retired_key` whether `v15` did).
    static func olderByOne(_ k: Keyring) throws {
        try olderSchema(k, keeping: try beforeSeenDigest(), dropping: ["seen_bundle_whole"])
    }

    /// How many migrations come before `v12-seen-digest` (the last to move rows from one table to another).
    static func beforeSeenDigest() throws -> Int {
        try #require(KeyringSchema.migrations.firstIndex { $0.identifier == "v12-seen-digest" })
    }

    /// Turns `k`'s file into a keyring as the roomkey with only the first `count` migrations left it: the tables the
    /// later ones made dropped (they must be empty, so the sealed digests stay true), those migrations unlisted, and the
    /// sealed write counter counting `count`. `k` must not be used afterwards.
    static func olderSchema(_ k: Keyring, keeping count: Int, dropping tables: [String]) throws {
        var tables = tables
        if !KeyringSchema.migrations.prefix(count).contains(where: { $0.identifier == "v15-key-generations" }) {
            try forgetGenerationRows(k)
            tables += ["sender_key_head", "retired_key"]
        }
        for table in tables { #expect(try Self.count(k.path, table) == 0, "\(table)") }
        if !KeyringSchema.migrations.prefix(count).contains(where: { $0.identifier == "v14-head-time" }) {
            try forgetHeadTimes(k)
        }
        var counter = try #require(try k.read { db in try k.writeCounter(db) })
        #expect(counter.migrations == KeyringSchema.migrations.count)
        counter.migrations = count
        let sealed = try k.rows.seal(record: counter, table: "write_counter", primaryKey: Keyring.writeCounterKey)
        let later = KeyringSchema.migrations.dropFirst(count).map { "'\($0.identifier)'" }.joined(separator: ", ")
        try outside(k.path, tables.map { "DROP TABLE \($0);" }.joined() + """
            DELETE FROM grdb_migrations WHERE identifier IN (\(later));
            UPDATE write_counter SET sealed = x'\(Hex.encode(sealed))' WHERE id = 1
            """)
    }

    /// Empties the tables of `v15-key-generations` through the keyring (one write, so the row digests stay true): the
    /// keys they record as superseded are then listed by no one, as if stored before the lists were kept. No write when
    /// both are empty.
    static func forgetGenerationRows(_ k: Keyring) throws {
        let rows = try k.read { db in try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM sender_key_head) + (SELECT count(*) FROM retired_key)") }
        if rows == 0 { return }
        try k.write { db in
            try db.execute(sql: "DELETE FROM sender_key_head; DELETE FROM retired_key")
        }
    }

    /// Rewrites every room row without its head's time, as a roomkey before `v14-head-time` wrote it (through the
    /// keyring, in one write, so the row digests stay true); no write when no row holds one.
    static func forgetHeadTimes(_ k: Keyring) throws {
        func records(_ db: Database) throws -> [RoomRecord] {
            try Row.fetchAll(db, sql: "SELECT room_tag, sealed FROM room").map { row in
                try k.openRoomRecord(try row.blob("sealed", table: "room"), tag: try row.blob("room_tag", table: "room"))
            }.filter { $0.headTime != nil }
        }
        guard try !k.read(records).isEmpty else { return }
        try k.write { db in
            for var record in try records(db) {
                record.headTime = nil
                try k.saveRecord(db, record)
            }
        }
    }

    /// Runs `sql` on the file through a connection of its own, as anyone with the file could.
    static func outside(_ path: String, _ sql: String) throws {
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in try db.execute(sql: sql) }
        try raw.close()
    }

    /// Runs the migrations the file lacks through GRDB's migrator on a connection of its own, without the keyring key.
    static func migrateOutside(_ path: String) throws {
        let raw = try DatabaseQueue(path: path)
        try KeyringSchema.migrator.migrate(raw)
        try raw.close()
    }

    static func count(_ path: String, _ table: String) throws -> Int {
        let raw = try DatabaseQueue(path: path)
        defer { try? raw.close() }
        return try raw.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }

    /// Whether the file lists the last migration, and whether its table exists: both or neither.
    static func migrated(_ path: String) throws -> Bool {
        let raw = try DatabaseQueue(path: path)
        defer { try? raw.close() }
        let (listed, table) = try raw.read { db in
            (try KeyringSchema.migrator.appliedIdentifiers(db).contains(last), try db.tableExists("retired_key"))
        }
        #expect(listed == table)
        return listed
    }

    static func pathInNewFolder(_ name: String) throws -> String {
        let path = try temporaryPath(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return path
    }

    static func open(_ path: String) throws -> Keyring {
        try Keyring.open(path: path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
    }

    /// bob, who has applied a rotation (rows in `seen_bundle`, `room_bundle`, `sender_key`...), as an older keyring.
    static func olderBob() throws -> (path: String, seen: Set<[UInt8]>, writes: UInt64) {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let seen = try SeenDigestTests.seenTags(bob)
        #expect(!seen.isEmpty)
        try forgetHeadTimes(bob)
        try forgetGenerationRows(bob)
        let writes = try bob.read { db in try bob.writeCount(db) }
        try olderByOne(bob)
        return (bob.path, seen, writes)
    }

    @Test func anIntactOlderKeyringIsCheckedMigratedAndSealedInOneWrite() throws {
        let (path, seen, writes) = try Self.olderBob()
        #expect(try Self.migrated(path) == false)
        let k = try Self.open(path)
        #expect(try Self.migrated(path))
        #expect(try SeenDigestTests.seenTags(k, table: "seen_bundle_whole") == seen)
        #expect(try SeenDigestTests.seenTags(k).isEmpty)
        let counter = try #require(try k.read { db in try k.writeCounter(db) })
        // The upgrade is one write; each room's epoch member rows are then written again in one write of its own
        // (`v16-epoch-member-changes` lists every room).
        let rooms = try #require(try k.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM room") })
        #expect(counter.migrations == KeyringSchema.migrations.count && counter.count == writes + 1 + UInt64(rooms))
        #expect(try k.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM epoch_members_backfill") } == 0)
        #expect(try k.verifyRows() > 0)
        #expect(try k.read { db in try k.schemaUpgrade(db) } == .upToDate)
    }

    /// Rows deleted from an older keyring (its record of applied bundles, a stored commit) are found before the
    /// migrations run, and the file stays as it was: not migrated, its rows untouched.
    @Test(arguments: ["DELETE FROM seen_bundle", "DELETE FROM room_bundle WHERE rowid = (SELECT min(rowid) FROM room_bundle)"])
    func editsToAnOlderKeyringAreFoundBeforeItIsMigrated(_ edit: String) throws {
        let (path, _, _) = try Self.olderBob()
        try Self.outside(path, edit)
        #expect(throws: IntegrityError.self) { try Self.open(path) }
        #expect(try Self.migrated(path) == false)
        #expect(throws: IntegrityError.self) { try Self.open(path) }
    }

    /// The passphrase comes before any migration: a wrong one leaves an older keyring exactly as it was.
    @Test func aWrongPassphraseLeavesAnOlderKeyringUnmigrated() throws {
        let k = try KeyringTests.create(passphrase: "correct horse")
        let path = k.path
        try Self.olderByOne(k)
        #expect(throws: KeyringError.wrongPassphrase) {
            try Keyring.open(path: path, passphrase: KeyringTests.secret("wrong"), random: SystemRandom())
        }
        #expect(try Self.migrated(path) == false)
        _ = try Keyring.open(path: path, passphrase: KeyringTests.secret("correct horse"), random: SystemRandom())
        #expect(try Self.migrated(path))
    }

    /// A file migrated by someone else (or by an earlier roomkey that ended before its first write): the rows the
    /// migration moved must be exactly the ones sealed where they were, every other table must match its digest.
    @Test func aKeyringMigratedOutsideRoomkeyIsSettledWhenNothingElseChanged() throws {
        let (path, seen, _) = try Self.olderBob()
        try Self.migrateOutside(path)
        let k = try Self.open(path)
        #expect(try SeenDigestTests.seenTags(k, table: "seen_bundle_whole") == seen)
        #expect(try k.verifyRows() > 0)
    }

    @Test(arguments: ["DELETE FROM seen_bundle_whole WHERE rowid = (SELECT min(rowid) FROM seen_bundle_whole)",
                      "INSERT INTO seen_bundle (bundle_tag, room_tag) SELECT bundle_tag, room_tag FROM seen_bundle_whole LIMIT 1",
                      "DELETE FROM room_bundle WHERE rowid = (SELECT min(rowid) FROM room_bundle)",
                      "DELETE FROM sender_key WHERE rowid = (SELECT min(rowid) FROM sender_key)"])
    func aKeyringMigratedAndEditedOutsideRoomkeyIsRefused(_ edit: String) throws {
        let (path, _, _) = try Self.olderBob()
        try Self.migrateOutside(path)
        try Self.outside(path, edit)
        #expect(throws: IntegrityError.self) { try Self.open(path) }
    }

    /// A backup from an older roomkey is checked before it is migrated, too: an edited one is not restored.
    @Test func anEditedOlderBackupIsNotRestored() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let backup = try Self.pathInNewFolder("bob.backup"), target = try temporaryPath("restored.sqlite")
        try bob.backup(to: backup)
        let copy = try Self.open(backup)
        try Self.olderByOne(copy)
        try? copy.db.close()
        try Self.outside(backup, "DELETE FROM seen_bundle")
        #expect(throws: RestoreError.self) {
            try Keyring.restore(from: backup, to: target, force: false, passphrase: { throw KeyringError.passphraseRequired },
                                random: SystemRandom())
        }
        #expect(!FileManager.default.fileExists(atPath: target))
        // Unedited, the same older backup is restored and upgraded.
        let clean = try Self.pathInNewFolder("clean.backup")
        try bob.backup(to: clean)
        let other = try Self.open(clean)
        try Self.olderByOne(other)
        try? other.db.close()
        let restored = try Keyring.restore(from: clean, to: target, force: false,
                                           passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
        #expect(try restored.verifyRows() > 0)
        #expect(try Self.migrated(target))
    }

    /// Migrations run outside roomkey up to one that is not the last: only the rules of those that ran apply (`v11`
    /// relists and clears); the last (`v12`, which moves rows) then runs as usual, over checked rows.
    @Test func aKeyringMigratedOutsideRoomkeyPartWayIsSettledThenMigrated() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        let seen = try SeenDigestTests.seenTags(bob)
        try Self.olderSchema(bob, keeping: try Self.beforeSeenDigest(), dropping: ["seen_bundle_whole"])
        let raw = try DatabaseQueue(path: path)
        try KeyringSchema.migrator.migrate(raw, upTo: "v11-tenure-order")
        try raw.close()
        let k = try Self.open(path)
        #expect(try Self.migrated(path))
        #expect(try SeenDigestTests.seenTags(k, table: "seen_bundle_whole") == seen)
        #expect(try k.verifyRows() > 0)
    }
}
