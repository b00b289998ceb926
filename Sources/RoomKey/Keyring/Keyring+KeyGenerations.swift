import Foundation
import GRDB
import RoomKeyCore

/// Storage of sender-key generations: per room, member and epoch the newest generation held (`sender_key_head`, keyed
/// by the sender-key owner tag), and each superseded generation with when it was superseded (`retired_key`, keyed by
/// its sender-key tag), so that storing a member's thousandth key reads one head, not a thousand keys or a ledger
/// listing them. The rule that decides is `GenerationHead.settle` (RoomKeyCore).
///
/// `sender_key_head.sealed` is `02 || u32 generation || u8 n || n × tag (32) || u8 m || m × kept tag (32)` (version 1
/// heads end before `m`: they list no kept key); `retired_key.sealed` is `01 || u64 epoch || u64 superseded at`, and its `deleted` column is 1 once retention deleted the key (the row is then kept,
/// so a late bundle does not store it again, until its epoch is deleted).
extension Keyring {
    static let headVersion: UInt8 = 2
    static let retiredVersion: UInt8 = 1

    /// The newest generation held of `owner`'s keys in `room` at `epoch`, if this keyring keeps one.
    func loadHead(_ db: Database, _ room: RoomID, owner: IdentityID, epoch: UInt64) throws -> GenerationHead? {
        try requireIntact(db, "sender_key_head")
        let otag = senderOwnerTag(room, owner, epoch)
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM sender_key_head WHERE owner_tag = ?"),
                                             arguments: [Data(otag)]) else { return nil }
        let plain = try rows.openSecret(Array(sealed), table: "sender_key_head", primaryKey: otag).withUnsafeBytes { Array($0) }
        var r = ByteReader(plain, what: "sender-key head")
        guard let head = try? Self.readHead(&r) else { throw KeyringError.integrityFailure(table: "sender_key_head") }
        return head
    }

    private static func readHead(_ r: inout ByteReader) throws(WireError) -> GenerationHead {
        let version = try r.readU8("version")
        guard version == 1 || version == headVersion else {
            throw .unknownVersion(what: "sender-key head", expected: headVersion, found: version)
        }
        let generation = try r.readU32("generation")
        let count = try r.readCount(width: 1, "tag", limit: GenerationHead.maxTags)
        guard count > 0 else { throw .invalid(what: "sender-key head", reason: "it lists no key") }
        var tags: [[UInt8]] = [], kept: [[UInt8]] = []
        for _ in 0..<count { tags.append(try r.read(32, "tag")) }
        if version == headVersion {
            for _ in 0..<(try r.readCount(width: 1, "kept tag", limit: GenerationHead.maxKept)) { kept.append(try r.read(32, "kept tag")) }
        }
        try r.finish()
        return GenerationHead(generation: generation, tags: tags, kept: kept)
    }

    /// Stores the head of `owner`'s keys in `room` at `epoch`.
    func saveHead(_ db: Database, _ room: RoomID, owner: IdentityID, epoch: UInt64, _ head: GenerationHead) throws {
        let otag = senderOwnerTag(room, owner, epoch)
        var w = ByteWriter(capacity: 7 + (head.tags.count + head.kept.count) * 32)
        w.writeU8(Self.headVersion)
        w.writeU32(head.generation)
        w.writeU8(UInt8(head.tags.count))
        for tag in head.tags { w.write(tag) }
        w.writeU8(UInt8(head.kept.count))
        for tag in head.kept { w.write(tag) }
        let sealed = w.bytes.withUnsafeBytes { rows.seal($0, table: "sender_key_head", primaryKey: otag) }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO sender_key_head (owner_tag, room_tag, epoch_tag, sealed) VALUES (?, ?, ?, ?)")
            .execute(arguments: [Data(otag), Data(roomTag(room)), Data(senderEpochTag(room, epoch)), Data(sealed)])
    }

    /// Records the keys `tags` of `epoch` as superseded at `at` (or, with `deleted`, as deleted by retention); a key
    /// already recorded keeps its row.
    func retireKeys(_ db: Database, _ room: RoomID, epoch: UInt64, _ tags: [[UInt8]], at: UInt64, deleted: Bool = false) throws {
        var w = ByteWriter(capacity: 17)
        w.writeU8(Self.retiredVersion)
        w.writeU64(epoch)
        w.writeU64(at)
        let statement = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO retired_key (key_tag, room_tag, epoch_tag, deleted, sealed) VALUES (?, ?, ?, ?, ?)
            """)
        for tag in tags {
            let sealed = w.bytes.withUnsafeBytes { rows.seal($0, table: "retired_key", primaryKey: tag) }
            try statement.execute(arguments: [Data(tag), Data(roomTag(room)), Data(senderEpochTag(room, epoch)), deleted ? 1 : 0, Data(sealed)])
        }
    }

    /// Drops the skipped message keys of the superseded keys `tags` of `room` (more of one member's keys were superseded
    /// than are listed with theirs); the keys stay until retention deletes them.
    func trimRetiredKeys(_ db: Database, _ room: RoomID, _ tags: [[UInt8]]) throws {
        for tag in tags {
            guard let key = try loadSenderKey(db, room, keyTag: tag), key.chain.skipped.count > 0 else { continue }
            try writeSenderKey(db, key.with(key.chain.trimmed()))
        }
    }

    /// How many skipped message keys the key `keyTag` (described by `info`) may keep: 2,000, except for a superseded
    /// key that left its member's kept list (`GenerationHead.kept`), which keeps at most
    /// `SenderChain.maxSkippedSuperseded`. A current key and the newest 64 superseded ones read late and out-of-order
    /// messages as before.
    func skipLimit(_ db: Database, _ info: SenderKeyInfo, keyTag: [UInt8]) throws -> Int {
        try requireIntact(db, "retired_key")
        guard try Int.fetchOne(db.cachedStatement(sql: "SELECT deleted FROM retired_key WHERE key_tag = ?"), arguments: [Data(keyTag)]) == 0,
              let head = try loadHead(db, info.roomID, owner: info.owner, epoch: info.epoch),
              !head.kept.contains(keyTag), !head.tags.contains(keyTag) else { return SenderChain.maxSkipped }
        return SenderChain.maxSkippedSuperseded
    }

    /// When the key `keyTag` was superseded, if it was and retention has not deleted it yet.
    func supersededAt(_ db: Database, keyTag: [UInt8]) throws -> UInt64? {
        try requireIntact(db, "retired_key")
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM retired_key WHERE key_tag = ? AND deleted = 0"),
                                             arguments: [Data(keyTag)]) else { return nil }
        return try supersededAt(sealed: Array(sealed), keyTag: keyTag)
    }

    /// When the key of a sealed `retired_key` row (primary key `keyTag`) was superseded.
    private func supersededAt(sealed: [UInt8], keyTag: [UInt8]) throws -> UInt64 {
        let plain = try rows.openSecret(sealed, table: "retired_key", primaryKey: keyTag).withUnsafeBytes { Array($0) }
        var r = ByteReader(plain, what: "retired key")
        guard let (_, at) = try? Self.readRetired(&r) else { throw KeyringError.integrityFailure(table: "retired_key") }
        return at
    }

    /// True when the key `keyTag` was recorded as deleted by retention.
    func retiredKeyDeleted(_ db: Database, keyTag: [UInt8]) throws -> Bool {
        try requireIntact(db, "retired_key")
        return try Int.fetchOne(db.cachedStatement(sql: "SELECT deleted FROM retired_key WHERE key_tag = ?"), arguments: [Data(keyTag)]) == 1
    }

    /// True when retention deleted the key `keyTag` of `epoch` in a room whose ledger is `ledger`.
    func retentionDeleted(_ db: Database, ledger: RetentionLedger?, epoch: UInt64, keyTag: [UInt8]) throws -> Bool {
        if ledger?.isDeleted(epoch: epoch, keyTag: keyTag) == true { return true }
        return try retiredKeyDeleted(db, keyTag: keyTag)
    }

    /// Moves the generations a ledger written before `retired_key` lists into rows, and empties its lists.
    func adoptListedGenerations(_ db: Database, _ room: RoomID, _ ledger: inout RetentionLedger) throws {
        func tag(_ hex: String) throws -> [UInt8] {
            guard let tag = try? Hex.decode(hex, what: "key tag"), tag.count == 32 else { throw KeyringError.integrityFailure(table: "key_retention") }
            return tag
        }
        for key in ledger.keys {
            try retireKeys(db, room, epoch: key.epoch, [try tag(key.tag)], at: key.at)
            ledger.noteRetiredRow(at: key.at)
        }
        for key in ledger.deleted { try retireKeys(db, room, epoch: key.epoch, [try tag(key.tag)], at: 0, deleted: true) }
        ledger.keys = []
        ledger.deleted = []
    }

    /// Deletes the superseded keys of `room` superseded at or before `cutoff` (their rows stay, marked deleted);
    /// returns how many sender keys it deleted and when the earliest remaining one was superseded.
    func expireRetiredKeys(_ db: Database, _ room: RoomID, cutoff: UInt64) throws -> (deleted: Int, next: UInt64?) {
        try requireIntact(db, "retired_key")
        let due = try Row.fetchAll(db.cachedStatement(sql: "SELECT key_tag, sealed FROM retired_key WHERE room_tag = ? AND deleted = 0"),
                                   arguments: [Data(roomTag(room))])
        var deleted = 0
        var next: UInt64?
        for row in due {
            let tag = try row.blob("key_tag", table: "retired_key")
            let at = try supersededAt(sealed: try row.blob("sealed", table: "retired_key"), keyTag: tag)
            guard at <= cutoff else {
                next = min(next ?? at, at)
                continue
            }
            try db.cachedStatement(sql: "DELETE FROM sender_key WHERE key_tag = ?").execute(arguments: [Data(tag)])
            deleted += db.changesCount
            try db.cachedStatement(sql: "UPDATE retired_key SET deleted = 1 WHERE key_tag = ?").execute(arguments: [Data(tag)])
        }
        return (deleted, next)
    }

    private static func readRetired(_ r: inout ByteReader) throws(WireError) -> (epoch: UInt64, at: UInt64) {
        try r.expectVersion(retiredVersion)
        let value = (try r.readU64("epoch"), try r.readU64("time"))
        try r.finish()
        return value
    }

    /// Forgets the rows of deleted keys of `room` beyond the newest `keep`, oldest recorded first: a room whose epoch
    /// never changes would otherwise keep a row per rotation for good. A bundle that brought a forgotten key is still
    /// refused as a duplicate (`seen_bundle`).
    func forgetOldestDeleted(_ db: Database, _ room: RoomID, keep: Int) throws {
        let rtag = Data(roomTag(room))
        let count = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM retired_key WHERE room_tag = ? AND deleted = 1"),
                                     arguments: [rtag]) ?? 0
        guard count > keep else { return }
        try db.cachedStatement(sql: """
            DELETE FROM retired_key WHERE rowid IN
                (SELECT rowid FROM retired_key WHERE room_tag = ? AND deleted = 1 ORDER BY rowid LIMIT ?)
            """).execute(arguments: [rtag, count - keep])
    }

    /// Deletes the heads and superseded-key rows of `room` at `epoch` (retention deleted the epoch).
    func deleteGenerationRows(_ db: Database, _ room: RoomID, epoch: UInt64) throws {
        let etag = Data(senderEpochTag(room, epoch))
        try db.cachedStatement(sql: "DELETE FROM sender_key_head WHERE epoch_tag = ?").execute(arguments: [etag])
        try db.cachedStatement(sql: "DELETE FROM retired_key WHERE epoch_tag = ?").execute(arguments: [etag])
    }

    /// Tags (hex) of the superseded keys of `room` that retention has not deleted yet (tests, `audit`).
    func retiredKeyTags(_ db: Database, _ room: RoomID) throws -> Set<String> {
        let tags = try Data.fetchAll(db.cachedStatement(sql: "SELECT key_tag FROM retired_key WHERE room_tag = ? AND deleted = 0"),
                                     arguments: [Data(roomTag(room))])
        return Set(tags.map { Hex.encode(Array($0)) })
    }
}

extension Keyring {
    /// `room forget`: deletes its key generation heads and retired keys (`roomTag` is the room's tag).
    func forgetKeyGenerations(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM sender_key_head WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM retired_key WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
