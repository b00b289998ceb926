import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Outbox rows: the binary form round-trips, rows written in the older forms (the bundle inside the row: binary, or
/// JSON before it) still read, and pruning deletes exactly the entries delivered before the history window.
@Suite(.temporaryFolder) struct OutboxStorageTests {
    static func keyring() throws -> Keyring {
        try Keyring.create(path: temporaryPath("k.sqlite"), handle: "me", passphrase: nil, random: SystemRandom())
    }

    static func bytes(_ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0) } }

    static func record(created: UInt64, delivered: UInt64?, size: Int = 300, target: String? = nil) -> Keyring.OutboxRecord {
        Keyring.OutboxRecord(target: target ?? "/tmp/out/\(created).roomkey", roomID: String(repeating: "ab", count: 16), roomName: "tëam",
                             epoch: 7, kind: "commit", created: created, delivered: delivered, generation: nil, size: size, inline: nil)
    }

    /// The binary form of rows written before `v10-outbox-bundles`: version 1, the bundle inside.
    static func legacyEncoded(_ r: Keyring.OutboxRecord, bytes: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.writeU8(1)
        for text in [r.target, r.roomID, r.roomName] { w.writePrefixed(width: 2, Array(text.utf8)) }
        w.writeU64(r.epoch)
        w.writePrefixed(width: 2, Array(r.kind.utf8))
        w.writeU64(r.created)
        w.writeU8(r.delivered == nil ? 0 : 1)
        if let delivered = r.delivered { w.writeU64(delivered) }
        w.writePrefixed(width: 4, bytes)
        w.writeU8(r.generation == nil ? 0 : 1)
        if let generation = r.generation { w.writeU32(generation) }
        return w.bytes
    }

    /// Inserts an entry as a keyring from before `v10-outbox-bundles` holds it: one row, the bundle inside, binary
    /// (version 1) or JSON.
    static func insertLegacy(_ k: Keyring, _ record: Keyring.OutboxRecord, bytes: [UInt8], seq: Int, json: Bool = false) throws {
        let tag = k.tag("outbox", k.random.bytes(16))
        let sealed = json
            ? try k.rows.seal(record: Keyring.LegacyOutboxJSON(target: record.target, roomID: record.roomID, roomName: record.roomName,
                                                               epoch: record.epoch, kind: record.kind, bytes: Data(bytes),
                                                               created: record.created, delivered: record.delivered),
                              table: "outbox", primaryKey: tag)
            : legacyEncoded(record, bytes: bytes).withUnsafeBytes { k.rows.seal($0, table: "outbox", primaryKey: tag) }
        try k.write { db in
            try db.execute(sql: "INSERT INTO outbox (entry_tag, seq, delivered, sealed) VALUES (?, ?, ?, ?)",
                           arguments: [Data(tag), seq, record.delivered == nil ? 0 : 1, Data(sealed)])
        }
    }

    /// Inserts an entry in the current form (two rows).
    static func insert(_ k: Keyring, _ record: Keyring.OutboxRecord) throws {
        try k.write { db in try k.insertOutboxEntry(db, tag: k.tag("outbox", k.random.bytes(16)), record: record, bytes: bytes(record.size)) }
    }

    /// Turns `k`'s file back into a keyring from before `v10-outbox-bundles` (no `outbox_bundle` table, and none of the
    /// migrations after it), as that version left it. `k` must not be used afterwards.
    static func dropOutboxBundles(_ k: Keyring) throws {
        let v10 = try #require(KeyringSchema.migrations.firstIndex { $0.identifier == "v10-outbox-bundles" })
        try SchemaUpgradeStorageTests.olderSchema(k, keeping: v10, dropping: ["outbox_bundle", "seen_bundle_whole"])
    }

    @Test func binaryFormsRoundTripAndAreChecked() throws {
        for record in [Self.record(created: 5, delivered: nil), Self.record(created: 5, delivered: 9, size: 0)] {
            let bytes = record.encoded
            #expect(bytes.first == 2)
            let back = try Keyring.OutboxRecord.parse(bytes)
            #expect(back.encoded == bytes && back.delivered == record.delivered && back.size == record.size && back.inline == nil)
            #expect(throws: WireError.self) { try Keyring.OutboxRecord.parse(bytes + [0]) }
            #expect(throws: WireError.self) { try Keyring.OutboxRecord.parse(Array(bytes.dropLast())) }
            // The older form, the bundle inside: read with its bytes.
            let legacy = Self.legacyEncoded(record, bytes: Self.bytes(record.size))
            let old = try Keyring.OutboxRecord.parse(legacy)
            #expect(old.inline == Self.bytes(record.size) && old.size == record.size && old.created == record.created)
            #expect(throws: WireError.self) { try Keyring.OutboxRecord.parse(Array(legacy.dropLast())) }
        }
    }

    @Test func olderRowsStillReadAndPruningStopsAtTheWindow() throws {
        let k = try Self.keyring()
        let day: UInt64 = 86_400, now: UInt64 = 100 * day
        try Self.insertLegacy(k, Self.record(created: 10 * day, delivered: 10 * day), bytes: Self.bytes(300), seq: 1, json: true)  // goes
        try Self.insertLegacy(k, Self.record(created: 20 * day, delivered: nil), bytes: Self.bytes(300), seq: 2)  // undelivered: stays
        try Self.insert(k, Self.record(created: 30 * day, delivered: 31 * day))              // old, delivered: goes
        try Self.insert(k, Self.record(created: 90 * day, delivered: 90 * day))              // within 30 days: stays
        let entries = try k.outboxEntries()
        #expect(entries.map(\.created) == [10, 20, 30, 90].map { $0 * day })
        #expect(entries.first?.roomName == "tëam" && entries.allSatisfy { $0.size == 300 })
        #expect(try k.write { db in try k.pruneOutbox(db, now: now) } == 2)
        #expect(try k.outboxEntries().map(\.created) == [20, 90].map { $0 * day })
        #expect(try k.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_bundle") } == 1)
        #expect(try k.verifyRows() > 0)
    }
}
