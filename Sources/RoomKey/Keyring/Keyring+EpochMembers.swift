import Foundation
import GRDB
import RoomKeyCore

/// The `epoch_members` table: per room and epoch, the sealed `EpochMembers` (member ids with their signing keys) of
/// that epoch's roster, written in the transaction that stores the epoch's roster, so a sender-key bundle is checked with
/// one indexed read of a row 48 bytes a member long instead of opening the whole roster (megabytes in a big room).
///
/// `epoch_members_backfill` lists rooms whose rows were not built yet: every room of a keyring made before migration
/// `v9-epoch-members`. They are built from the stored rosters right after the keyring is unlocked; until then (a
/// read-only keyring) an epoch without a row is answered from its roster.
extension Keyring {
    func epochMembersTag(_ room: RoomID, _ epoch: UInt64) -> [UInt8] { tag("epoch-members", room.bytes, u64(epoch)) }

    /// Stores the members of `roster` as those of `room` at `epoch` (replacing a row for that epoch, as its roster is).
    func saveEpochMembers(_ db: Database, _ room: RoomID, _ epoch: UInt64, _ members: EpochMembers) throws {
        let etag = epochMembersTag(room, epoch)
        let sealed = members.encoded.withUnsafeBytes { rows.seal($0, table: "epoch_members", primaryKey: etag) }
        try db.executeWithLargeBlob("INSERT OR REPLACE INTO epoch_members (epoch_tag, room_tag, sealed) VALUES (?, ?, ?)",
                                    [Data(etag), Data(roomTag(room))], blob: sealed)
    }

    /// The members of `room` at `epoch`, nil if that epoch was not accepted here. The table is checked against the
    /// keyring's digest first (a row put back from an older copy of the file is refused); an epoch whose row is not
    /// built yet is answered from its roster.
    func epochMembers(_ db: Database, _ room: RoomID, _ epoch: UInt64) throws -> EpochMembers? {
        try requireIntact(db, "epoch_members")
        let etag = epochMembersTag(room, epoch)
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT sealed FROM epoch_members WHERE epoch_tag = ?"),
                                         arguments: [Data(etag)])
        guard let row = try cursor.next() else { return try epochRoster(db, room, epoch).map(EpochMembers.init(roster:)) }
        let plain = try row.withUnsafeData(atIndex: 0) { data in
            guard let data else { throw KeyringError.integrityFailure(table: "epoch_members") }
            return try data.withUnsafeBytes { (b) throws(KeyringError) in try rows.open(raw: b, table: "epoch_members", primaryKey: etag) }
        }
        guard let members = try? EpochMembers.parse(plain) else { throw KeyringError.integrityFailure(table: "epoch_members") }
        return members
    }

    /// Builds the rows of every room listed in `epoch_members_backfill` from its stored rosters, one transaction per
    /// room, and takes it off the list in the same transaction. Does nothing on a keyring opened read-only.
    func backfillEpochMembers() throws {
        try backfillRooms(listedIn: "epoch_members_backfill") { db, rtag in
            guard let record = try loadRoomRecord(db, tag: rtag) else { return }
            let id = try RoomID(bytes: Hex.decode(record.roomID, what: "room id"))
            for epoch in record.joinedEpoch...max(record.joinedEpoch, record.epoch) {
                guard let roster = try epochRoster(db, id, epoch) else { continue }
                try saveEpochMembers(db, id, epoch, EpochMembers(roster: roster))
            }
        }
    }
}

extension Keyring {
    /// `room forget`: deletes its per-epoch member rows and their to-do entry (`roomTag` is the room's tag).
    func forgetEpochMembers(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM epoch_members WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM epoch_members_backfill WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
