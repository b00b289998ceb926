import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A keyring stripped to look older than the row digest (its sealed counter, later tables and migrations gone): refused
/// wherever anything shows a roomkey with digests wrote it (its audit head's mark, this machine's state file), and the
/// rollback state file that helps tell.
@Suite(.temporaryFolder) struct KeyringStripTests {
    typealias Upgrade = SchemaUpgradeStorageTests

    /// A current keyring stripped of its sealed counter and its last migrations looks like an older one, but not like
    /// one from before the digest: it is refused, not given digests computed from its rows.
    @Test func aKeyringStrippedOfItsDigestIsNotGivenANewOne() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        try Upgrade.outside(path, """
            DELETE FROM write_counter; DROP TABLE seen_bundle_whole; DROP TABLE sender_key_head; DROP TABLE retired_key;
            DELETE FROM grdb_migrations WHERE identifier IN ('v12-seen-digest', 'v13-roster-replay', 'v14-head-time', '\(Upgrade.last)',
                'v16-epoch-member-changes', 'v17-restored-mark');
            DELETE FROM seen_bundle
            """)
        #expect(throws: IntegrityError.edited("its integrity digest is missing, but its audit head was written by a later roomkey")) { try Upgrade.open(path) }
        #expect(try Upgrade.migrated(path) == false)
    }

    /// The tables the migrations after `v5-outbox` made: a file without them (and without those migrations) looks like
    /// one from before the digest.
    static let tablesSinceTheDigest = ["member_tenure", "room_summary", "scale_backfill", "remote", "room_remote", "staged_intent",
                                       "staged_flight", "epoch_members", "epoch_members_backfill", "outbox_bundle", "seen_bundle_whole",
                                       "sender_key_head", "retired_key"]

    /// Strips a keyring written by this roomkey back to the shape of one from before the digest (no tables or
    /// migrations after `v5-outbox`, no sealed counter) and deletes a stored commit. No release made such a keyring,
    /// and its sealed audit head says a digest-keeping roomkey wrote it: refused, not given digests from edited rows.
    static func strippedToBeforeTheDigest(_ path: String) throws {
        let later = KeyringSchema.migrations.dropFirst(SchemaUpgrade.firstWithDigest - 1).map { "'\($0.identifier)'" }.joined(separator: ", ")
        try Upgrade.outside(path, tablesSinceTheDigest.map { "DROP TABLE \($0);" }.joined() + """
            DELETE FROM grdb_migrations WHERE identifier IN (\(later)); DELETE FROM write_counter;
            DELETE FROM room_bundle WHERE rowid = (SELECT min(rowid) FROM room_bundle)
            """)
    }

    @Test func aKeyringStrippedToBeforeTheDigestIsRefused() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        try Self.strippedToBeforeTheDigest(path)
        #expect(throws: IntegrityError.edited("its integrity digest is missing, but its audit head was written by a later roomkey")) { try Upgrade.open(path) }
    }

    @Test func aBackupStrippedToBeforeTheDigestIsNotRestored() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let backup = try Upgrade.pathInNewFolder("bob.backup"), target = try temporaryPath("restored.sqlite")
        try bob.backup(to: backup)
        try Self.strippedToBeforeTheDigest(backup)
        #expect(throws: RestoreError.self) {
            try Keyring.restore(from: backup, to: target, force: false, passphrase: { throw KeyringError.passphraseRequired },
                                random: SystemRandom())
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// A keyring whose audit head an earlier roomkey wrote (no mark) gets the mark with its next write.
    @Test func anEarlierAuditHeadIsMarkedByTheNextWrite() throws {
        let k = try KeyringTests.create(passphrase: nil)
        let head = try #require(try k.read { db in try k.auditHead(db) })
        #expect(head.rowDigests == true)
        var earlier = head
        earlier.rowDigests = nil
        let sealed = try k.rows.seal(record: earlier, table: "audit_head", primaryKey: Keyring.auditHeadKey)
        // This connection saw a marked head already (as the one that made the keyring had): it leaves this one as written.
        k.auditHeadMarked = true
        try k.write { db in try db.execute(sql: "UPDATE audit_head SET sealed = ? WHERE id = 1", arguments: [Data(sealed)]) }
        let reopened = try Upgrade.open(k.path)
        #expect(try reopened.read { db in try reopened.auditHead(db) }?.rowDigests == nil)
        // A write that changes nothing leaves the file as it is (and the head unmarked); the next one that does marks it.
        try reopened.write { _ in }
        #expect(try reopened.read { db in try reopened.auditHead(db) }?.rowDigests == nil)
        try reopened.write { db in try reopened.audit(db, .rotation, "a change") }
        #expect(try reopened.read { db in try reopened.auditHead(db) }?.rowDigests == true)
        #expect(try reopened.verifyAudit() > 0)
        #expect(try reopened.verifyRows() > 0)
    }

    /// The state files only go down on purpose, and only the path's: a lineage's count never does (a restore or an
    /// accepted rollback starts a new lineage), and no later count that is lower lowers either.
    @Test func theStateFileIsNotLoweredByAnOrdinaryWrite() throws {
        let k = try KeyringTests.create(passphrase: nil)
        let folder = try Upgrade.pathInNewFolder("state")
        k.stateFolder = folder
        k.recordState(7)
        k.recordState(5)
        #expect(try k.seenCount(in: folder) == 7)
        k.recordState(9)
        #expect(try k.seenCount(in: folder) == 9)
        k.recordState(5, durable: true)
        #expect(try k.pathState(in: k.pathStateFilePath(in: folder))?.count == 5)
        #expect(try k.count(inStateFile: k.stateFilePath(in: folder)) == 9)
        k.recordState(11, durable: true)
        #expect(try k.pathState(in: k.pathStateFilePath(in: folder))?.count == 5, "a durable write never raises the path's")
        #expect(try k.pathState(in: k.pathStateFilePath(in: folder))?.lineages == [Keyring.noLineage], "it names the keyring there")
    }

    /// Strips `path` to the shape of a roomkey 0.1.0 keyring (`v1-keyring` to `v4-audit`: the later tables, the column
    /// `v5-outbox` added, the later migrations and the sealed counter gone) and deletes a stored commit.
    static func strippedTo010(_ path: String, also: String = "") throws {
        let later = KeyringSchema.migrations.dropFirst(SchemaUpgrade.releasedWithoutDigest).map { "'\($0.identifier)'" }.joined(separator: ", ")
        try Upgrade.outside(path, (tablesSinceTheDigest + ["outbox", "owed_rotation", "write_counter"]).map { "DROP TABLE \($0);" }.joined() + """
            ALTER TABLE pending_bundle DROP COLUMN authenticated;
            DELETE FROM grdb_migrations WHERE identifier IN (\(later));
            DELETE FROM room_bundle WHERE rowid = (SELECT min(rowid) FROM room_bundle); \(also)
            """)
    }

    /// A keyring stripped to the 0.1.0 shape, its audit head deleted so that no mark is left: the audit log, which
    /// 0.1.0 kept whole, is checked before first digests are computed, and the open is refused.
    @Test func aKeyringStrippedTo010WithoutItsAuditHeadIsRefused() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        try Self.strippedTo010(path, also: "DELETE FROM audit_head;")
        #expect(throws: AuditError.self) { try Upgrade.open(path) }
        #expect(try Upgrade.count(path, "grdb_migrations") == SchemaUpgrade.releasedWithoutDigest)
    }

    /// The same with an unmarked audit head (as a replayed copy from before the mark would be): on a machine whose state
    /// file counted the keyring's writes, it cannot be a 0.1.0 keyring, and it is refused, even when a rollback is
    /// accepted.
    @Test func aKeyringStrippedTo010IsRefusedWhereItsWritesWereCounted() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        let folder = try Upgrade.pathInNewFolder("state")
        bob.stateFolder = folder
        bob.recordState(try bob.read { db in try bob.writeCount(db) })
        var head = try #require(try bob.read { db in try bob.auditHead(db) })
        head.rowDigests = nil
        let sealed = try bob.rows.seal(record: head, table: "audit_head", primaryKey: Keyring.auditHeadKey)
        try Self.strippedTo010(path, also: "UPDATE audit_head SET sealed = x'\(Hex.encode(sealed))';")
        for accept in [false, true] {
            #expect(throws: (any Error).self) {
                try Keyring.open(path: path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom(),
                                 stateFolder: folder, acceptRollback: accept)
            }
        }
        #expect(throws: IntegrityError.edited("its integrity digest is missing, but this machine has counted later writes of it")) {
            try Keyring.open(path: path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom(),
                             stateFolder: folder, acceptRollback: true)
        }
        // Without the state file, the audit head (unmarked here, as a replayed older one would be) cannot tell: the
        // residual case docs/PROTOCOL.md §7b names. With the mark it is refused (`aKeyringStrippedToBeforeTheDigest…`).
        #expect(try Upgrade.count(path, "grdb_migrations") == SchemaUpgrade.releasedWithoutDigest)
    }

    /// Stripped to the 0.1.0 shape with its own (marked) audit head: refused on any machine, state file or not.
    @Test func aKeyringStrippedTo010WithItsMarkedAuditHeadIsRefused() throws {
        let (bob, _, _, _) = try SeenDigestTests.applied()
        let path = bob.path
        try Self.strippedTo010(path)
        #expect(throws: IntegrityError.edited("its integrity digest is missing, but its audit head was written by a later roomkey")) {
            try Upgrade.open(path)
        }
    }
}
