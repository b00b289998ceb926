import Foundation
import GRDB
import RoomKeyCore

/// Storage of sender keys: members' keys received in bundles and this member's own keys, each with its ratchet
/// state (row plaintext: see `SenderKeyRecord`).
///
/// Columns: `key_tag` = tag("sender-key", room, owner, key id), `room_tag`, `epoch_tag` = tag("sender-key-epoch",
/// room, u64 epoch) and `owner_tag` = tag("sender-key-owner", room, owner, u64 epoch), so retention and `encrypt`
/// find rows without opening them.
extension Keyring {
    func senderKeyTag(_ room: RoomID, owner: IdentityID, keyID: [UInt8]) -> [UInt8] {
        tag("sender-key", room.bytes, owner.bytes, keyID)
    }

    func senderEpochTag(_ room: RoomID, _ epoch: UInt64) -> [UInt8] { tag("sender-key-epoch", room.bytes, u64(epoch)) }

    func senderOwnerTag(_ room: RoomID, _ owner: IdentityID, _ epoch: UInt64) -> [UInt8] {
        tag("sender-key-owner", room.bytes, owner.bytes, u64(epoch))
    }

    /// Stores a new sender key at the start of its chain and, for this member's own key, its 64-byte signing secret
    /// (empty for others' keys). A key already stored keeps its ratchet state (storing it again cannot reopen
    /// iterations already used), and a key that retention already deleted is not stored again.
    func storeSenderKey(_ db: Database, _ key: borrowing SenderKey, signingSecret secret: borrowing SecretBytes) throws {
        let info = key.info
        let ledger = try loadLedger(db, info.roomID)
        if try holdsSenderKey(db, info, ledger: ledger) { return }
        let record = SenderKeyRecord(info: info, storedAt: now(), signingSecret: secret.duplicate(),
                                     chain: SenderChain(chainKey: key.chainKey.duplicate(), iteration: info.iteration))
        try writeSenderKey(db, record)
        try noteStoredKey(db, info, ledger: ledger)
    }

    /// True when this sender key is stored, or was stored and deleted by retention (`ledger` is the room's).
    func holdsSenderKey(_ db: Database, _ info: SenderKeyInfo, ledger: RetentionLedger?) throws -> Bool {
        try requireIntact(db, "sender_key")
        let ktag = senderKeyTag(info.roomID, owner: info.owner, keyID: info.keyID)
        if try Data.fetchOne(db.cachedStatement(sql: "SELECT key_tag FROM sender_key WHERE key_tag = ?"), arguments: [Data(ktag)]) != nil { return true }
        return try retentionDeleted(db, ledger: ledger, epoch: info.epoch, keyTag: ktag)
    }

    /// Inserts or replaces a sender-key row (a new key, or a new ratchet state of a stored one).
    func writeSenderKey(_ db: Database, _ record: borrowing SenderKeyRecord) throws {
        let info = record.info
        let ktag = senderKeyTag(info.roomID, owner: info.owner, keyID: info.keyID)
        let plain = record.encoded()
        let sealed = plain.withUnsafeBytes { rows.seal($0, table: "sender_key", primaryKey: ktag) }
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO sender_key (key_tag, room_tag, sealed, epoch_tag, owner_tag) VALUES (?, ?, ?, ?, ?)
            """).execute( arguments: [Data(ktag), Data(roomTag(info.roomID)), Data(sealed), Data(senderEpochTag(info.roomID, info.epoch)),
                             Data(senderOwnerTag(info.roomID, info.owner, info.epoch))])
    }

    /// Loads the sender key row `keyTag` of room `room`, if stored.
    func loadSenderKey(_ db: Database, _ room: RoomID, keyTag: [UInt8]) throws -> SenderKeyRecord? {
        try requireIntact(db, "sender_key")
        senderKeyRowsOpened += 1
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM sender_key WHERE key_tag = ?"), arguments: [Data(keyTag)]) else {
            return nil
        }
        let plain = try rows.openSecret(Array(sealed), table: "sender_key", primaryKey: keyTag)
        let record = try SenderKeyRecord.decode(plain, roomID: room)
        guard senderKeyTag(room, owner: record.info.owner, keyID: record.info.keyID) == keyTag else {
            throw KeyringError.integrityFailure(table: "sender_key")
        }
        return record
    }

    /// Tags and generations of the keys `owner` holds in `room` at `epoch`; with `liveOnly`, only those not recorded as
    /// superseded (`retired_key`), which are not opened.
    func ownerKeys(_ db: Database, _ room: RoomID, owner: IdentityID, epoch: UInt64,
                   liveOnly: Bool = false) throws -> [(tag: [UInt8], generation: UInt32)] {
        try requireIntact(db, "retired_key")
        let sql = liveOnly ? "SELECT key_tag FROM sender_key WHERE owner_tag = ? AND key_tag NOT IN (SELECT key_tag FROM retired_key)"
                           : "SELECT key_tag FROM sender_key WHERE owner_tag = ?"
        let tags = try Data.fetchAll(db.cachedStatement(sql: sql), arguments: [Data(senderOwnerTag(room, owner, epoch))])
        return try tags.map { data in
            let tag = Array(data)
            guard let record = try loadSenderKey(db, room, keyTag: tag), record.info.owner == owner, record.info.epoch == epoch else {
                throw KeyringError.integrityFailure(table: "sender_key")
            }
            return (tag, record.info.generation)
        }
    }

    /// This member's own key of `generation` at `epoch`, if stored. The generation asked for is the current one, which
    /// the head of this member's keys names: only when it does not are the other keys of the epoch opened.
    func ownSenderKey(_ db: Database, _ room: RoomID, me: IdentityID, epoch: UInt64, generation: UInt32) throws -> SenderKeyRecord? {
        if let head = try loadHead(db, room, owner: me, epoch: epoch), head.generation == generation {
            for tag in head.tags {
                if let record = try loadSenderKey(db, room, keyTag: tag), record.info.generation == generation {
                    guard record.isOwn else { throw KeyringError.integrityFailure(table: "sender_key") }
                    return record
                }
            }
        }
        var match = try ownerKeys(db, room, owner: me, epoch: epoch, liveOnly: true).first(where: { $0.generation == generation })
        if match == nil { match = try ownerKeys(db, room, owner: me, epoch: epoch).first(where: { $0.generation == generation }) }
        guard let match, let record = try loadSenderKey(db, room, keyTag: match.tag) else { return nil }
        guard record.isOwn else { throw KeyringError.integrityFailure(table: "sender_key") }
        return record
    }

    /// The descriptions of every stored sender key of a room (for `room show` and tests).
    func senderKeyInfos(_ db: Database, _ room: RoomID) throws -> [SenderKeyInfo] {
        let tags = try Data.fetchAll(db.cachedStatement(sql: "SELECT key_tag FROM sender_key WHERE room_tag = ?"), arguments: [Data(roomTag(room))])
        return try tags.compactMap { tag in try loadSenderKey(db, room, keyTag: Array(tag))?.info }
    }

    /// Sender keys of a room, newest epoch and generation first.
    public func senderKeys(of nameOrID: String) throws -> [SenderKeyInfo] {
        try read { db in
            let room = try findRoom(db, nameOrID)
            return try senderKeyInfos(db, room.id).sorted { ($0.epoch, $0.generation) > ($1.epoch, $1.generation) }
        }
    }

    /// Deletes every sender key `owner` holds for `room` in epochs `epochs` (a member who leaves forgets its own keys).
    func deleteSenderKeys(_ db: Database, _ room: RoomID, owner: IdentityID, epochs: ClosedRange<UInt64>) throws {
        for epoch in epochs {
            let otag = Data(senderOwnerTag(room, owner, epoch))
            try db.cachedStatement(sql: "DELETE FROM retired_key WHERE key_tag IN (SELECT key_tag FROM sender_key WHERE owner_tag = ?)")
                .execute(arguments: [otag])
            try db.cachedStatement(sql: "DELETE FROM sender_key_head WHERE owner_tag = ?").execute(arguments: [otag])
            try db.cachedStatement(sql: "DELETE FROM sender_key WHERE owner_tag = ?").execute(arguments: [otag])
        }
    }
}

extension Keyring {
    /// `room forget`: deletes every sender key of it (`roomTag` is the room's tag).
    func forgetSenderKeys(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM sender_key WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
