import Foundation
import GRDB
import RoomKeyCore

/// The `member_tenure` table: per room and member, the sealed `MemberTenure` (the epochs it was a member, with its
/// handle), kept in the same transaction as every stored commit, so a message from any epoch is checked with one
/// indexed read instead of opening the rosters from its epoch to now. A row's key is the room's tag followed by
/// `member_key` (a keyed tag of the member alone, which also finds every room a member was in): the rows of one room sit
/// together, so the thousands a large room writes at once go in key order into both indexes instead of at random places.
///
/// `scale_backfill` lists rooms whose tenures and summary were not built yet: every room of a keyring made before
/// migration `v7-scale`. They are built from the stored log right after the keyring is unlocked; until then (a read-only
/// keyring) the tenure of such a room is computed from its log when asked.
extension Keyring {
    func tenureTag(_ room: RoomID, _ member: IdentityID) -> [UInt8] { roomTag(room) + memberKey(member) }
    func memberKey(_ member: IdentityID) -> [UInt8] { tag("member-key", member.bytes) }

    /// The identity key of `member` from any roster held here, found through its tenures: the members (with their
    /// keys) of the last epoch of its last stay that this keyring holds, one row; for a stay wholly before this keyring
    /// joined, the commit that added it. Nil when no room's tenures name it (or a room's tenures are not built yet).
    func rosterSigningKey(_ db: Database, _ member: IdentityID) throws -> SigningPublicKey? {
        for (roomTag, tenure) in try tenures(db, of: member) {
            guard let stay = tenure.stays.last, let (record, room) = try loadRoomRecordAndID(db, tag: roomTag) else { continue }
            let last = stay.left.map { $0 - 1 } ?? record.epoch
            if last >= record.joinedEpoch, last <= record.epoch, let key = try epochMembers(db, room, last)?.signingKey(of: member) {
                return key
            }
            guard let commit = try storedCommit(db, room, stay.joined) else { continue }
            for operation in commit.operations {
                switch operation {
                case let .create(_, creator) where creator.id == member: return creator.signingKey
                case let .add(card) where card.id == member: return card.signingKey
                default: continue
                }
            }
        }
        return nil
    }

    /// The stored tenure of `member` in `room` (as the commits stored so far by `storingCommits` left it), nil if it
    /// never was a member.
    func storedTenure(_ db: Database, _ room: RoomID, _ member: IdentityID) throws -> MemberTenure? {
        let mtag = tenureTag(room, member)
        if let pending = pendingTenures?[mtag] { return pending }
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM member_tenure WHERE member_tag = ?"), arguments: [Data(mtag)]) else {
            return nil
        }
        return try openTenure(Array(sealed), key: mtag, member: member)
    }

    /// The stored tenure of `member` in `room`, its table not checked against the digest: a guess for work that
    /// decides nothing (starting to make key pairs ahead), never for a decision. Nil for a room not built yet.
    func tenureGuess(_ db: Database, _ room: RoomID, _ member: IdentityID) throws -> MemberTenure? {
        if try awaitsBackfill(db, room) { return nil }
        return try storedTenure(db, room, member)
    }

    /// Every stored tenure of `member`, one per room it was ever in, with that room's row tag (found by `member_key`).
    func tenures(_ db: Database, of member: IdentityID) throws -> [(roomTag: [UInt8], tenure: MemberTenure)] {
        // An older sealed copy of a tenure row opens as well as the current one: only the table's digest tells them apart.
        try requireIntact(db, "member_tenure")
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT member_tag, room_tag, sealed FROM member_tenure WHERE member_key = ?"),
                         arguments: [Data(memberKey(member))]).map { row in
            let tenure = try openTenure(try row.blob("sealed", table: "member_tenure"), key: try row.blob("member_tag", table: "member_tenure"),
                                        member: member)
            return (try row.blob("room_tag", table: "member_tenure"), tenure)
        }
    }

    /// What `ContactAdmission` needs to know of `member`'s room memberships here: the handle of its latest stay in any
    /// room. Nil when no room's tenures name it.
    func membership(_ db: Database, of member: IdentityID) throws -> ContactAdmission.Membership? {
        guard let latest = try tenures(db, of: member).compactMap({ $0.tenure.stays.last }).max(by: { $0.joined < $1.joined }) else {
            return nil
        }
        return ContactAdmission.Membership(handle: latest.handle)
    }

    /// A sealed `member_tenure` row with primary key `mtag`, opened and checked to be `member`'s.
    private func openTenure(_ sealed: [UInt8], key mtag: [UInt8], member: IdentityID) throws -> MemberTenure {
        let plain = try rows.openSecret(sealed, table: "member_tenure", primaryKey: mtag)
        guard let tenure = try? MemberTenure.parse(plain.withUnsafeBytes { Array($0) }), tenure.member == member else {
            throw KeyringError.integrityFailure(table: "member_tenure")
        }
        return tenure
    }

    /// Saves tenures of `room` in row-key order: with the room's tag first, that is `member_key` order, so the
    /// primary-key index and `member_tenure_by_member` both take them page by page (with thousands of members, random
    /// inserts push dirty pages out to the log and read them back, over and over). Full groups of
    /// `tenureRowsPerInsert` rows go in one statement each: a room of many members saves a row per member, and one
    /// statement per row made that a third slower.
    private func saveTenures(_ db: Database, _ room: RoomID, _ tenures: [MemberTenure]) throws {
        let rtag = roomTag(room)
        tenureRowsWritten += tenures.count
        let ordered = tenures.map { (memberKey($0.member), $0) }.sorted { BytesOrder.precedes($0.0, $1.0) }
        // Both statements are cached: compiling one (with GRDB's authorizer called per column) costs more than an
        // insert, and an ordinary commit changes a few tenures, one row at a time as before.
        let full = try db.cachedStatement(sql: Self.tenureInsertFull)
        let single = try db.cachedStatement(sql: Self.tenureInsertSingle)
        var start = 0
        while start < ordered.count {
            let n = ordered.count - start >= Self.tenureRowsPerInsert ? Self.tenureRowsPerInsert : 1
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(4 * n)
            for (key, tenure) in ordered[start..<(start + n)] {
                let mtag = rtag + key
                let sealed = tenure.encoded.withUnsafeBytes { rows.seal($0, table: "member_tenure", primaryKey: mtag) }
                arguments += [Data(mtag), Data(rtag), Data(key), Data(sealed)]
            }
            try (n == 1 ? single : full).execute(arguments: StatementArguments(arguments))
            start += n
        }
    }

    /// How many tenure rows one insert statement writes (measured: 16, 64, 256 and 1,024 rows; 64 was fastest).
    static let tenureRowsPerInsert = 64

    /// The statement that inserts (or replaces) `tenureRowsPerInsert` tenure rows, built once.
    static let tenureInsertFull = tenureInsert(rows: tenureRowsPerInsert)
    /// The statement that inserts (or replaces) one tenure row.
    static let tenureInsertSingle = tenureInsert(rows: 1)

    /// The statement that inserts (or replaces) `rows` tenure rows.
    private static func tenureInsert(rows: Int) -> String {
        "INSERT OR REPLACE INTO member_tenure (member_tag, room_tag, member_key, sealed) VALUES "
            + repeatElement("(?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    /// Builds `room`'s tenures from its stored log through `epoch` and saves them.
    private func rebuildTenures(_ db: Database, _ room: RoomID, through epoch: UInt64) throws {
        try saveTenures(db, room, Array(tenures(fromLog: try storedLog(db, room, through: epoch)).values))
    }

    /// Records what an accepted commit changes in its members' tenures, and in the room's summary, in the transaction
    /// that stores it; `roster` is the roster the commit produced. A commit recorded already changes nothing. With
    /// `newRoom` (the genesis of a room made in this transaction) no stored tenure is looked up.
    func noteMembership(_ db: Database, _ commit: Commit, roster: Roster, newRoom: Bool = false) throws {
        // A room whose tenures are not built yet (a keyring opened without the backfill, such as one just restored) has
        // them built from its log up to this commit first, so the commit's changes apply to its real tenures.
        if !newRoom, commit.epoch > 0, try awaitsBackfill(db, commit.roomID) {
            try rebuildTenures(db, commit.roomID, through: commit.epoch - 1)
            try db.cachedStatement(sql: "DELETE FROM scale_backfill WHERE room_tag = ?").execute(arguments: [Data(roomTag(commit.roomID))])
        }
        var joined: [IdentityID] = [], left: [IdentityID] = []
        var changed: [MemberTenure] = []
        for (member, changes) in MemberTenure.changes(of: commit) {
            let before = (newRoom ? nil : try storedTenure(db, commit.roomID, member)) ?? MemberTenure(member: member)
            if let latest = before.latestEpoch, latest >= commit.epoch { continue }
            var tenure = before
            tenure.apply(changes, at: commit.epoch)
            changed.append(tenure)
            if commit.epoch > 0, before.stay(at: commit.epoch - 1) != nil { left.append(member) }
            if roster[member] != nil { joined.append(member) }
        }
        if pendingTenures != nil {
            for tenure in changed { pendingTenures?[tenureTag(commit.roomID, tenure.member)] = tenure }
        } else {
            try saveTenures(db, commit.roomID, changed)
        }
        try noteSummary(db, commit, roster: roster, joined: joined, left: left)
    }

    /// Runs `body`, which stores the commits of one bundle (`storeCommit`), with their tenure changes kept in memory
    /// and saved once at the end: a bundle of N commits that each take out and add back one member cost every receiver
    /// N re-reads and re-seals of that member's growing record, quadratic in N (a hostile review measured 111 s for
    /// 8,000 such commits, in one write transaction that held the keyring). Each tenure is now read once and written once.
    /// The room's summary is kept in memory the same way and saved once: every commit rewrote it whole (its list of
    /// members on version 1 cards), which cost a bundle of N commits in a room of M members N x M.
    func storingCommits(_ db: Database, _ room: RoomID, _ body: () throws -> Void) throws {
        pendingTenures = [:]
        pendingSummary = (roomTag(room), nil)
        defer {
            pendingTenures = nil
            pendingSummary = nil
        }
        try body()
        if let pending = pendingTenures, !pending.isEmpty { try saveTenures(db, room, Array(pending.values)) }
        let summary = pendingSummary?.summary
        pendingTenures = nil
        pendingSummary = nil
        if let summary { try saveSummary(db, room, summary) }
    }

    /// The tenure of `member` in `room`: one indexed read, or, for a room not built yet (a keyring from before
    /// `v7-scale` opened read-only), computed from the stored log through `epoch`.
    func tenure(_ db: Database, _ room: RoomID, _ member: IdentityID, through epoch: UInt64) throws -> MemberTenure {
        // The decision "a member then and at every later epoch" rests on this row: a row put back from an older copy of
        // the file (before the member's removal) would make a removed member's messages believed again (hostile review).
        try requireIntact(db, "member_tenure", "scale_backfill")
        if try awaitsBackfill(db, room) {
            return try tenures(fromLog: storedLog(db, room, through: epoch))[member] ?? MemberTenure(member: member)
        }
        return try storedTenure(db, room, member) ?? MemberTenure(member: member)
    }

    /// Every member's tenure after replaying `log`'s membership changes.
    private func tenures(fromLog log: [Commit]) -> [IdentityID: MemberTenure] {
        var all: [IdentityID: MemberTenure] = [:]
        for commit in log {
            for (member, changes) in MemberTenure.changes(of: commit) {
                all[member, default: MemberTenure(member: member)].apply(changes, at: commit.epoch)
            }
        }
        return all
    }

    /// True when `room` is listed in `scale_backfill`.
    func awaitsBackfill(_ db: Database, _ room: RoomID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM scale_backfill WHERE room_tag = ?"), arguments: [Data(roomTag(room))]) ?? false
    }

    /// Builds the tenures of every room listed in `scale_backfill` from its stored log, one transaction per room, and
    /// takes it off the list in the same transaction. Does nothing on a keyring opened read-only.
    func backfillScaleIndexes() throws {
        try backfillRooms(listedIn: "scale_backfill") { db, rtag in
            guard let room = try loadRoom(db, tag: rtag) else { return }
            try rebuildTenures(db, room.id, through: room.state.epoch)
            try saveSummary(db, room.id, try summary(db, roster: room.state.roster, me: try identityCard(db)))
        }
    }
}

extension Keyring {
    /// `room forget`: deletes its tenures and their to-do entry (`roomTag` is the room's tag).
    func forgetTenures(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM member_tenure WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM scale_backfill WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
