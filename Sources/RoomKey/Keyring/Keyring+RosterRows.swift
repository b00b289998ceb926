import Foundation
import GRDB
import RoomKeyCore

/// The `room_epoch` table: per room and epoch, the roster, stored whole or as a replay of the commits since an earlier
/// whole one (`RosterRow`, in the form `RosterRowPlan` gives), and read back as the same roster either way. A replay's
/// base and commits are sealed rows of their own, bound to their epochs, so a replay is as trustworthy as a whole row.
extension Keyring {
    /// The sealed length of a replay row: a row of this length is opened to learn its form when planning the next one
    /// (a whole roster with a member seals to more than 200 bytes); any other length is a whole roster.
    private static let sealedReplayLength = RowCipher.overhead + RosterReplay.length

    /// Stores the roster of `commit`'s epoch, whole or as a replay, in the caller's transaction.
    func storeRoster(_ db: Database, _ commit: Commit, _ roster: Roster) throws {
        let etag = epochTag(commit.roomID, commit.epoch)
        let existing = try storedRosterSize(db, commit.roomID, commit.epoch) != nil
        let previous: RosterRowPlan.Previous = commit.epoch == 0 || existing ? .missing : try storedForm(db, commit.roomID, commit.epoch - 1)
        let sealed: [UInt8]
        switch RosterRowPlan.form(epoch: commit.epoch, previous: previous, existing: existing, commitSize: commit.encoded.count) {
        case .whole: sealed = roster.encoded.withUnsafeBytes { rows.seal($0, table: "room_epoch", primaryKey: etag) }
        case let .replay(replay): sealed = replay.encoded.withUnsafeBytes { rows.seal($0, table: "room_epoch", primaryKey: etag) }
        }
        // Hashed for its commit and now stored: the storage form is not needed again in this command, and the bundle's
        // buffers, the largest of a large room's commit, are still to come.
        roster.forgetEncoding()
        try db.executeWithLargeBlob("INSERT OR REPLACE INTO room_epoch (epoch_tag, room_tag, sealed) VALUES (?, ?, ?)",
                                    [Data(etag), Data(roomTag(commit.roomID))], blob: sealed)
    }

    /// The roster at `epoch`, if that epoch was accepted here.
    func epochRoster(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> Roster? {
        try storedRoster(db, id, epoch)
    }

    /// The roster at `epoch` as a lazy view (ids, and cards parsed on demand), if that epoch was accepted here.
    func epochRosterView(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> RosterView? {
        try storedRoster(db, id, epoch)
    }

    /// The roster at `epoch` read as `R`: a whole row parsed, or a replay's base with its commits applied, which must then
    /// be the roster its last commit names (a replay that ever disagreed with the rules' effects is a damaged keyring,
    /// never a wrong list of recipients: one streamed hash).
    private func storedRoster<R: StoredRoster>(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> R? {
        guard let bytes = try epochRosterBytes(db, id, epoch) else { return nil }
        switch try rosterRow(bytes, epoch: epoch) {
        case .whole:
            return try whole(bytes)
        case let .replay(replay):
            let base: R = try whole(try baseBytes(db, id, replay))
            let commits = try replayedCommits(db, id, replay)
            guard let replayed = try? base.replaying(commits, from: replay.base), replayed.hash == commits.last?.rosterHash else {
                throw KeyringError.integrityFailure(table: "room_epoch")
            }
            return replayed
        }
    }

    /// What is stored for `epoch`: nothing, a whole roster (with its sealed size), or a replay.
    private func storedForm(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> RosterRowPlan.Previous {
        guard let size = try storedRosterSize(db, id, epoch) else { return .missing }
        guard size == Self.sealedReplayLength else { return .whole(size: size) }
        guard let bytes = try epochRosterBytes(db, id, epoch) else { return .missing }
        switch try rosterRow(bytes, epoch: epoch) {
        case .whole: return .whole(size: size)
        case let .replay(replay): return .replay(replay)
        }
    }

    /// The sealed size of `epoch`'s row, without reading it (SQLite answers `length` of a blob from its header).
    private func storedRosterSize(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT length(sealed) FROM room_epoch WHERE epoch_tag = ?"),
                         arguments: [Data(epochTag(id, epoch))])
    }

    /// The stored roster bytes of `epoch`, if that epoch was accepted here.
    private func epochRosterBytes(_ db: Database, _ id: RoomID, _ epoch: UInt64) throws -> [UInt8]? {
        let etag = epochTag(id, epoch)
        // A roster row is large (megabytes in a big room): it is opened where SQLite holds it, into one plain array.
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT sealed FROM room_epoch WHERE epoch_tag = ?"), arguments: [Data(etag)])
        guard let row = try cursor.next() else { return nil }
        return try row.withUnsafeData(atIndex: 0) { data in
            guard let data else { throw KeyringError.integrityFailure(table: "room_epoch") }
            return try data.withUnsafeBytes { (b) throws(KeyringError) in try rows.open(raw: b, table: "room_epoch", primaryKey: etag) }
        }
    }

    /// The form of a stored row for `epoch`; a replay must name that epoch.
    private func rosterRow(_ bytes: [UInt8], epoch: UInt64) throws -> RosterRow {
        guard let row = try? RosterRow.kind(of: bytes) else { throw KeyringError.integrityFailure(table: "room_epoch") }
        if case let .replay(replay) = row, replay.epoch != epoch { throw KeyringError.integrityFailure(table: "room_epoch") }
        return row
    }

    /// The bytes of a replay's base, which must be a whole roster.
    private func baseBytes(_ db: Database, _ id: RoomID, _ replay: RosterReplay) throws -> [UInt8] {
        guard let bytes = try epochRosterBytes(db, id, replay.base), try rosterRow(bytes, epoch: replay.base) == .whole else {
            throw KeyringError.integrityFailure(table: "room_epoch")
        }
        return bytes
    }

    /// The stored commits a replay applies, in order.
    private func replayedCommits(_ db: Database, _ id: RoomID, _ replay: RosterReplay) throws -> [Commit] {
        try (1...UInt64(replay.commits)).map { k in
            guard let commit = try storedCommit(db, id, replay.base + k) else { throw KeyringError.integrityFailure(table: "room_commit") }
            return commit
        }
    }

    /// A whole row read as `R`; one that does not parse is an integrity failure.
    private func whole<R: StoredRoster>(_ bytes: [UInt8]) throws -> R {
        guard let roster = try? R(wholeRow: bytes) else { throw KeyringError.integrityFailure(table: "room_epoch") }
        return roster
    }
}

extension Keyring {
    /// `room forget`: deletes its rosters (`roomTag` is the room's tag).
    func forgetRosterRows(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM room_epoch WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
