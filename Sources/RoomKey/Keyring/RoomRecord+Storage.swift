import Foundation
import RoomKeyCore

/// The sealed plaintext of a `room` row in its binary form:
/// `01 | present (u16: which optional fields follow) | room id (u8-prefixed hex) | name (u16-prefixed) | epoch (u64) |
/// head (u8-prefixed hex) | forked (u8) | fork heads (u16 count, each u8-prefixed) | own generation (u32) |
/// joined epoch (u64)`, then each present optional field in declaration order: confirmed epoch (u64), rotation due (u8),
/// confirmed epochs (u32 count, each u64), retention (u64), rotate messages (u32), rotate after (u64), left (u8),
/// require post-quantum (u8), head time (u64, from `v14-head-time`), restored and not caught up (u8). Rows written before it are JSON (they start with `{`)
/// and are still read.
extension RoomRecord {
    /// The first byte of the binary form.
    static let storageVersion: UInt8 = 1

    /// A record from its fields.
    init(roomID: String, name: String, epoch: UInt64, head: String, forked: Bool, forkHeads: [String], ownGeneration: UInt32,
         joinedEpoch: UInt64, confirmedEpoch: UInt64?, rotationDue: Bool?, confirmedEpochs: [UInt64]?, retentionSeconds: UInt64?,
         rotateMessages: UInt32?, rotateAfterSeconds: UInt64?, left: Bool?, requirePQ: Bool?, headTime: UInt64?,
         restored: Bool? = nil) {
        (self.roomID, self.name, self.epoch, self.head, self.forked, self.forkHeads) = (roomID, name, epoch, head, forked, forkHeads)
        (self.ownGeneration, self.joinedEpoch, self.confirmedEpoch, self.rotationDue) = (ownGeneration, joinedEpoch, confirmedEpoch, rotationDue)
        (self.confirmedEpochs, self.retentionSeconds, self.rotateMessages) = (confirmedEpochs, retentionSeconds, rotateMessages)
        (self.rotateAfterSeconds, self.left, self.requirePQ, self.headTime) = (rotateAfterSeconds, left, requirePQ, headTime)
        self.restored = restored
    }

    /// The binary form.
    func encoded() -> [UInt8] {
        let optionals: [Bool] = [confirmedEpoch != nil, rotationDue != nil, confirmedEpochs != nil, retentionSeconds != nil,
                                 rotateMessages != nil, rotateAfterSeconds != nil, left != nil, requirePQ != nil, headTime != nil,
                                 restored != nil]
        var present: UInt16 = 0
        for (bit, isPresent) in optionals.enumerated() where isPresent { present |= 1 << bit }
        var w = ByteWriter(capacity: 128)
        w.writeU8(Self.storageVersion)
        w.writeU16(present)
        w.writePrefixed(width: 1, Array(roomID.utf8.prefix(255)))
        w.writePrefixed(width: 2, Array(name.utf8.prefix(65_535)))
        w.writeU64(epoch)
        w.writePrefixed(width: 1, Array(head.utf8.prefix(255)))
        w.writeU8(forked ? 1 : 0)
        w.writeU16(UInt16(clamping: forkHeads.count))
        for fork in forkHeads.prefix(65_535) { w.writePrefixed(width: 1, Array(fork.utf8.prefix(255))) }
        w.writeU32(ownGeneration)
        w.writeU64(joinedEpoch)
        if let confirmedEpoch { w.writeU64(confirmedEpoch) }
        if let rotationDue { w.writeU8(rotationDue ? 1 : 0) }
        if let confirmedEpochs {
            w.writeU32(UInt32(clamping: confirmedEpochs.count))
            for e in confirmedEpochs.prefix(Int(UInt32.max)) { w.writeU64(e) }
        }
        if let retentionSeconds { w.writeU64(retentionSeconds) }
        if let rotateMessages { w.writeU32(rotateMessages) }
        if let rotateAfterSeconds { w.writeU64(rotateAfterSeconds) }
        if let left { w.writeU8(left ? 1 : 0) }
        if let requirePQ { w.writeU8(requirePQ ? 1 : 0) }
        if let headTime { w.writeU64(headTime) }
        if let restored { w.writeU8(restored ? 1 : 0) }
        return w.bytes
    }

    /// Reads the binary form; nil for anything else.
    static func decode(_ stored: [UInt8]) -> RoomRecord? {
        guard stored.first == storageVersion else { return nil }
        var r = ByteReader(stored, what: "room row")
        func text(_ width: Int) throws -> String {
            guard let s = String(validating: try r.readPrefixed(width: width, "text", range: 0...(width == 1 ? 255 : 65_535)), as: UTF8.self) else {
                throw WireError.invalid(what: "room row", reason: "not UTF-8")
            }
            return s
        }
        func flag() throws -> Bool {
            let b = try r.readU8("flag")
            guard b <= 1 else { throw WireError.invalid(what: "room row", reason: "bad flag") }
            return b == 1
        }
        do {
            _ = try r.readU8("version")
            let present = try r.readU16("present")
            guard present >> 10 == 0 else { return nil }
            func has(_ bit: Int) -> Bool { present & (1 << bit) != 0 }
            let roomID = try text(1), name = try text(2), epoch = try r.readU64("epoch"), head = try text(1), forked = try flag()
            let forks = Int(try r.readU16("fork heads"))
            var forkHeads: [String] = []
            for _ in 0..<forks { forkHeads.append(try text(1)) }
            let ownGeneration = try r.readU32("own generation"), joinedEpoch = try r.readU64("joined epoch")
            let confirmedEpoch = has(0) ? try r.readU64("confirmed epoch") : nil
            let rotationDue = has(1) ? try flag() : nil
            var confirmedEpochs: [UInt64]?
            if has(2) {
                let count = Int(try r.readU32("confirmed epochs"))
                guard count <= r.remaining / 8 else { return nil }
                confirmedEpochs = try (0..<count).map { _ in try r.readU64("confirmed epoch") }
            }
            let retention = has(3) ? try r.readU64("retention") : nil
            let rotateMessages = has(4) ? try r.readU32("rotate messages") : nil
            let rotateAfter = has(5) ? try r.readU64("rotate after") : nil
            let left = has(6) ? try flag() : nil
            let requirePQ = has(7) ? try flag() : nil
            let headTime = has(8) ? try r.readU64("head time") : nil
            let restored = has(9) ? try flag() : nil
            try r.finish()
            return RoomRecord(roomID: roomID, name: name, epoch: epoch, head: head, forked: forked, forkHeads: forkHeads,
                              ownGeneration: ownGeneration, joinedEpoch: joinedEpoch, confirmedEpoch: confirmedEpoch,
                              rotationDue: rotationDue, confirmedEpochs: confirmedEpochs, retentionSeconds: retention,
                              rotateMessages: rotateMessages, rotateAfterSeconds: rotateAfter, left: left, requirePQ: requirePQ,
                              headTime: headTime, restored: restored)
        } catch {
            return nil
        }
    }
}

extension Keyring {
    /// Opens a room row's record (the binary form, or JSON as rows were written before it).
    func openRoomRecord(_ sealed: [UInt8], tag: [UInt8]) throws -> RoomRecord {
        let plain = try rows.openSecret(sealed, table: "room", primaryKey: tag).withUnsafeBytes { Array($0) }
        if plain.first == UInt8(ascii: "{") { return try rows.open(RoomRecord.self, sealed, table: "room", primaryKey: tag) }
        guard let record = RoomRecord.decode(plain) else { throw KeyringError.integrityFailure(table: "room") }
        return record
    }

    /// Seals a room row's record in the binary form.
    func sealRoomRecord(_ record: RoomRecord, tag: [UInt8]) -> [UInt8] {
        record.encoded().withUnsafeBytes { rows.seal($0, table: "room", primaryKey: tag) }
    }
}
