import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Each outbox entry keeps its bundle in its own `outbox_bundle` row, written once: marking the entry delivered rewrites
/// only the small `outbox` row; a bundle row deleted or moved to another entry is an integrity failure; entries from
/// before the split (the bundle inside the `outbox` row) are still delivered, then stored split.
@Suite(.temporaryFolder) struct OutboxBundleTests {
    /// What a test sink was asked to write, by path.
    final class Written: @unchecked Sendable {
        var files: [String: [UInt8]] = [:]

        /// The bundle written as `name`, as a `receive` input.
        func input(_ name: String) throws -> ReceiveInput {
            ReceiveInput(path: name, bytes: try #require(files[name], "no bundle \(name)"))
        }
    }

    /// A sink that records what it writes.
    static func sink(_ written: Written) -> BundleSink {
        BundleSink(name: { _ in "unused" }, write: { path, bytes in written.files[path] = bytes })
    }

    static func output(_ size: Int, seed: Int = 0) throws -> BundleOutput {
        BundleOutput(roomID: try RoomID(bytes: [UInt8](repeating: 0xab, count: 16)), roomName: "team", epoch: 3, recipientCount: 1,
                     bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seed) })
    }

    /// Records `output` in the outbox, to `path`, with no sink: the entry stays undelivered.
    static func enqueue(_ k: Keyring, _ output: BundleOutput, to path: String) throws {
        let sink = k.sink
        k.sink = nil
        defer { k.sink = sink }
        _ = try k.write { db in try k.enqueue(db, output, kind: "commit", deliver: { _ in path }) }
    }

    /// `SELECT sealed FROM table` ordered by insertion, read through the keyring's own connection.
    static func sealed(_ k: Keyring, _ table: String) throws -> [Data] {
        try k.read { db in try Data.fetchAll(db, sql: "SELECT sealed FROM \(table) ORDER BY rowid") }
    }

    /// The keyring opened again, as the next command would (nothing of the last transaction kept in memory).
    static func reopened(_ k: Keyring) throws -> Keyring {
        try Keyring.open(path: k.path, passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
    }

    /// Runs `sql` on the keyring file through another connection, as an edit outside roomkey would.
    static func editOutside(_ k: Keyring, _ sql: String) throws {
        let raw = try DatabaseQueue(path: k.path)
        try raw.write { db in try db.execute(sql: sql) }
        try raw.close()
    }

    @Test func markingDeliveredRewritesOnlyTheSmallRow() throws {
        let k = try OutboxStorageTests.keyring()
        let written = Written()
        let out = try Self.output(300_000)
        try Self.enqueue(k, out, to: "/out/a.roomkey")
        let bundleBefore = try Self.sealed(k, "outbox_bundle"), entryBefore = try Self.sealed(k, "outbox")
        #expect(bundleBefore.count == 1 && entryBefore.count == 1)
        // The bundle is not inside the entry's row any more: that row stays small whatever the bundle's size.
        #expect(entryBefore.first.map { $0.count < 1_000 } == true)
        k.sink = Self.sink(written)
        #expect(try k.flushOutbox().map(\.path) == ["/out/a.roomkey"])
        #expect(written.files["/out/a.roomkey"] == out.bytes)
        #expect(try Self.sealed(k, "outbox_bundle") == bundleBefore)
        #expect(try Self.sealed(k, "outbox") != entryBefore)
        #expect(try k.outboxEntries().map { [$0.delivered != nil, $0.size == 300_000] } == [[true, true]])
        #expect(try k.verifyRows() > 0)
    }

    @Test func aDeletedBundleRowIsAnIntegrityFailure() throws {
        let k = try OutboxStorageTests.keyring()
        try Self.enqueue(k, try Self.output(1_000), to: "/out/a.roomkey")
        try Self.editOutside(k, "DELETE FROM outbox_bundle")
        let next = try Self.reopened(k)
        next.sink = Self.sink(Written())
        #expect(throws: KeyringError.integrityFailure(table: "outbox_bundle")) { try next.flushOutbox() }
        #expect(throws: IntegrityError.edited("rows of outbox_bundle were added, deleted or changed outside roomkey")) {
            try next.verifyRows()
        }
    }

    @Test func aSwappedBundleRowIsAnIntegrityFailure() throws {
        let k = try OutboxStorageTests.keyring()
        let written = Written()
        try Self.enqueue(k, try Self.output(1_000, seed: 1), to: "/out/a.roomkey")
        try Self.enqueue(k, try Self.output(1_000, seed: 2), to: "/out/b.roomkey")
        // Each entry's bundle row now holds the other's sealed bundle (same length, so only the seal can tell).
        try Self.editOutside(k, """
            UPDATE outbox_bundle SET sealed = (SELECT b.sealed FROM outbox_bundle b WHERE b.entry_tag != outbox_bundle.entry_tag)
            """)
        let next = try Self.reopened(k)
        next.sink = Self.sink(written)
        #expect(throws: KeyringError.integrityFailure(table: "outbox_bundle")) { try next.flushOutbox() }
        #expect(written.files.isEmpty)
        #expect(throws: IntegrityError.self) { try next.verifyRows() }
    }

    @Test func pruningDeletesBothRows() throws {
        let k = try OutboxStorageTests.keyring()
        k.sink = Self.sink(Written())
        _ = try k.write { db in try k.enqueue(db, try Self.output(1_000), kind: "commit", deliver: { _ in "/out/a.roomkey" }) }
        #expect(try k.outboxEntries().first?.delivered != nil)
        let later = k.now() + Keyring.outboxHistorySeconds + 86_400
        #expect(try k.write { db in try k.pruneOutbox(db, now: later) } == 1)
        #expect(try Self.sealed(k, "outbox").isEmpty && Self.sealed(k, "outbox_bundle").isEmpty)
        #expect(try k.verifyRows() > 0)
    }

    /// The digest triggers' function reads blobs where SQLite holds them: its hash is `RowDigest.rowHash` of the same
    /// values, for every SQLite type (integers at their edges, empty and non-ASCII text, an empty blob and a large one).
    @Test func theTriggerFunctionHashesAsTheRowDigestDoes() throws {
        let k = try OutboxStorageTests.keyring()
        try k.installDigestTriggers()
        let big = OutboxStorageTests.bytes(100_000)
        let hash = try k.read { db in
            try Data.fetchOne(db, sql: "SELECT \(Keyring.rowHashFunction)('t', NULL, -5, ?, ?, 1.5, 'tëxt', '', ?, x'')",
                              arguments: [Int64.min, Int64.max, Data(big)])
        }
        let values: [RowDigest.Value] = [.null, .integer(-5), .integer(.min), .integer(.max), .real(1.5),
                                         .text(Array("tëxt".utf8)), .text([]), .blob(big), .blob([])]
        #expect(hash.map { Array($0) } == RowDigest.rowHash(table: "t", values: values, key: k.integrity.key))
        // One value less (the empty blob) is another hash.
        #expect(hash.map { Array($0) } != RowDigest.rowHash(table: "t", values: Array(values.dropLast()), key: k.integrity.key))
    }

    /// A keyring from before `v10-outbox-bundles`, with undelivered entries in both older forms (binary with the bundle
    /// inside, and JSON): the migration adds the table, the entries are delivered with their exact bytes, and marking
    /// them delivered stores them split.
    @Test func entriesFromBeforeTheSplitAreDeliveredAfterTheMigration() throws {
        let k = try OutboxStorageTests.keyring()
        let binary = try Self.output(70_000, seed: 3).bytes, json = try Self.output(5_000, seed: 4).bytes
        try OutboxStorageTests.insertLegacy(k, OutboxStorageTests.record(created: k.now(), delivered: nil, target: "/out/bin.roomkey"),
                                            bytes: binary, seq: 1)
        try OutboxStorageTests.insertLegacy(k, OutboxStorageTests.record(created: k.now(), delivered: nil, target: "/out/json.roomkey"),
                                            bytes: json, seq: 2, json: true)
        try OutboxStorageTests.dropOutboxBundles(k)
        let reopened = try Self.reopened(k)
        #expect(try reopened.read { db in try KeyringSchema.migrator.appliedIdentifiers(db).contains("v10-outbox-bundles") })
        #expect(try reopened.outboxEntries().map(\.size) == [70_000, 5_000])
        let written = Written()
        reopened.sink = Self.sink(written)
        #expect(try reopened.flushOutbox().count == 2)
        #expect(written.files == ["/out/bin.roomkey": binary, "/out/json.roomkey": json])
        #expect(try Self.sealed(reopened, "outbox_bundle").count == 2)
        #expect(try Self.sealed(reopened, "outbox").allSatisfy { $0.count < 1_000 })
        #expect(try reopened.outboxEntries().allSatisfy { $0.delivered != nil })
        #expect(try reopened.flushOutbox().isEmpty)
        #expect(try reopened.verifyRows() > 0)
        let kept = try reopened.read { db in try reopened.outboxRecords(db, withBundles: { _ in true }) }
        #expect(kept.map(\.bytes) == [binary, json])
    }
}
