import Foundation
import RoomKeyCore

/// The storage form of an outbox entry: binary, because it carries a whole bundle (12 MB for 10,000 post-quantum
/// stanzas) that JSON would base64 and copy several times on its way in and out; JSON rows written before it are
/// still read.
///
/// `01 || u16 n || target || u16 n || room id (hex) || u16 n || room name || u64 epoch || u16 n || kind || u64 created
/// || u8 delivered? || [u64 delivered] || u32 n || bundle bytes || u8 generation? || [u32 generation]`, every string UTF-8.
extension Keyring.OutboxRecord {
    static let storageVersion: UInt8 = 1

    /// The binary storage form.
    var encoded: [UInt8] {
        var w = ByteWriter(capacity: bytes.count + target.utf8.count + roomName.utf8.count + 128)
        w.writeU8(Self.storageVersion)
        for text in [target, roomID, roomName] { w.writePrefixed(width: 2, Array(text.utf8)) }
        w.writeU64(epoch)
        w.writePrefixed(width: 2, Array(kind.utf8))
        w.writeU64(created)
        w.writeU8(delivered == nil ? 0 : 1)
        if let delivered { w.writeU64(delivered) }
        w.writeU32(UInt32(bytes.count))
        bytes.withUnsafeBytes { w.write($0) }
        w.writeU8(generation == nil ? 0 : 1)
        if let generation { w.writeU32(generation) }
        return w.bytes
    }

    /// Reads the binary storage form strictly.
    static func parse(_ raw: [UInt8]) throws(WireError) -> Keyring.OutboxRecord {
        var r = ByteReader(raw, what: "outbox entry")
        try r.expectVersion(storageVersion)
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
        let bytes = try r.readPrefixed(width: 4, "bundle", range: 0...Bundle.maxLength)
        let hasGeneration = try r.readU8("generation flag")
        guard hasGeneration <= 1 else { throw .invalid(what: "outbox entry", reason: "bad generation flag") }
        let generation = hasGeneration == 1 ? try r.readU32("generation") : nil
        try r.finish()
        return Keyring.OutboxRecord(target: target, roomID: roomID, roomName: roomName, epoch: epoch, kind: kind, bytes: Data(bytes),
                                    created: created, delivered: delivered, generation: generation)
    }
}

extension Keyring {
    /// Seals an outbox entry (binary form) under `tag`.
    func sealOutbox(_ record: OutboxRecord, tag: [UInt8]) -> [UInt8] {
        record.encoded.withUnsafeBytes { rows.seal($0, table: "outbox", primaryKey: tag) }
    }

    /// Opens an outbox entry: the binary form, or JSON (which starts with "{") in rows written before it.
    func openOutbox(_ sealed: [UInt8], tag: [UInt8]) throws -> OutboxRecord {
        let plain = try rows.openSecret(sealed, table: "outbox", primaryKey: tag).withUnsafeBytes { Array($0) }
        let record = plain.first == UInt8(ascii: "{") ? try? JSONDecoder().decode(OutboxRecord.self, from: Data(plain))
                                                      : try? OutboxRecord.parse(plain)
        guard let record else { throw KeyringError.integrityFailure(table: "outbox") }
        return record
    }
}
