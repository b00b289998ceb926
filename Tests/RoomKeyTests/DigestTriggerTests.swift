import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// The digest triggers are made in one batch, from one query of every table's columns; `receive` parses its inputs
/// on another thread while the keyring gets ready.
@Suite(.temporaryFolder) struct DigestTriggerTests {
    @Test func oneQueryNamesEveryDigestedTableWithItsColumnsInOrder() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        try keyring.read { db in
            let columns = try Keyring.digestedColumns(db)
            #expect(columns.map(\.table) == (try Keyring.digestedTables(db)))
            #expect(columns.count > 10)
            for (table, names) in columns {
                #expect(names == (try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])))
            }
        }
    }

    @Test func everyDigestedTableHasItsThreeTriggersOverEveryColumnInOrder() throws {
        let path = try KeyringTests.create(passphrase: nil).path
        // A connection of its own, as the next command opens it: its triggers are made by the batch.
        let keyring = try Keyring.open(path: path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
        try keyring.installDigestTriggers()
        #expect(keyring.integrity.triggersReady)
        let (open, sql) = try keyring.db.inDatabase { db in
            (db.isInsideTransaction,
             try Row.fetchAll(db, sql: "SELECT name, sql FROM temp.sqlite_master WHERE type = 'trigger'")
                .reduce(into: [String: String]()) { $0[$1["name"]] = $1["sql"] })
        }
        #expect(!open)
        let tables = try keyring.read { db in try Keyring.digestedTables(db) }
        #expect(Set(sql.keys) == Set(tables.flatMap { t in ["insert", "delete", "update"].map { "rk_digest_\($0)_\(t)" } }))
        for table in tables {
            // The columns as SQLite lists them for this table alone, in order, each passed to the row hash.
            let columns = try keyring.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
            }
            func call(_ which: String) -> String {
                "\(Keyring.rowHashFunction)(" + (["'\(table)'"] + columns.map { "\(which).\"\($0)\"" }).joined(separator: ", ") + ")"
            }
            #expect(sql["rk_digest_insert_\(table)"]?.contains(call("NEW")) == true)
            #expect(sql["rk_digest_delete_\(table)"]?.contains(call("OLD")) == true)
            #expect(sql["rk_digest_update_\(table)"].map { $0.contains(call("OLD")) && $0.contains(call("NEW")) } == true)
        }
        // They record what a write changes: the digests move with the rows and still match them.
        let before = try keyring.read { db in try tables.map { try keyring.computedDigest(db, $0) } }
        _ = try keyring.addContacts([try makeTestCard(handle: "bob")], as: nil)
        #expect(try keyring.verifyRows() == tables.count)
        #expect(try keyring.read { db in try tables.map { try keyring.computedDigest(db, $0) } } != before)
    }

    @Test func theDigestSQLiteComputesIsTheOneReadRowByRow() throws {
        let (alice, bob, _) = try GenerationHistoryTests.pair()
        _ = try alice.encryptBatch(room: "team", plaintexts: [Array("hi".utf8)], deliverBundle: { _ in "unused" })
        for keyring in [alice, bob] {
            try keyring.read { db in
                var filled = 0
                for table in try Keyring.digestedTables(db) {
                    let digest = try keyring.computedDigest(db, table)
                    #expect(digest == (try keyring.rowByRowDigest(db, table)), "\(table)")
                    if digest != .empty { filled += 1 }
                }
                #expect(filled >= 8)
            }
        }
        // Values of every kind hash the same both ways: text with a NUL inside or not UTF-8, reals, empty blobs, NULL.
        try alice.db.write { db in
            try db.execute(sql: """
                CREATE TABLE scratch (t TEXT, r REAL, b BLOB, n INTEGER);
                INSERT INTO scratch VALUES ('a' || char(0) || 'b', 1.5, X'', NULL), (CAST(X'ff00fe' AS TEXT), -0.0, X'00', 7),
                                           (NULL, 1e300, NULL, -9223372036854775808)
                """)
        }
        let (digest, rowByRow) = try alice.read { db in (try alice.computedDigest(db, "scratch"), try alice.rowByRowDigest(db, "scratch")) }
        #expect(digest != .empty)
        #expect(digest == rowByRow)
        // A table added outside roomkey, with a name roomkey would not make, is still read (row by row) and counted.
        try alice.db.write { db in
            try db.execute(sql: "CREATE TABLE \"Odd Name\" (\"a b\" TEXT); INSERT INTO \"Odd Name\" VALUES ('x')")
        }
        let odd = try alice.read { db in try alice.computedDigest(db, "Odd Name") }
        #expect(odd != .empty)
        #expect(throws: IntegrityError.self) { try alice.verifyRows() }
    }

    /// A trigger or view stored in the file is not in the schema the migrations make: the open itself is refused.
    @Test(arguments: [("CREATE TRIGGER keep BEFORE DELETE ON sender_key BEGIN SELECT RAISE(IGNORE); END", "trigger keep"),
                      ("CREATE VIEW peek AS SELECT * FROM contact", "view peek")])
    func aTriggerOrViewStoredInTheFileIsRefusedBeforeAnyWrite(planted: (sql: String, object: String)) throws {
        let path = try KeyringTests.create(passphrase: nil).path
        let outside = try DatabaseQueue(path: path)
        try outside.write { db in try db.execute(sql: planted.sql) }
        try outside.close()
        #expect(throws: IntegrityError.edited("its schema was changed outside roomkey (\(planted.object))")) {
            try Keyring.open(path: path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
        }
        let raw = try DatabaseQueue(path: path)
        #expect(try raw.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM contact") } == 0)
        try raw.close()
    }

    /// The same refusal comes from the keyring's own check before a write, for a trigger planted while it is open.
    @Test func aTriggerPlantedWhileTheKeyringIsOpenIsRefusedBeforeAWrite() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let outside = try DatabaseQueue(path: keyring.path)
        try outside.write { db in try db.execute(sql: "CREATE TRIGGER keep BEFORE DELETE ON sender_key BEGIN SELECT RAISE(IGNORE); END") }
        try outside.close()
        #expect(throws: IntegrityError.self) { try keyring.verifyRows() }
    }

    @Test func aGeneratedColumnAddedOutsideIsSeen() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob")], as: nil)
        try keyring.db.write { db in try db.execute(sql: "ALTER TABLE contact ADD COLUMN g BLOB AS (name_tag) VIRTUAL") }
        let (computed, rowByRow) = try keyring.read { db in (try keyring.computedDigest(db, "contact"), try keyring.rowByRowDigest(db, "contact")) }
        #expect(computed == rowByRow)
        #expect(throws: IntegrityError.self) { try keyring.verifyRows() }
    }

    @Test func theRowHashCannotBeCalledFromTheFilesSchema() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        try keyring.read { db in _ = try keyring.computedDigest(db, "contact") }
        let failed = keyring.db.inDatabase { db in
            Result { try db.execute(sql: "CREATE VIEW leak AS SELECT \(Keyring.rowHashFunction)('contact', 1) AS h; SELECT h FROM leak") }
        }
        #expect(throws: DatabaseError.self) { try failed.get() }
    }

    @Test func aBatchThatFailsIsRolledBackAndKeepsSQLitesCode() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let failed = keyring.db.inDatabase { db in
            Result { try RawBatch.run(db, "CREATE TEMP TABLE half (x); SELECT * FROM no_such_table;") }
        }
        let error = try #require(throws: DatabaseError.self) { try failed.get() }
        #expect(error.resultCode == .SQLITE_ERROR && error.message == "no such table: no_such_table")
        let (open, kept) = try keyring.db.inDatabase { db in
            (db.isInsideTransaction, try Int.fetchOne(db, sql: "SELECT count(*) FROM temp.sqlite_master WHERE name = 'half'"))
        }
        #expect(!open)
        #expect(kept == 0)
    }

    @Test func aBatchRefusesToRunInsideATransactionAndLeavesItAlone() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let (refused, stillOpen, row) = try keyring.db.inDatabase { db in
            try db.execute(sql: "BEGIN; CREATE TEMP TABLE mine (x); INSERT INTO mine VALUES (1)")
            let refused = Result { try RawBatch.run(db, "CREATE TEMP TABLE other (x);") }
            let open = db.isInsideTransaction
            let row = try Int.fetchOne(db, sql: "SELECT x FROM mine")
            try db.execute(sql: "ROLLBACK")
            return (refused, open, row)
        }
        #expect(throws: RawBatch.Failure.insideTransaction) { try refused.get() }
        #expect(stillOpen && row == 1)
    }

    @Test func inputsAreParsedBesideThePreparationEachInItsSlot() throws {
        let bundle = try #require(try Self.someBundle())
        let inputs = [ReceiveInput(path: "leave", bytes: Array("RKL".utf8) + [1, 2, 3]),
                      ReceiveInput(path: "junk", bytes: [0x52, 0x4B, 0x42, 9]),
                      ReceiveInput(path: "bundle", bytes: bundle)]
        var prepared = false
        let slots = try Keyring.parsingBundles(of: ReceiveBatch(inputs)) { prepared = true }
        #expect(prepared)
        #expect(slots.count == 3)
        #expect(slots[0] == nil)
        #expect(throws: WireError.self) { try slots[1]?.get() }
        let parsed = try #require(try slots[2]?.get())
        let direct = try Bundle.parse(bundle)
        #expect(parsed.stanzaHash == direct.stanzaHash && parsed.seenDigest == direct.seenDigest && parsed.recipients == direct.recipients)
        // A preparation that fails is the error, after the parsing thread is done.
        struct Stop: Error {}
        #expect(throws: Stop.self) { _ = try Keyring.parsingBundles(of: ReceiveBatch(inputs)) { throw Stop() } }
    }

    /// A bundle made by a real room creation (alice to bob).
    static func someBundle() throws -> [UInt8]? {
        let alice = try KeyringTests.create(passphrase: nil), bob = try KeyringTests.create("bob", passphrase: nil)
        _ = try alice.addContacts([try bob.identityCard()], as: nil)
        let written = OutboxBundleTests.Written()
        alice.sink = OutboxBundleTests.sink(written)
        _ = try alice.createRoom(name: "team", members: ["bob"], deliver: { _ in "out" })
        return written.files.values.first
    }
}
