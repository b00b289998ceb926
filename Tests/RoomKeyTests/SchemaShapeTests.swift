import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// The schema check at open: a file's schema must be exactly the one its migrations make.
@Suite(.temporaryFolder) struct SchemaShapeTests {
    typealias Upgrade = SchemaUpgradeStorageTests

    /// The digests cover values in column order, not the tables: columns swapped by name, a key dropped, an index
    /// dropped or added all keep every digest, and each is refused at open by the schema check (current keyrings and
    /// older ones alike), naming the object.
    @Test(arguments: [
        ("ALTER TABLE seen_bundle RENAME COLUMN bundle_tag TO x; ALTER TABLE seen_bundle RENAME COLUMN room_tag TO bundle_tag;"
            + " ALTER TABLE seen_bundle RENAME COLUMN x TO room_tag", "table seen_bundle"),
        ("CREATE TABLE t AS SELECT * FROM contact; DROP TABLE contact; ALTER TABLE t RENAME TO contact;"
            + " CREATE INDEX contact_by_id_tag ON contact(id_tag)", "table contact"),
        ("DROP INDEX contact_by_id_tag", "index contact_by_id_tag"),
        ("CREATE INDEX extra_index ON room(name_tag)", "index extra_index"),
    ])
    func aSchemaChangedOutsideRoomkeyIsRefused(_ edit: (sql: String, names: String)) throws {
        for older in [false, true] {
            let (bob, _, _, _) = try SeenDigestTests.applied()
            let path = bob.path
            if older { try Upgrade.olderByOne(bob) }
            try Upgrade.outside(path, edit.sql)
            #expect(throws: IntegrityError.edited("its schema was changed outside roomkey (\(edit.names))")) { try Upgrade.open(path) }
            if older { #expect(try Upgrade.migrated(path) == false) }
        }
    }

    /// The schema an upgrade leaves is the one a new keyring has.
    @Test func anUpgradedKeyringHasTheSchemaOfANewOne() throws {
        let (path, _, _) = try Upgrade.olderBob()
        let k = try Upgrade.open(path)
        let fresh = try KeyringTests.create(passphrase: nil)
        let upgraded = try k.read { db in try KeyringSchema.objects(db) }
        #expect(upgraded == (try fresh.read { db in try KeyringSchema.objects(db) }))
        #expect(upgraded == (try KeyringSchema.expectedObjects(count: KeyringSchema.migrations.count)))
    }

    /// The digest a current keyring's schema is checked against without a scratch database is the digest of what the
    /// migrations make; a migration that makes a table or index must change it. (`v13-roster-replay`, `v14-head-time`
    /// `v16-epoch-member-changes` and `v17-restored-mark` make none: they change what a `room_epoch`, a `room` and an
    /// `epoch_members` row may hold, and the sealed migration count tells a file without them; `v15-key-generations` makes two tables.)
    @Test func theLatestSchemaDigestIsTheOneTheMigrationsMake() throws {
        let made = try KeyringSchema.expectedObjects(count: KeyringSchema.migrations.count)
        #expect(KeyringSchema.digest(of: made) == KeyringSchema.latestDigest)
        #expect(KeyringSchema.digest(of: Array(made.dropLast())) != KeyringSchema.latestDigest)
        #expect(KeyringSchema.migrations.last?.identifier == "v17-restored-mark")
        let generations = try #require(KeyringSchema.migrations.firstIndex { $0.identifier == "v15-key-generations" })
        #expect(try KeyringSchema.expectedObjects(count: generations + 1) == made)
        let beforeGenerations = try KeyringSchema.expectedObjects(count: generations)
        #expect(KeyringSchema.digest(of: beforeGenerations) != KeyringSchema.latestDigest)
        #expect(try KeyringSchema.expectedObjects(count: generations - 1) == beforeGenerations)
        #expect(try KeyringSchema.expectedObjects(count: generations - 2) == beforeGenerations)
        #expect(try KeyringSchema.expectedObjects(count: generations - 3) != beforeGenerations)
    }

    /// Objects whose names only look like SQLite's own (`_` and case are wildcards to LIKE) are part of the schema.
    @Test(arguments: ["CREATE UNIQUE INDEX sqlitex ON contact_alert(name_tag IS NOT NULL)", "CREATE TABLE Sqlite1 (x)",
                      "PRAGMA writable_schema = ON; CREATE UNIQUE INDEX sqlite_stat1 ON contact_alert(length(name_tag))",
                      "ANALYZE"])
    func objectsNamedLikeSQLitesOwnAreChecked(_ sql: String) throws {
        let k = try KeyringTests.create(passphrase: nil)
        try Upgrade.outside(k.path, sql)
        #expect(throws: IntegrityError.self) { try Upgrade.open(k.path) }
    }

    /// An index whose pages were swapped for an empty one's (its SQL unchanged, the table's rows and digest untouched)
    /// answers lookups with no rows: a bundle seen before would count as new. The check before that decision finds it.
    @Test func anIndexSwappedUnderTheFileIsFoundBeforeADecisionRestsOnIt() throws {
        let (bob, bytes, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        try? bob.db.close()
        try Self.emptyIndexPages(path, index: "sqlite_autoindex_seen_bundle_1", on: "seen_bundle", column: "bundle_tag")
        let reopened = try Upgrade.open(path)
        #expect(throws: IntegrityError.edited("the indexes of seen_bundle do not match its rows")) {
            try SeenDigestTests.receiveAgain(reopened, bytes)
        }
        #expect(throws: IntegrityError.self) { try reopened.verifyRows() }
    }

    /// `room create` from a long members list reads the contact table itself, whose rows the digest checks: an index
    /// whose pages were swapped for an empty one's hides no member from it, and the first lookup that goes through the
    /// index still finds the swap.
    @Test func aLongMembersListReadsTheContactRowsThemselvesAndALookupStillFindsASwappedIndex() throws {
        let k = try KeyringTests.create(passphrase: nil)
        let names = (1...70).map { String(format: "m%03d", $0) }
        _ = try k.addContacts(try names.map { try makeTestCard(handle: $0) }, as: nil)
        let path = k.path
        try? k.db.close()
        try Self.emptyIndexPages(path, index: "sqlite_autoindex_contact_1", on: "contact", column: "name_tag")
        let reopened = try Upgrade.open(path)
        _ = try reopened.createRoom(name: "big", members: names, deliver: { _ in "out" })
        #expect(try reopened.room("big").state.roster.members.count == 71)
        #expect(throws: IntegrityError.edited("the indexes of contact do not match its rows")) {
            _ = try reopened.contact(named: "m001")
        }
    }

    /// Two contacts of one identity (a contact given another's card, as a key change): a lookup by id means the same
    /// one whatever rowids the rows have. The digest does not cover rowids, and renumbering a row from outside made
    /// the other contact the one meant, unseen (a hostile review).
    @Test func anIDOfTwoContactsMeansTheSameOneWhateverTheirRowids() throws {
        let k = try KeyringTests.create(passphrase: nil)
        let first = try makeTestCard(handle: "m1")
        _ = try k.addContacts([first, try makeTestCard(handle: "m2")], as: nil)
        _ = try k.addContacts([first], as: "m2")
        let meant = try k.read { db in try k.fetchContact(db, id: first.id)?.name }
        #expect(meant != nil)
        let path = k.path
        try? k.db.close()
        for _ in 0..<2 {
            try Upgrade.outside(path, "UPDATE contact SET rowid = (SELECT max(rowid) FROM contact) + 1 WHERE rowid = (SELECT min(rowid) FROM contact)")
            let reopened = try Upgrade.open(path)
            #expect(try reopened.read { db in try reopened.fetchContact(db, id: first.id)?.name } == meant)
            try? reopened.db.close()
        }
    }

    /// A trigger another program adds while the keyring is open (after its open checked the schema) stops the next
    /// write before it runs.
    @Test func aTriggerAddedWhileTheKeyringIsOpenStopsTheNextWrite() throws {
        let k = try KeyringTests.create(passphrase: nil)
        try k.write { _ in }
        try Upgrade.outside(k.path, "CREATE TRIGGER rk_x AFTER INSERT ON contact_alert BEGIN DELETE FROM contact_alert; END")
        #expect(throws: IntegrityError.edited("its schema was changed outside roomkey (trigger rk_x)")) {
            _ = try k.addContacts([try makeTestCard(handle: "bob")], as: nil)
        }
    }
}

extension SchemaShapeTests {
    /// PROTOCOL's Appendix A, run block by block in an empty database, makes exactly the schema of a new keyring (an
    /// implementation written from the document alone found two objects the appendix left out, which the schema check
    /// then refused).
    @Test func theProtocolsAppendixMakesTheSchemaOfANewKeyring() throws {
        let doc = try String(contentsOf: fixtureURL("../docs/PROTOCOL.md"), encoding: .utf8)
        let appendix = try #require(doc.range(of: "## Appendix A. Schema")).upperBound
        let blocks = doc[appendix...].components(separatedBy: "```sql\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        #expect(blocks.count >= 14)
        let scratch = try DatabaseQueue()
        try scratch.write { db in for block in blocks { try db.execute(sql: block) } }
        let documented = try scratch.read { db in try KeyringSchema.objects(db) }
        let fresh = try KeyringTests.create(passphrase: nil)
        let actual = try fresh.read { db in try KeyringSchema.objects(db) }
        #expect(documented.map(\.name) == actual.map(\.name))
        #expect(documented == actual)
    }

    /// Gives `index` (on `column` of `table`) the pages of an empty index, its SQL unchanged, from outside roomkey:
    /// the table's rows and digest are untouched, and lookups through the index find nothing.
    static func emptyIndexPages(_ path: String, index: String, on table: String, column: String) throws {
        try Upgrade.outside(path, "CREATE INDEX tmpx ON \(table)(\(column)) WHERE 0")
        let raw = try DatabaseQueue(path: path)
        let pages = try raw.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT name, rootpage FROM sqlite_master WHERE name IN ('tmpx', ?)",
                                                              arguments: [index]).map { ($0[0] as String, $0[1] as Int) })
        }
        try raw.close()
        let (real, empty) = (try #require(pages[index]), try #require(pages["tmpx"]))
        try Upgrade.outside(path, """
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET rootpage = \(empty) WHERE name = '\(index)';
            UPDATE sqlite_master SET rootpage = \(real) WHERE name = 'tmpx';
            PRAGMA writable_schema = OFF
            """)
        try Upgrade.outside(path, "DROP INDEX tmpx")
    }
}
