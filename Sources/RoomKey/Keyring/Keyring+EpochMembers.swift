import Foundation
import GRDB
import RoomKeyCore

/// The `epoch_members` table: per room and epoch, the sealed members (ids with their signing keys) of that epoch's
/// roster, written in the transaction that stores the epoch's roster, so a sender-key bundle is checked with one or two
/// indexed reads instead of opening the whole roster (megabytes in a big room). A row is whole (48 bytes a member) or the
/// changes since an earlier epoch's whole row, as `EpochMembersRowPlan` decides.
///
/// `epoch_members_backfill` lists rooms whose rows are to be (re)built: every room of a keyring made before migration
/// `v9-epoch-members` or `v16-epoch-member-changes`. They are built from the stored log right after the keyring is
/// unlocked; until then (a read-only keyring) an epoch without a row is answered from its roster.
extension Keyring {
    func epochMembersTag(_ room: RoomID, _ epoch: UInt64) -> [UInt8] { tag("epoch-members", room.bytes, u64(epoch)) }

    /// Stores the members of `commit`'s epoch, whole (`members` gives them) or as the changes since the whole row the
    /// row before builds on, as `EpochMembersRowPlan` decides (replacing a row for that epoch, as its roster is).
    func saveEpochMembers(_ db: Database, _ commit: Commit, members: () throws -> EpochMembers?) throws {
        let room = commit.roomID, epoch = commit.epoch
        // Whether a row is there, without opening it (SQLite answers `length` of a blob from its header).
        let existing = try Int.fetchOne(db.cachedStatement(sql: "SELECT length(sealed) FROM epoch_members WHERE epoch_tag = ?"),
                                        arguments: [Data(epochMembersTag(room, epoch))]) != nil
        var previous = EpochMembersRowPlan.Previous.missing
        if epoch > 0, !existing, let bytes = try epochMembersRowBytes(db, room, epoch - 1) {
            // A row that does not read is built on by none: this one is written whole.
            if let count = try? EpochMembersRow.wholeCount(bytes) {
                previous = .whole(count: count)
            } else if let delta = try? EpochMembersDelta.parse(bytes) {
                previous = .delta(delta)
            }
        }
        let row: [UInt8]
        switch EpochMembersRowPlan.form(epoch: epoch, previous: previous, existing: existing, effects: commit.rosterEffects) {
        case .whole:
            guard let whole = try members() else { return }
            row = whole.encoded
        case let .delta(delta):
            row = delta.encoded
        }
        let etag = epochMembersTag(room, epoch)
        let sealed = row.withUnsafeBytes { rows.seal($0, table: "epoch_members", primaryKey: etag) }
        try db.executeWithLargeBlob("INSERT OR REPLACE INTO epoch_members (epoch_tag, room_tag, sealed) VALUES (?, ?, ?)",
                                    [Data(etag), Data(roomTag(room))], blob: sealed)
    }

    /// The members of `room` at `epoch`, nil if that epoch was not accepted here. The table is checked against the
    /// keyring's digest first (a row put back from an older copy of the file is refused); an epoch whose row is not
    /// built yet is answered from its roster.
    func epochMembers(_ db: Database, _ room: RoomID, _ epoch: UInt64) throws -> EpochMembers? {
        try requireIntact(db, "epoch_members")
        guard let bytes = try epochMembersRowBytes(db, room, epoch) else {
            return try epochRoster(db, room, epoch).map(EpochMembers.init(roster:))
        }
        switch try membersRow(bytes) {
        case let .whole(members):
            return members
        case let .delta(delta):
            // A delta names its own epoch and builds on a whole row of an earlier one; anything else is a damaged keyring.
            guard delta.epoch == epoch, let baseBytes = try epochMembersRowBytes(db, room, delta.base),
                  case let .whole(base) = try membersRow(baseBytes), let members = try? base.applying(delta) else {
                throw KeyringError.integrityFailure(table: "epoch_members")
            }
            return members
        }
    }

    /// The opened row of `room` at `epoch`, nil if none is stored.
    func epochMembersRowBytes(_ db: Database, _ room: RoomID, _ epoch: UInt64) throws -> [UInt8]? {
        let etag = epochMembersTag(room, epoch)
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT sealed FROM epoch_members WHERE epoch_tag = ?"),
                                         arguments: [Data(etag)])
        guard let row = try cursor.next() else { return nil }
        return try row.withUnsafeData(atIndex: 0) { data in
            guard let data else { throw KeyringError.integrityFailure(table: "epoch_members") }
            return try data.withUnsafeBytes { (b) throws(KeyringError) in try rows.open(raw: b, table: "epoch_members", primaryKey: etag) }
        }
    }

    /// A stored row parsed; one that does not parse is an integrity failure.
    private func membersRow(_ bytes: [UInt8]) throws -> EpochMembersRow {
        guard let row = try? EpochMembersRow.parse(bytes) else { throw KeyringError.integrityFailure(table: "epoch_members") }
        return row
    }

    /// Builds the rows of every room listed in `epoch_members_backfill` from its stored log (whole rows from the
    /// stored rosters where the plan asks for them), one transaction per room, and takes it off the list in the same
    /// transaction. The room's rows are written anew (a keyring from before `v16-epoch-member-changes` holds a whole row
    /// for every epoch). Does nothing on a keyring opened read-only.
    func backfillEpochMembers() throws {
        try backfillRooms(listedIn: "epoch_members_backfill") { db, rtag in
            guard let record = try loadRoomRecord(db, tag: rtag) else { return }
            let id = try RoomID(bytes: Hex.decode(record.roomID, what: "room id"))
            try db.cachedStatement(sql: "DELETE FROM epoch_members WHERE room_tag = ?").execute(arguments: [Data(rtag)])
            for epoch in record.joinedEpoch...max(record.joinedEpoch, record.epoch) {
                guard let commit = try storedCommit(db, id, epoch) else { continue }
                try saveEpochMembers(db, commit) { try epochRoster(db, id, epoch).map(EpochMembers.init(roster:)) }
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
