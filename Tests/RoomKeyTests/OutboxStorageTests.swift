import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Outbox rows: the binary form round-trips, rows written as JSON before it still read, and pruning deletes exactly
/// the entries delivered before the history window.
struct OutboxStorageTests {
    static func keyring() throws -> Keyring {
        try Keyring.create(path: NSTemporaryDirectory() + "outbox-\(UUID().uuidString)/k.sqlite", handle: "me", passphrase: nil,
                           random: SystemRandom())
    }

    static func record(created: UInt64, delivered: UInt64?, size: Int = 300) -> Keyring.OutboxRecord {
        Keyring.OutboxRecord(target: "/tmp/out/\(created).roomkey", roomID: String(repeating: "ab", count: 16), roomName: "tëam",
                             epoch: 7, kind: "commit", bytes: Data((0..<size).map { UInt8(truncatingIfNeeded: $0) }),
                             created: created, delivered: delivered)
    }

    static func insert(_ k: Keyring, _ record: Keyring.OutboxRecord, seq: Int, json: Bool = false) throws {
        let tag = k.tag("outbox", k.random.bytes(16))
        let sealed = json ? try k.rows.seal(record: record, table: "outbox", primaryKey: tag) : k.sealOutbox(record, tag: tag)
        try k.write { db in
            try db.execute(sql: "INSERT INTO outbox (entry_tag, seq, delivered, sealed) VALUES (?, ?, ?, ?)",
                           arguments: [Data(tag), seq, record.delivered == nil ? 0 : 1, Data(sealed)])
        }
    }

    @Test func binaryFormRoundTripsAndIsChecked() throws {
        for record in [Self.record(created: 5, delivered: nil), Self.record(created: 5, delivered: 9, size: 0)] {
            let bytes = record.encoded
            let back = try Keyring.OutboxRecord.parse(bytes)
            #expect(back.encoded == bytes && back.delivered == record.delivered && back.bytes == record.bytes)
            #expect(throws: WireError.self) { try Keyring.OutboxRecord.parse(bytes + [0]) }
            #expect(throws: WireError.self) { try Keyring.OutboxRecord.parse(Array(bytes.dropLast())) }
        }
    }

    @Test func jsonRowsStillReadAndPruningStopsAtTheWindow() throws {
        let k = try Self.keyring()
        let day: UInt64 = 86_400, now: UInt64 = 100 * day
        try Self.insert(k, Self.record(created: 10 * day, delivered: 10 * day), seq: 1, json: true)  // old, delivered: goes
        try Self.insert(k, Self.record(created: 20 * day, delivered: nil), seq: 2)                   // old, undelivered: stays
        try Self.insert(k, Self.record(created: 30 * day, delivered: 31 * day), seq: 3)              // old, delivered: goes
        try Self.insert(k, Self.record(created: 90 * day, delivered: 90 * day), seq: 4)              // within 30 days: stays
        let entries = try k.outboxEntries()
        #expect(entries.map(\.created) == [10, 20, 30, 90].map { $0 * day })
        #expect(entries.first?.roomName == "tëam" && entries.first?.size == 300)
        #expect(try k.write { db in try k.pruneOutbox(db, now: now) } == 2)
        #expect(try k.outboxEntries().map(\.created) == [20, 90].map { $0 * day })
    }
}
