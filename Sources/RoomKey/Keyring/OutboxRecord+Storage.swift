import Foundation
import GRDB
import RoomKeyCore

/// The storage of an outbox entry: two rows. The bundle (12 MB for 10,000 post-quantum stanzas) is its own
/// `outbox_bundle` row, sealed once from where it lies and never rewritten; the entry's `outbox` row holds the rest, the
/// only part marking it delivered changes, in binary:
///
/// `02 || u16 n || target || u16 n || room id (hex) || u16 n || room name || u64 epoch || u16 n || kind || u64 created
/// || u8 delivered? || [u64 delivered] || u32 size || u8 generation? || [u32 generation]`, every string UTF-8.
///
/// Rows written before `v10-outbox-bundles` hold the bundle inside and are still read: version 1 (`u32 n || bundle
/// bytes` in place of `u32 size`), or JSON before it.
extension Keyring.OutboxRecord {
    /// The version byte of the current form (the bundle in its own row).
    static let storageVersion: UInt8 = 2
    /// The version byte of the older binary form (the bundle inside the row).
    static let inlineVersion: UInt8 = 1

    /// The current binary storage form (without the bundle, whatever `inline` holds).
    var encoded: [UInt8] {
        var w = ByteWriter(capacity: target.utf8.count + roomName.utf8.count + 128)
        w.writeU8(Self.storageVersion)
        for text in [target, roomID, roomName] { w.writePrefixed(width: 2, Array(text.utf8)) }
        w.writeU64(epoch)
        w.writePrefixed(width: 2, Array(kind.utf8))
        w.writeU64(created)
        w.writeU8(delivered == nil ? 0 : 1)
        if let delivered { w.writeU64(delivered) }
        w.writeU32(UInt32(clamping: size))
        w.writeU8(generation == nil ? 0 : 1)
        if let generation { w.writeU32(generation) }
        return w.bytes
    }

    /// Reads either binary form strictly: the current one, or version 1 with the bundle inside (kept in `inline`).
    static func parse(_ raw: [UInt8]) throws(WireError) -> Keyring.OutboxRecord {
        var r = ByteReader(raw, what: "outbox entry")
        let version = try r.readU8("version")
        guard version == storageVersion || version == inlineVersion else {
            throw .unknownVersion(what: "outbox entry", expected: storageVersion, found: version)
        }
        func text(_ field: String) throws(WireError) -> String {
            String(decoding: try r.readPrefixed(width: 2, field, range: 0...4096), as: UTF8.self)
        }
        let target = try text("target"), roomID = try text("room id"), roomName = try text("room name")
        let epoch = try r.readU64("epoch")
        let kind = try text("kind")
        let created = try r.readU64("created")
        let hasDelivered = try r.readU8("delivered flag")
        guard hasDelivered <= 1 else { throw .invalid(what: "outbox entry", reason: "bad delivered flag") }
        let delivered = hasDelivered == 1 ? try r.readU64("delivered") : nil
        var inline: [UInt8]?
        let size: Int
        if version == inlineVersion {
            let bytes = try r.readPrefixed(width: 4, "bundle", range: 0...Bundle.maxLength)
            (inline, size) = (bytes, bytes.count)
        } else {
            size = Int(try r.readU32("size"))
            guard size <= Bundle.maxLength else { throw .oversized(what: "outbox bundle", limit: Bundle.maxLength, found: size) }
        }
        let hasGeneration = try r.readU8("generation flag")
        guard hasGeneration <= 1 else { throw .invalid(what: "outbox entry", reason: "bad generation flag") }
        let generation = hasGeneration == 1 ? try r.readU32("generation") : nil
        try r.finish()
        return Keyring.OutboxRecord(target: target, roomID: roomID, roomName: roomName, epoch: epoch, kind: kind, created: created,
                                    delivered: delivered, generation: generation, size: size, inline: inline)
    }
}

extension Keyring {
    /// The JSON plaintext of `outbox` rows written before the binary forms (the bundle inside, base64); read only.
    struct LegacyOutboxJSON: Codable {
        var target: String
        var roomID: String
        var roomName: String
        var epoch: UInt64
        var kind: String
        var bytes: Data
        var created: UInt64
        var delivered: UInt64?
        var generation: UInt32?

        /// The entry it stores, its bundle inside.
        var record: OutboxRecord {
            OutboxRecord(target: target, roomID: roomID, roomName: roomName, epoch: epoch, kind: kind, created: created,
                         delivered: delivered, generation: generation, size: bytes.count, inline: Array(bytes))
        }
    }

    /// Seals an entry's `outbox` row (the current binary form) under `tag`.
    func sealOutbox(_ record: OutboxRecord, tag: [UInt8]) -> [UInt8] {
        record.encoded.withUnsafeBytes { rows.seal($0, table: "outbox", primaryKey: tag) }
    }

    /// Opens an entry's `outbox` row: either binary form, or JSON (which starts with "{") in rows written before them.
    func openOutbox(_ sealed: [UInt8], tag: [UInt8]) throws -> OutboxRecord {
        let plain = try rows.openSecret(sealed, table: "outbox", primaryKey: tag).withUnsafeBytes { Array($0) }
        let record = plain.first == UInt8(ascii: "{") ? (try? JSONDecoder().decode(LegacyOutboxJSON.self, from: Data(plain)))?.record
                                                      : try? OutboxRecord.parse(plain)
        guard let record else { throw KeyringError.integrityFailure(table: "outbox") }
        return record
    }

    /// Inserts a new entry in the caller's transaction: its bundle row, then its `outbox` row, next in order.
    func insertOutboxEntry(_ db: Database, tag: [UInt8], record: OutboxRecord, bytes: [UInt8]) throws {
        try insertOutboxBundle(db, tag: tag, bytes)
        let seq = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM outbox")) ?? 0) + 1
        try db.cachedStatement(sql: "INSERT INTO outbox (entry_tag, seq, delivered, sealed) VALUES (?, ?, ?, ?)").execute(
                       arguments: [Data(tag), seq, record.delivered == nil ? 0 : 1, Data(sealOutbox(record, tag: tag))])
    }

    /// Seals a bundle, read where it lies, into the `outbox_bundle` row of entry `tag` (its plaintext is the file's
    /// bytes, nothing else). Written once: nothing updates it.
    func insertOutboxBundle(_ db: Database, tag: [UInt8], _ bytes: [UInt8]) throws {
        let sealed = bytes.withUnsafeBytes { rows.seal($0, table: "outbox_bundle", primaryKey: tag) }
        try db.executeWithLargeBlob("INSERT INTO outbox_bundle (entry_tag, sealed) VALUES (?, ?)", [Data(tag)], blob: sealed)
    }

    /// An entry's bundle: from inside its row (older forms) or its `outbox_bundle` row, opened where it lies. A missing
    /// row, one that does not open under this entry's tag (another entry's, or edited), or a length other than the
    /// entry's size is an integrity failure.
    func outboxBundle(_ db: Database, tag: [UInt8], _ record: OutboxRecord) throws -> [UInt8] {
        if let inline = record.inline { return inline }
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT sealed FROM outbox_bundle WHERE entry_tag = ?"),
                                         arguments: [Data(tag)])
        guard let row = try cursor.next() else { throw KeyringError.integrityFailure(table: "outbox_bundle") }
        let bytes = try row.withUnsafeData(atIndex: 0) { data in
            guard let data else { throw KeyringError.integrityFailure(table: "outbox_bundle") }
            return try data.withUnsafeBytes { (b) throws(KeyringError) in try rows.open(raw: b, table: "outbox_bundle", primaryKey: tag) }
        }
        guard bytes.count == record.size else { throw KeyringError.integrityFailure(table: "outbox_bundle") }
        return bytes
    }
}
