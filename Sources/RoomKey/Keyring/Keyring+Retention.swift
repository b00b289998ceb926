import Foundation
import GRDB
import RoomKeyCore

/// Retention: superseded sender keys stay usable for the room's retention window, then are deleted, by `prune`
/// and at the start of every command that writes.
extension Keyring {
    /// The retention ledger of a room, if one was stored.
    func loadLedger(_ db: Database, _ room: RoomID) throws -> RetentionLedger? {
        // An older sealed copy of the ledger opens as well as the current one, and would move every superseded epoch's
        // deadline to "now" again (a hostile review): its digest decides first, as for sender_key.
        try requireIntact(db, "key_retention")
        let rtag = roomTag(room)
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM key_retention WHERE room_tag = ?"), arguments: [Data(rtag)]) else {
            return nil
        }
        let plain = try rows.openSecret(Array(sealed), table: "key_retention", primaryKey: rtag).withUnsafeBytes { Array($0) }
        // Rows written before the binary form are JSON, which starts with "{"; the binary form starts with its version.
        let ledger = plain.first == UInt8(ascii: "{") ? try? JSONDecoder().decode(RetentionLedger.self, from: Data(plain))
                                                      : try? RetentionLedger.parse(plain)
        guard let ledger else { throw KeyringError.integrityFailure(table: "key_retention") }
        return ledger
    }

    /// Stores a room's ledger (generations it still lists are moved into `retired_key` rows first).
    func saveLedger(_ db: Database, _ room: RoomID, _ ledger: RetentionLedger) throws {
        var ledger = ledger
        try adoptListedGenerations(db, room, &ledger)
        let rtag = roomTag(room)
        let sealed = ledger.encoded.withUnsafeBytes { rows.seal($0, table: "key_retention", primaryKey: rtag) }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO key_retention (room_tag, sealed) VALUES (?, ?)").execute(arguments: [Data(rtag), Data(sealed)])
    }

    /// After storing a key: a key of a new epoch supersedes the earlier epochs, and a new generation the owner's
    /// earlier generations in that epoch (or, arriving late, the new key itself is already superseded), as
    /// `GenerationHead.settle` decides from the head of the owner's keys in that epoch.
    func noteStoredKey(_ db: Database, _ info: SenderKeyInfo, ledger stored: RetentionLedger?) throws {
        var ledger = stored ?? RetentionLedger(latestEpoch: info.epoch)
        let time = now()
        ledger.noteEpoch(info.epoch, now: time)
        try adoptListedGenerations(db, info.roomID, &ledger)
        let ktag = senderKeyTag(info.roomID, owner: info.owner, keyID: info.keyID)
        let before = try loadHead(db, info.roomID, owner: info.owner, epoch: info.epoch)
        let settled: (head: GenerationHead?, superseded: [[UInt8]], trimmed: [[UInt8]])
        if let before {
            let step = GenerationHead.settle(before, storing: ktag, generation: info.generation)
            settled = (step.head, step.superseded, step.trimmed)
        } else {
            // No head: the owner's first key of this epoch, or keys stored before heads were kept. The keys not yet
            // superseded are settled together (the new one among them), once; the head then stands for them.
            settled = GenerationHead.settle(try ownerKeys(db, info.roomID, owner: info.owner, epoch: info.epoch, liveOnly: true))
        }
        if let head = settled.head, head != before { try saveHead(db, info.roomID, owner: info.owner, epoch: info.epoch, head) }
        if !settled.superseded.isEmpty {
            try retireKeys(db, info.roomID, epoch: info.epoch, settled.superseded, at: time)
            ledger.noteRetiredRow(at: time)
        }
        try trimRetiredKeys(db, info.roomID, settled.trimmed)
        if ledger != stored { try saveLedger(db, info.roomID, ledger) }
    }

    /// Deletes every superseded sender key whose retention window has ended: the room's own window, or `olderThan`
    /// seconds when that is shorter. Cheap when nothing is due: one read of each room's record and ledger.
    public func pruneExpired(olderThan: UInt64? = nil) throws -> PruneResult {
        let time = now()
        let due = try read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT room_tag, sealed FROM room")).compactMap { row -> RoomID? in
                let record = try openRoomRecord(try row.blob("sealed", table: "room"), tag: try row.blob("room_tag", table: "room"))
                guard let id = try? RoomID(bytes: Hex.decode(record.roomID, what: "room id")) else {
                    throw KeyringError.integrityFailure(table: "room")
                }
                var ledger = try loadLedger(db, id) ?? Self.firstLedger(record)
                let before = ledger
                let expiry = ledger.expire(currentEpoch: record.epoch, now: time, cutoff: Self.cutoff(record, now: time, olderThan: olderThan))
                return expiry.isEmpty && ledger == before ? nil : id
            }
        }
        let stalePending = try stalePendingTags(olderThan: olderThan ?? RoomPolicy.defaultRetentionSeconds, now: time)
        if due.isEmpty && stalePending.isEmpty { return PruneResult(senderKeys: 0, rooms: 0) }
        return try write { db in
            var keys = 0, rooms = 0
            for id in due {
                let n = try pruneRoom(db, id, now: time, olderThan: olderThan)
                keys += n
                if n > 0 { rooms += 1 }
            }
            for tag in stalePending { try db.cachedStatement(sql: "DELETE FROM pending_bundle WHERE bundle_tag = ?").execute(arguments: [Data(tag)]) }
            _ = try pruneOutbox(db, now: time)
            _ = try pruneExpiredKeyEntries(db, now: time)
            var result = PruneResult(senderKeys: keys, rooms: rooms)
            result.pendingBundles = stalePending.count
            if keys > 0 || !stalePending.isEmpty {
                try audit(db, .prune, "deleted \(keys) sender keys in \(rooms) rooms and \(stalePending.count) stale pending bundles")
            }
            return result
        }
    }

    /// Applies retention to one room inside a write transaction; returns how many sender keys it deleted.
    func pruneRoom(_ db: Database, _ id: RoomID, now time: UInt64, olderThan: UInt64?) throws -> Int {
        guard let record = try loadRoomRecord(db, id) else { return 0 }
        try requireIntact(db, "sender_key")
        let stored = try loadLedger(db, id)
        var ledger = stored ?? Self.firstLedger(record)
        // Generations an older ledger lists become rows first, so that they expire as rows do.
        try adoptListedGenerations(db, id, &ledger)
        let expiry = ledger.expire(currentEpoch: record.epoch, now: time, cutoff: Self.cutoff(record, now: time, olderThan: olderThan))
        var deleted = 0
        if let epochs = expiry.epochs {
            for epoch in epochs {
                try db.cachedStatement(sql: "DELETE FROM sender_key WHERE epoch_tag = ?").execute(arguments: [Data(senderEpochTag(id, epoch))])
                deleted += db.changesCount
                try deleteGenerationRows(db, id, epoch: epoch)
            }
        }
        if expiry.rowsDue, let cutoff = Self.cutoff(record, now: time, olderThan: olderThan) {
            let expired = try expireRetiredKeys(db, id, cutoff: cutoff)
            deleted += expired.deleted
            ledger.nextKeyExpiry = expired.next
            try forgetOldestDeleted(db, id, keep: RetentionLedger.maxDeleted)
        }
        if ledger != stored { try saveLedger(db, id, ledger) }
        return deleted
    }

    /// True when the room's retention window has ended for the key `keyTag` of `epoch` by now, deleted or not: its
    /// epoch has expired, or it was superseded at or before the cutoff. A decrypt asks, since the prune that deletes
    /// such keys runs at most every `automaticPruneInterval` seconds and an expired key must not open a message meanwhile.
    func expiredByNow(_ db: Database, _ record: RoomRecord, ledger stored: RetentionLedger?, epoch: UInt64, keyTag: [UInt8]) throws -> Bool {
        let time = now()
        guard let cutoff = Self.cutoff(record, now: time, olderThan: nil) else { return false }
        var ledger = stored ?? Self.firstLedger(record)
        let expiry = ledger.expire(currentEpoch: record.epoch, now: time, cutoff: cutoff)
        if expiry.epochs?.contains(epoch) == true || expiry.keys.contains(Hex.encode(keyTag)) { return true }
        return try supersededAt(db, keyTag: keyTag).map { $0 <= cutoff } ?? false
    }

    /// The ledger of a room that has none yet: epochs before joining hold no keys.
    static func firstLedger(_ record: RoomRecord) -> RetentionLedger {
        RetentionLedger(latestEpoch: record.joinedEpoch, floor: record.joinedEpoch)
    }

    /// Keys superseded at or before this time have expired (nil: nothing can have expired yet).
    static func cutoff(_ record: RoomRecord, now: UInt64, olderThan: UInt64?) -> UInt64? {
        RetentionLedger.cutoff(now: now, window: record.retention, olderThan: olderThan)
    }
}

/// The automatic prune that write commands run: at most once every `automaticPruneInterval` seconds of keyring
/// time, so a burst of commands does not re-read every room and pending bundle each time.
extension Keyring {
    struct PruneClock: Codable { var last: UInt64 }

    /// Seconds between automatic prunes.
    static let automaticPruneInterval: UInt64 = 600
    static let pruneClockKey: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]

    /// Runs `pruneExpired()` unless it ran less than `automaticPruneInterval` ago.
    func automaticPrune() throws {
        // What an earlier command left undelivered must not stop this one: it is reported and stays in the outbox.
        do { try settleOutbox() } catch let error as any RoomKeyError {
            onWarning?("\(error.message); see 'roomkey outbox list'")
        }
        // What a killed restore or backup left beside the keyring (a staged copy) goes at every write command, not
        // only when the prune is due: a file the keyring does not account for is not left for minutes (a review).
        TemporaryFile.removeLeftovers(in: KeyringFile.folder(of: path))
        let time = now()
        let last = try read { db -> UInt64? in
            // An older clock put back would put off the prune that deletes expired keys.
            try requireIntact(db, "prune_clock")
            guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM prune_clock WHERE id = 1")) else { return nil }
            return try rows.open(PruneClock.self, Array(sealed), table: "prune_clock", primaryKey: Self.pruneClockKey).last
        }
        if let last, time >= last, time - last < Self.automaticPruneInterval { return }
        _ = try pruneExpired()
        let sealed = try rows.seal(record: PruneClock(last: time), table: "prune_clock", primaryKey: Self.pruneClockKey)
        try write { db in try db.cachedStatement(sql: "INSERT OR REPLACE INTO prune_clock (id, sealed) VALUES (1, ?)").execute(arguments: [Data(sealed)]) }
    }
}

extension Keyring {
    /// `room forget`: deletes its retention ledger (`roomTag` is the room's tag).
    func forgetRetention(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM key_retention WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
