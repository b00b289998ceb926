import Foundation
import GRDB
import Testing

/// Issue 11, finding 3: tables outside the sealed rows used to decide things. Each test edits the SQLite file as
/// someone with write access but without the keyring key would, and checks that roomkey refuses ("keyring was edited",
/// exit 2) instead of deciding from the edited rows.
@Suite struct SealedStateCLITests {
    static let t0: UInt64 = 2_000_000_000
    static let hour: UInt64 = 3_600

    /// Runs `sql` on `who`'s keyring file directly, then closes it (no write-ahead log is left behind).
    static func edit(_ w: RoomWorld, _ who: String, _ sql: String) throws {
        let db = try DatabaseQueue(path: w.s.keyring(who))
        try db.write { try $0.execute(sql: sql) }
        try db.close()
    }

    static func expectEdited(_ r: Run, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.code == 2, "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("roomkey: error: keyring was edited: "), "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(what), "\(r)", sourceLocation: sourceLocation)
    }

    @Test func deletedKeyChangeAlertsDoNotLetARotationSealToAChangedContact() throws {
        let w = try MembershipCLITests.world()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.exchange()
        try MembershipCLITests.changeKey(w, "carol")
        // Another admin swaps carol's new key into the room; alice has not verified or accepted it.
        let card = try w.rk("carol", ["id", "export"]).stdout
        #expect(try w.rk("bob", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        let removed = try w.rk("bob", ["room", "remove", "team", "carol"])
        #expect(removed.code == 0, "\(removed)")
        #expect(try w.rk("bob", ["room", "add", "team", "carol"]).code == 0)
        #expect(try w.rk("alice", ["receive"] + (try w.bundles())).code == 0)
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 6)
        try Self.edit(w, "alice", "DELETE FROM contact_alert")
        let before = try w.bundles()
        Self.expectEdited(try w.rk("alice", ["room", "rotate", "team"]), "rows of contact_alert")
        #expect(try w.bundles() == before)
        Self.expectEdited(try w.rk("alice", ["audit", "--verify"]), "rows of contact_alert")
    }

    @Test func randomisedRetentionTagsStopPruneInsteadOfKeepingKeys() throws {
        let (t0, hour) = (Self.t0, Self.hour)
        let w = try RoomWorld.team(["bob", "carol"], now: t0)
        #expect(try w.run("alice", ["room", "add", "team", "dave"], now: t0 + hour).code == 0)
        try w.exchange(["alice", "bob", "carol", "dave"], now: t0 + hour)
        let late = t0 + hour + 73 * hour
        // An untouched copy of bob's keyring deletes the superseded keys of epoch 0.
        let copy = w.s.path("bob-copy/keyring.sqlite")
        try FileManager.default.createDirectory(atPath: w.s.path("bob-copy"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.copyItem(atPath: w.s.keyring("bob"), toPath: copy)
        chmod(copy, 0o600)
        let control = try w.s.roomkey("bob", ["prune", "--json"],
                                      env: ["ROOMKEY_KEYRING": copy, "XDG_STATE_HOME": w.s.path("state-copy"), "ROOMKEY_TEST_NOW": String(late)])
        #expect(control.code == 0, "\(control)")
        let deleted = try #require(try control.json()["deleted_sender_keys"] as? Int)
        #expect(deleted >= 3)

        try Self.edit(w, "bob", "UPDATE sender_key SET epoch_tag = randomblob(32), owner_tag = randomblob(32)")
        let keysBefore = try Self.count(w, "bob", "sender_key")
        Self.expectEdited(try w.run("bob", ["prune", "--json"], now: late), "rows of sender_key")
        #expect(try Self.count(w, "bob", "sender_key") == keysBefore)
    }

    @Test func deletedSenderKeysAndSeenBundlesDoNotReopenAReadMessage() throws {
        let w = try RoomWorld.team(["bob"])
        let message = try w.send("alice", Array("read once".utf8))
        #expect(try w.receiveMessage("bob", message).1 == Array("read once".utf8))
        // Reading it again is refused: its iteration is used.
        #expect(try w.receiveMessage("bob", message).1 == nil)
        try Self.edit(w, "bob", "DELETE FROM sender_key; DELETE FROM seen_bundle")
        let again = try w.rk("bob", ["receive"] + (try w.bundles()))
        Self.expectEdited(again, "rows of")
        let (read, plain) = try w.receiveMessage("bob", message)
        #expect(plain == nil)
        Self.expectEdited(read, "rows of sender_key")
    }

    /// Used iterations live in the sealed sender-key row; putting back an older copy of that row (which still opens:
    /// same table, same key) would make a read message readable again.
    @Test func anOlderCopyOfASenderKeyRowDoesNotReopenAReadMessage() throws {
        let w = try RoomWorld.team(["bob"])
        let message = try w.send("alice", Array("read once".utf8))
        let before = w.s.path("bob-before.sqlite")
        try FileManager.default.copyItem(atPath: w.s.keyring("bob"), toPath: before)
        #expect(try w.receiveMessage("bob", message).1 == Array("read once".utf8))
        try Self.edit(w, "bob", "ATTACH '\(before)' AS old; DELETE FROM sender_key; INSERT INTO sender_key SELECT * FROM old.sender_key")
        let (again, plain) = try w.receiveMessage("bob", message)
        #expect(plain == nil)
        Self.expectEdited(again, "rows of sender_key")
    }

    static func count(_ w: RoomWorld, _ who: String, _ table: String) throws -> Int {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: w.s.keyring(who), configuration: config)
        defer { try? db.close() }
        return try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? -1 }
    }

    /// `audit --verify` checks every row of every table, whatever the table, against the sealed digest.
    @Test func auditVerifySeesRowsAddedDeletedOrChangedInAnyTable() throws {
        let w = try RoomWorld.team(["bob"])
        let intact = try w.rk("alice", ["audit", "--verify", "--json"])
        #expect(intact.code == 0, "\(intact)")
        #expect(try intact.json()["tables"] as? Int ?? 0 >= 15)
        let original = try Data(contentsOf: URL(fileURLWithPath: w.s.keyring("alice")))
        let edits: [(table: String, sql: String)] = [
            ("contact", "UPDATE contact SET id_tag = randomblob(32)"),
            ("room_bundle", "DELETE FROM room_bundle WHERE rowid = (SELECT MIN(rowid) FROM room_bundle)"),
            ("seen_bundle", "INSERT INTO seen_bundle (bundle_tag, room_tag) VALUES (randomblob(32), randomblob(32))"),
            ("room_epoch", "INSERT INTO room_epoch SELECT randomblob(32), room_tag, sealed FROM room_epoch LIMIT 1"),
            ("outbox", "UPDATE outbox SET delivered = 0"),
            ("outbox_bundle", "DELETE FROM outbox_bundle WHERE rowid = (SELECT MIN(rowid) FROM outbox_bundle)"),
            ("identity", "UPDATE identity SET sealed = sealed"),
            ("extra", "CREATE TABLE extra (x); INSERT INTO extra VALUES (1)"),
        ]
        for edit in edits {
            try original.write(to: URL(fileURLWithPath: w.s.keyring("alice")))
            try Self.edit(w, "alice", edit.sql)
            let r = try w.rk("alice", ["audit", "--verify"])
            if edit.table == "identity" {
                // Writing a row back unchanged changes nothing.
                #expect(r.code == 0, "\(r)")
            } else if edit.table == "extra" {
                // A table roomkey does not make is refused at open, before its rows are looked at.
                Self.expectEdited(r, "its schema was changed outside roomkey (table extra)")
            } else {
                Self.expectEdited(r, "rows of \(edit.table) were added, deleted or changed outside roomkey")
            }
        }
    }

    /// An entry left undelivered whose bundle row was deleted, or holds another entry's sealed bundle, is refused
    /// (exit 2, an integrity failure) and nothing is written.
    @Test func anUndeliveredEntryWithoutItsOwnBundleRowIsRefused() throws {
        let w = try RoomWorld.team(["bob"])
        let killed = try w.s.roomkey("alice", ["room", "rotate", "team"], env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": "after-commit"])
        #expect(killed.code == SIGKILL, "\(killed)")
        try Self.edit(w, "alice", "SELECT 1")  // folds the write-ahead log into the file
        let original = try Data(contentsOf: URL(fileURLWithPath: w.s.keyring("alice")))
        let undelivered = "(SELECT entry_tag FROM outbox WHERE delivered = 0)"
        for sql in ["DELETE FROM outbox_bundle WHERE entry_tag = \(undelivered)",
                    "UPDATE outbox_bundle SET sealed = (SELECT sealed FROM outbox_bundle WHERE entry_tag != \(undelivered) LIMIT 1) "
                        + "WHERE entry_tag = \(undelivered)"] {
            try original.write(to: URL(fileURLWithPath: w.s.keyring("alice")))
            try Self.edit(w, "alice", sql)
            let before = try w.bundles()
            let r = try w.rk("alice", ["outbox", "flush"])
            #expect(r.code == 2, "\(sql): \(r)")
            #expect(r.stderr.contains("outbox_bundle"), "\(sql): \(r)")
            #expect(try w.bundles() == before)
        }
        try original.write(to: URL(fileURLWithPath: w.s.keyring("alice")))
        #expect(try w.rk("alice", ["outbox", "flush"]).code == 0)
    }

    @Test func aMigrationListCutBackIsRefused() throws {
        let w = try RoomWorld.team(["bob"])
        try Self.edit(w, "bob", "DELETE FROM grdb_migrations WHERE identifier = 'v6-integrity'")
        Self.expectEdited(try w.rk("bob", ["room", "show", "team"]), "list of migrations was cut back")
    }

    @Test func anEditedBackupIsNotRestored() throws {
        let w = try RoomWorld.team(["bob"])
        let backup = w.s.path("bob.backup")
        #expect(try w.rk("bob", ["backup", "-o", backup]).code == 0)
        let db = try DatabaseQueue(path: backup)
        try db.write { try $0.execute(sql: "DELETE FROM seen_bundle") }
        try db.close()
        let restored = try w.s.roomkey("bob", ["restore", backup, "--force"])
        #expect(restored.code == 2, "\(restored)")
        #expect(restored.stderr.contains("keyring was edited: rows of seen_bundle"), "\(restored)")
    }
}

