import Foundation
import GRDB
import RoomKeyCore

/// Storage of rooms, their logs and per-epoch rosters: every row sealed, found through blind tags.
extension Keyring {
    func tag(_ label: String, _ parts: [UInt8]...) -> [UInt8] {
        BLAKE2b.hash([Array(label.utf8), [0]] + parts, key: tagKey)
    }

    func roomTag(_ id: RoomID) -> [UInt8] { tag("room", id.bytes) }
    func roomNameTag(_ name: String) -> [UInt8] { tag("room-name", Array(name.utf8)) }
    func commitTag(_ id: RoomID, _ epoch: UInt64) -> [UInt8] { tag("commit", id.bytes, u64(epoch)) }
    func epochTag(_ id: RoomID, _ epoch: UInt64) -> [UInt8] { tag("epoch", id.bytes, u64(epoch)) }

    func u64(_ v: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.writeU64(v)
        return w.bytes
    }

    /// The sealed `room` row of `tag`, read after the table's digest is checked: an older sealed copy of a row opens as
    /// well as the current one, only the digest tells them apart, and every decision starts from the epoch and roster in
    /// it (a hostile review). The check runs once per connection.
    private func sealedRoomRow(_ db: Database, tag: [UInt8]) throws -> Data? {
        try requireIntact(db, "room")
        return try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM room WHERE room_tag = ?"), arguments: [Data(tag)])
    }

    /// Loads a room by id.
    func loadRoom(_ db: Database, _ id: RoomID) throws -> StoredRoom? {
        let tag = roomTag(id)
        guard let sealed = try sealedRoomRow(db, tag: tag) else { return nil }
        return try decodeRoom(db, sealed, tag: tag, expected: id)
    }

    /// Loads a room by its row tag (from an index such as `owed_rotation`).
    func loadRoom(_ db: Database, tag: [UInt8]) throws -> StoredRoom? {
        guard let sealed = try sealedRoomRow(db, tag: tag) else { return nil }
        return try decodeRoom(db, sealed, tag: tag, expected: nil)
    }

    private func decodeRoom(_ db: Database, _ sealed: Data, tag: [UInt8], expected: RoomID?) throws -> StoredRoom {
        let record = try openRoomRecord(Array(sealed), tag: tag)
        guard let id = try? RoomID(bytes: Hex.decode(record.roomID, what: "room id")), expected == nil || expected == id,
              roomTag(id) == tag, let roster = try epochRoster(db, id, record.epoch),
              let room = try? record.room(roster: roster) else {
            throw KeyringError.integrityFailure(table: "room")
        }
        return room
    }

    /// Rewrites a room's record only (its roster rows stay as they are).
    func saveRecord(_ db: Database, _ record: RoomRecord) throws {
        guard let id = try? RoomID(bytes: Hex.decode(record.roomID, what: "room id")) else { throw KeyringError.integrityFailure(table: "room") }
        let tag = roomTag(id)
        let sealed = sealRoomRecord(record, tag: tag)
        try db.cachedStatement(sql: "UPDATE room SET sealed = ? WHERE room_tag = ?").execute(arguments: [Data(sealed), Data(tag)])
        try noteOwedRotation(db, id, due: record.rotationDue ?? false)
    }

    /// Every room starts a new generation before its next message, numbered well past any made since: the state is
    /// older than what others have seen (a restored backup, an accepted rollback), so each room is also marked as not
    /// caught up with its remote (`StoredRoom.restoredBehind`).
    func rotateEveryRoom(_ db: Database) throws {
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT room_tag, sealed FROM room")) {
            var record = try openRoomRecord(try row.blob("sealed", table: "room"), tag: try row.blob("room_tag", table: "room"))
            record.rotationDue = true
            record.restored = true
            record.ownGeneration = record.ownGeneration &+ (1 << 16)
            try saveRecord(db, record)
        }
    }

    /// Inserts or replaces a room row.
    func saveRoom(_ db: Database, _ room: StoredRoom) throws {
        let tag = roomTag(room.id)
        let sealed = sealRoomRecord(RoomRecord(room), tag: tag)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO room (room_tag, name_tag, sealed) VALUES (?, ?, ?)").execute(
                       arguments: [Data(tag), Data(roomNameTag(room.name)), Data(sealed)])
        try noteOwedRotation(db, room.id, due: room.rotationDue)
    }

    /// Finds a room by name, or by its 32-hex-digit id.
    func findRoom(_ db: Database, _ nameOrID: String) throws -> StoredRoom {
        if nameOrID.count == 32, let bytes = try? Hex.decode(nameOrID, what: "room id"), let id = try? RoomID(bytes: bytes),
           let room = try loadRoom(db, id) {
            return room
        }
        let rooms = try roomTags(db, named: nameOrID).compactMap { try loadRoom(db, tag: $0) }.filter { $0.name == nameOrID }
        guard let first = rooms.first else { throw RoomError.notFound(nameOrID) }
        if rooms.count > 1 { throw RoomError.ambiguous(name: nameOrID, ids: rooms.map(\.id.hex).sorted()) }
        return first
    }

    /// The id of the room `findRoom` would find, read from room records only (no roster is opened); a name that is
    /// ambiguous or unknown throws as `findRoom` does.
    func findRoomID(_ db: Database, _ nameOrID: String) throws -> RoomID {
        if nameOrID.count == 32, let bytes = try? Hex.decode(nameOrID, what: "room id"), let id = try? RoomID(bytes: bytes),
           try loadRoomRecord(db, id) != nil {
            return id
        }
        let ids = try roomTags(db, named: nameOrID).compactMap { try loadRoomRecord(db, tag: $0) }.filter { $0.name == nameOrID }
            .compactMap { try? RoomID(bytes: Hex.decode($0.roomID, what: "room id")) }
        guard ids.count == 1, let id = ids.first else { return try findRoom(db, nameOrID).id }
        return id
    }

    /// Every room, sorted by name.
    public func rooms() throws -> [StoredRoom] {
        try read { db in try allRooms(db) }.sorted { ($0.name, $0.id.hex) < ($1.name, $1.id.hex) }
    }

    /// Every room row, opened, in table order.
    func allRooms(_ db: Database) throws -> [StoredRoom] {
        try requireIntact(db, "room")
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT room_tag, sealed FROM room")).map { row in
            try decodeRoom(db, Data(try row.blob("sealed", table: "room")), tag: try row.blob("room_tag", table: "room"), expected: nil)
        }
    }

    /// The row tags of every room.
    func roomTags(_ db: Database) throws -> [[UInt8]] {
        try requireIntact(db, "room")
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT room_tag FROM room")).map { Array($0) }
    }

    /// The row tags of the rooms whose name index matches `name` (the sealed name still has to be compared).
    func roomTags(_ db: Database, named name: String) throws -> [[UInt8]] {
        try requireIntact(db, "room")
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT room_tag FROM room WHERE name_tag = ?"), arguments: [Data(roomNameTag(name))])
            .map { Array($0) }
    }

    /// One room by name or id.
    public func room(_ nameOrID: String) throws -> StoredRoom {
        try read { db in try findRoom(db, nameOrID) }
    }

    /// Stores an accepted commit and the roster of the epoch it starts. `newRoom` says the commit is the genesis of a
    /// room made in this transaction, so no member has a tenure to look up yet.
    func storeCommit(_ db: Database, _ commit: Commit, roster: Roster, newRoom: Bool = false) throws {
        let ctag = commitTag(commit.roomID, commit.epoch)
        let rtag = Data(roomTag(commit.roomID))
        // An epoch is stored once: a later roster row may replay this commit, so another commit never replaces it.
        if let stored = try storedCommit(db, commit.roomID, commit.epoch), stored.encoded != commit.encoded {
            throw KeyringError.integrityFailure(table: "room_commit")
        }
        let sealed = commit.encoded.withUnsafeBytes { rows.seal($0, table: "room_commit", primaryKey: ctag) }
        try db.executeWithLargeBlob("INSERT OR REPLACE INTO room_commit (commit_tag, room_tag, sealed) VALUES (?, ?, ?)",
                                    [Data(ctag), rtag], blob: sealed)
        try storeRoster(db, commit, roster)
        try saveEpochMembers(db, commit) { EpochMembers(roster: roster) }
        try noteMembership(db, commit, roster: roster, newRoom: newRoom)
    }

    /// `storedCommit` for a decision that rests on what the log holds (a leave request's "added back since", fork
    /// evidence, another admin's changes, sync's check of a remote commit): the table's digest is checked first, once
    /// per connection, so a deleted commit row is refused instead of read as "no such commit" (a hostile review: one
    /// deleted row let an old leave request remove a member who had been added back).
    func checkedCommit(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> Commit? {
        try requireIntact(db, "room_commit")
        return try storedCommit(db, id, epoch)
    }

    /// The accepted commit of `epoch`, if stored.
    func storedCommit(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> Commit? {
        let ctag = commitTag(id, epoch)
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM room_commit WHERE commit_tag = ?"), arguments: [Data(ctag)]) else {
            return nil
        }
        let plain = try rows.openSecret(Array(sealed), table: "room_commit", primaryKey: ctag)
        guard let commit = try? Commit.parse(plain.withUnsafeBytes { Array($0) }) else { throw KeyringError.integrityFailure(table: "room_commit") }
        return commit
    }

    /// The whole stored log from genesis through `epoch`.
    func storedLog(_ db: Database, _ id: RoomID, through epoch: UInt64) throws -> [Commit] {
        try (0...epoch).map { e in
            guard let c = try storedCommit(db, id, e) else { throw KeyringError.integrityFailure(table: "room_commit") }
            return c
        }
    }

    /// A room's record without its roster (epoch, name, fork state), for paths that do not need every card.
    func loadRoomRecord(_ db: Database, _ id: RoomID) throws -> RoomRecord? {
        guard let record = try loadRoomRecord(db, tag: roomTag(id)) else { return nil }
        guard record.roomID == id.hex else { throw KeyringError.integrityFailure(table: "room") }
        return record
    }

    /// A room's record by its row tag, checked against the tag.
    func loadRoomRecord(_ db: Database, tag: [UInt8]) throws -> RoomRecord? {
        try loadRoomRecordAndID(db, tag: tag)?.record
    }

    /// A room's record and its id by its row tag, checked against the tag.
    func loadRoomRecordAndID(_ db: Database, tag: [UInt8]) throws -> (record: RoomRecord, id: RoomID)? {
        guard let sealed = try sealedRoomRow(db, tag: tag) else { return nil }
        let record = try openRoomRecord(Array(sealed), tag: tag)
        guard let id = try? RoomID(bytes: Hex.decode(record.roomID, what: "room id")), roomTag(id) == tag else {
            throw KeyringError.integrityFailure(table: "room")
        }
        return (record, id)
    }

    /// The full log of a room, for `room log`.
    public func log(of nameOrID: String) throws -> (StoredRoom, [Commit]) {
        try read { db in
            let room = try findRoom(db, nameOrID)
            return (room, try storedLog(db, room.id, through: room.state.epoch))
        }
    }
}

extension Keyring {
    /// `room forget`: deletes its room row and commits (`roomTag` is the room's tag).
    func forgetRoomRows(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM room WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM room_commit WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
