/// The storage form of a `RetentionLedger`: binary, because a busy room's ledger holds an entry per epoch of the
/// retention window and is read by every commit, receive and decrypt; JSON rows written before it are still read.
///
/// Version 2, written since superseded generations are rows of their own: `02 || u64 latest epoch || u64 floor ||
/// u8 has || [u64 next key expiry] || u32 n || n × (u64 below || u64 at)`. Version 1, still read (with the lists a
/// writer moves into rows): `01 || u64 latest epoch || u64 floor || u32 n || n × (u64 below || u64 at) || u32 n ||
/// n × (u8 len || tag (hex) || u64 epoch || u64 at) || u32 n || n × (u8 len || tag (hex) || u64 epoch)`.
extension RetentionLedger {
    package static let storageVersion: UInt8 = 2
    /// The version with the lists of superseded and deleted generations inside.
    package static let listVersion: UInt8 = 1
    /// The most entries of each list a stored ledger may hold.
    package static let maxEntries = 1 << 22

    /// The binary storage form: version 2, or version 1 while the ledger still lists generations.
    package var encoded: [UInt8] {
        var w = ByteWriter(capacity: 26 + 12 + epochs.count * 16 + (keys.count + deleted.count) * 90)
        let lists = !keys.isEmpty || !deleted.isEmpty
        w.writeU8(lists ? Self.listVersion : Self.storageVersion)
        w.writeU64(latestEpoch)
        w.writeU64(floor)
        if !lists {
            w.writeU8(nextKeyExpiry == nil ? 0 : 1)
            if let nextKeyExpiry { w.writeU64(nextKeyExpiry) }
        }
        w.writeU32(UInt32(epochs.count))
        for span in epochs {
            w.writeU64(span.below)
            w.writeU64(span.at)
        }
        if !lists { return w.bytes }
        w.writeU32(UInt32(keys.count))
        for key in keys {
            w.writePrefixed(width: 1, Array(key.tag.utf8))
            w.writeU64(key.epoch)
            w.writeU64(key.at)
        }
        w.writeU32(UInt32(deleted.count))
        for key in deleted {
            w.writePrefixed(width: 1, Array(key.tag.utf8))
            w.writeU64(key.epoch)
        }
        return w.bytes
    }

    /// Reads the binary storage form strictly.
    package static func parse(_ bytes: [UInt8]) throws(WireError) -> RetentionLedger {
        var r = ByteReader(bytes, what: "retention ledger")
        let version = try r.readU8("version")
        guard version == storageVersion || version == listVersion else { throw .unknownVersion(what: "retention ledger", expected: storageVersion, found: version) }
        var ledger = RetentionLedger(latestEpoch: try r.readU64("latest epoch"))
        ledger.floor = try r.readU64("floor")
        if version == storageVersion {
            switch try r.readU8("next key expiry flag") {
            case 0: break
            case 1: ledger.nextKeyExpiry = try r.readU64("next key expiry")
            default: throw .invalid(what: "retention ledger", reason: "a flag is neither 0 nor 1")
            }
        }
        for _ in 0..<(try r.readCount(width: 4, "epoch", limit: min(maxEntries, r.remaining / 16))) {
            ledger.epochs.append(Span(below: try r.readU64("epoch"), at: try r.readU64("time")))
        }
        if version == storageVersion {
            try r.finish()
            return ledger
        }
        for _ in 0..<(try r.readCount(width: 4, "key", limit: min(maxEntries, r.remaining / 17))) {
            let tag = try tagText(&r)
            ledger.keys.append(Retired(tag: tag, epoch: try r.readU64("epoch"), at: try r.readU64("time")))
        }
        for _ in 0..<(try r.readCount(width: 4, "deleted key", limit: min(maxEntries, r.remaining / 9))) {
            let tag = try tagText(&r)
            ledger.deleted.append(Deleted(tag: tag, epoch: try r.readU64("epoch")))
        }
        try r.finish()
        return ledger
    }

    private static func tagText(_ r: inout ByteReader) throws(WireError) -> String {
        let bytes = try r.readPrefixed(width: 1, "key tag", range: 1...128)
        guard bytes.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw .invalid(what: "retention ledger", reason: "a key tag is not hex")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
