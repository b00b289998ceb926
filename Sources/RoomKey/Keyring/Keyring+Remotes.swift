import Foundation
import GRDB
import RoomKeyCore

/// A git remote as `remote list` shows it.
public struct RemoteInfo: Sendable, Equatable {
    /// The remote's local name.
    public let name: String
    /// The URL git fetches from and pushes to.
    public let url: String
    /// When it was added.
    public let added: UInt64
    /// The remote's branch tip at the last sync (a git commit id), if any.
    public let lastSynced: String?
}

/// Why a room cannot leave its remote now.
public enum StagedChangesError: Error, Equatable, Sendable {
    /// The room has changes staged for (or a commit being pushed to) the remote it would leave.
    case staged(room: String, remote: String, intents: Int, flight: Bool)
}

extension StagedChangesError: RoomKeyError {
    /// A rule refuses it: the staged changes would be orphaned.
    public var category: ErrorCategory { .refused }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .staged(room, remote, intents, flight):
            "room \"\(room)\" has \(intents) change(s) staged for remote \(remote)" + (flight ? " and a commit being pushed" : "")
        }
    }

    /// What to do.
    public var hint: String? {
        switch self {
        case let .staged(_, remote, _, _): "run 'roomkey sync \(remote)' to publish them first, or add --force to delete them"
        }
    }
}

/// The `remote` table (sealed name, URL and last-synced marker, in the order added) and `room_remote` (the remote a
/// room uses when the keyring has several).
extension Keyring {
    /// The sealed plaintext of a `remote` row.
    struct RemoteRecord: Codable {
        var name: String
        var url: String
        var added: UInt64
        var lastSynced: String?
        /// Paths at `lastSynced` that a sync left unread (its byte budget ran out): the next sync reads them first.
        var unread: [String]?
        /// Room folders at `lastSynced` that a sync set aside (too many files, or no room left after the others): the next
        /// sync lists them whole again instead of comparing them with the marker, which would skip them for good.
        var skippedFolders: [String]?
    }

    /// The sealed plaintext of a `room_remote` row.
    struct RoomRemoteRecord: Codable {
        var roomID: String
        var remote: String
    }

    func remoteTag(_ name: String) -> [UInt8] { tag("remote", Array(name.utf8)) }

    /// Adds a remote; refuses a name in use.
    public func addRemote(name: String, url: String) throws -> RemoteInfo {
        try RemoteAddress.validateName(name)
        try RemoteAddress.validateURL(url)
        return try write { db in
            let tag = remoteTag(name)
            if try Data.fetchOne(db.cachedStatement(sql: "SELECT name_tag FROM remote WHERE name_tag = ?"), arguments: [Data(tag)]) != nil {
                throw RemoteError.exists(name)
            }
            let record = RemoteRecord(name: name, url: url, added: now(), lastSynced: nil)
            let seq = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM remote")) ?? 0) + 1
            try db.cachedStatement(sql: "INSERT INTO remote (name_tag, seq, sealed) VALUES (?, ?, ?)").execute(
                           arguments: [Data(tag), seq, Data(try rows.seal(record: record, table: "remote", primaryKey: tag))])
            try audit(db, .remote, "added remote \(name)")
            return RemoteInfo(record)
        }
    }

    /// Every remote, in the order added.
    public func remotes() throws -> [RemoteInfo] {
        try read { db in try remoteRecords(db).map(RemoteInfo.init) }
    }

    /// Removes a remote and every room's choice of it; returns what it was. Refused while a room on it has staged changes
    /// or a commit being pushed, unless `force`, which deletes them (recorded in the audit log).
    public func removeRemote(name: String, force: Bool = false) throws -> RemoteInfo {
        let me = try identity()
        let taken = force ? flightsTaken(remote: name, me: me.id) : []
        return try write { db in
            guard let record = try remoteRecord(db, name) else { throw RemoteError.notFound(name) }
            for room in try allRooms(db) where try remoteName(db, room: room.id) == name {
                try dropStaged(db, room: room, remote: name, force: force, taken: taken, me: me)
            }
            try db.cachedStatement(sql: "DELETE FROM remote WHERE name_tag = ?").execute(arguments: [Data(remoteTag(name))])
            for (tag, choice) in try roomRemoteRecords(db) where choice.remote == name {
                try db.cachedStatement(sql: "DELETE FROM room_remote WHERE room_tag = ?").execute(arguments: [Data(tag)])
            }
            try audit(db, .remote, "removed remote \(name)")
            return RemoteInfo(record)
        }
    }

    /// Makes `room` use the remote `name` (`room set ROOM --remote NAME`). Refused while the room has staged changes or a
    /// commit being pushed through its current remote, unless `force`, which deletes them (recorded in the audit log).
    public func setRemote(room nameOrID: String, remote name: String, force: Bool = false) throws -> StoredRoom {
        let me = try identity()
        let current = try read { db in try remoteName(db, room: try findRoom(db, nameOrID).id) }
        let taken = force && current != nil && current != name ? flightsTaken(remote: current ?? "", me: me.id) : []
        return try write { db in
            let room = try findRoom(db, nameOrID)
            guard try remoteRecord(db, name) != nil else { throw RemoteError.notFound(name) }
            if let current = try remoteName(db, room: room.id), current != name {
                try dropStaged(db, room: room, remote: current, force: force, taken: taken, me: me)
            }
            let tag = roomTag(room.id)
            let record = RoomRemoteRecord(roomID: room.id.hex, remote: name)
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO room_remote (room_tag, sealed) VALUES (?, ?)").execute(
                           arguments: [Data(tag), Data(try rows.seal(record: record, table: "room_remote", primaryKey: tag))])
            try audit(db, .remote, "room \(Self.auditRoom(room.name, room.id)) uses remote \(name)")
            return room
        }
    }

    /// The commits being pushed through `remote` (their bundles) that the remote holds now, byte for byte at their paths:
    /// a sync killed after its push leaves such a commit. One fetch, given `flightCheckSeconds` (and as long for the
    /// mirror's lock); none when the remote cannot be reached in that time: `--force` is what one uses on a dead remote.
    private func flightsTaken(remote name: String, me: IdentityID) -> Set<Data> {
        // Only the flights of rooms that use this remote: no other remote's commit is fetched for, or hashed.
        guard let (info, flights) = try? read({ db in
            (try remoteRecord(db, name), try flights(db).filter { flight in
                try remoteName(db, room: try RoomID(bytes: Hex.decode(flight.roomID, what: "room id"))) == name
            })
        }), let info, !flights.isEmpty, let stateFolder else { return [] }
        let url = RemoteInfo(info).url
        guard (try? RemoteAddress.validateURL(url)) != nil else { return [] }
        let mirror = GitMirror(folder: GitMirror.folder(stateFolder: stateFolder, remote: name, identity: me.hex, url: url), url: url,
                               timeout: Self.flightCheckSeconds)
        guard let lock = try? SyncLock(path: GitMirror.lock(of: mirror.folder), maximumWait: Self.flightCheckSeconds) else { return [] }
        defer { lock.release() }
        let paths = flights.map { RemoteLayout.commitPath(room: $0.roomID, epoch: $0.epoch) }
        guard (try? mirror.prepare(started: Date())) != nil, let tip = try? mirror.fetch(fileLimit: syncFileLimit).tip,
              let present = try? mirror.files(at: tip, under: paths), let ids = try? mirror.blobIDs(of: flights.map { Array($0.bundle) }) else {
            return []
        }
        return Set(zip(flights, zip(paths, ids)).compactMap { flight, file in present[file.0] == file.1 ? flight.bundle : nil })
    }

    /// How long `remote remove --force` waits for the remote to say which commits being pushed it holds (30 s).
    static let flightCheckSeconds: Double = 30

    /// Refuses (`StagedChangesError`) when `room` has staged intents or a flight for `remote`; with `force`, applies the
    /// flight when the remote holds its bundle (`taken`), deletes the rest, and records it in the audit log.
    private func dropStaged(_ db: Database, room: StoredRoom, remote: String, force: Bool, taken: Set<Data>,
                            me: borrowing LocalIdentity) throws {
        let intents = try stagedCount(db, room: room.id)
        let flight = try flight(db, room: room.id)
        guard intents > 0 || flight != nil else { return }
        guard force else { throw StagedChangesError.staged(room: room.name, remote: remote, intents: intents, flight: flight != nil) }
        // A commit being pushed that the remote holds (a sync killed after its push) is applied here, its bundle recorded
        // in the outbox, as the next sync would have done: deleted, it let this keyring make another commit for that
        // epoch, and members who had it from the remote were forked (a crash review). One the remote does not hold (it
        // lost the race, or waits on a commit this keyring cannot apply) is deleted: applied, it forked the room (the
        // review of that fix).
        var applied: UInt64?
        // Compared by its bytes here, in the transaction: a sync in between may have staged another commit for the room.
        if let flight, taken.contains(flight.bundle), let deliver = sink?.name { applied = try applyFlight(db, flight, me: me, deliver: deliver)?.epoch }
        _ = try deleteStaged(db, room: room.id)
        try audit(db, .staged, "\(Self.auditRoom(room.name, room.id)): \(intents) staged change(s)"
                  + (flight == nil ? "" : applied.map { " (the commit being pushed applied at epoch \($0))" } ?? " and the commit being pushed")
                  + " deleted (--force) as the room left remote \(remote)")
    }

    /// The remote a room uses: its own choice, else the first remote added; nil without remotes.
    public func remote(forRoom nameOrID: String) throws -> RemoteInfo? {
        try read { db in try remoteName(db, room: try findRoom(db, nameOrID).id).flatMap { try remoteRecord(db, $0) }.map(RemoteInfo.init) }
    }

    /// The name of the remote `room` uses, in the caller's transaction.
    func remoteName(_ db: Database, room: RoomID) throws -> String? {
        let tag = roomTag(room)
        // An older row put back (a remote the user moved away from) would send the room's changes there again. (The
        // `remote` rows are checked by `remoteRecord` and `remoteRecords`, which read them.)
        try requireIntact(db, "room_remote")
        if let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM room_remote WHERE room_tag = ?"), arguments: [Data(tag)]) {
            let choice = try rows.open(RoomRemoteRecord.self, Array(sealed), table: "room_remote", primaryKey: tag)
            if try remoteRecord(db, choice.remote) != nil { return choice.remote }
        }
        return try remoteRecords(db).first?.name
    }

    /// One remote's record.
    func remoteRecord(_ db: Database, _ name: String) throws -> RemoteRecord? {
        let tag = remoteTag(name)
        try requireIntact(db, "remote")
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM remote WHERE name_tag = ?"), arguments: [Data(tag)]) else { return nil }
        let record = try rows.open(RemoteRecord.self, Array(sealed), table: "remote", primaryKey: tag)
        guard record.name == name else { throw KeyringError.integrityFailure(table: "remote") }
        return record
    }

    /// Every remote's record, in the order added.
    func remoteRecords(_ db: Database) throws -> [RemoteRecord] {
        try requireIntact(db, "remote")
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT name_tag, sealed FROM remote ORDER BY seq")).map { row in
            try rows.open(RemoteRecord.self, try row.blob("sealed", table: "remote"), table: "remote", primaryKey: try row.blob("name_tag", table: "remote"))
        }
    }

    /// Every room's explicit choice.
    private func roomRemoteRecords(_ db: Database) throws -> [(tag: [UInt8], record: RoomRemoteRecord)] {
        try requireIntact(db, "room_remote")
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT room_tag, sealed FROM room_remote")).map { row in
            let tag = try row.blob("room_tag", table: "room_remote")
            return (tag, try rows.open(RoomRemoteRecord.self, try row.blob("sealed", table: "room_remote"), table: "room_remote", primaryKey: tag))
        }
    }

    /// Records the remote's branch tip that this keyring has received everything of but `unread` (nil: the paths
    /// left unread before).
    func saveSyncMarker(_ db: Database, remote name: String, tip: String?, unread: [String]? = nil, skipped: [String]? = nil) throws {
        guard var record = try remoteRecord(db, name) else { throw RemoteError.notFound(name) }
        record.lastSynced = tip
        if let unread { record.unread = unread.isEmpty ? nil : unread }
        if let skipped { record.skippedFolders = skipped.isEmpty ? nil : skipped }
        try updateRemoteRecord(db, record)
    }

    /// Seals `record` again into its existing `remote` row.
    private func updateRemoteRecord(_ db: Database, _ record: RemoteRecord) throws {
        let tag = remoteTag(record.name)
        try db.cachedStatement(sql: "UPDATE remote SET sealed = ? WHERE name_tag = ?").execute(
                       arguments: [Data(try rows.seal(record: record, table: "remote", primaryKey: tag)), Data(tag)])
    }
}

extension RemoteInfo {
    init(_ r: Keyring.RemoteRecord) { self.init(name: r.name, url: r.url, added: r.added, lastSynced: r.lastSynced) }
}

extension Keyring {
    /// `room forget`: deletes its remote (`roomTag` is the room's tag), and has every remote list the room's folder
    /// whole at its next sync, as a folder set aside: a sync lists only what changed since its marker, so the files of
    /// a forgotten room never came again and the room stayed gone (a review).
    func forgetRoomRemote(_ db: Database, roomTag: Data, roomID: RoomID) throws {
        try db.cachedStatement(sql: "DELETE FROM room_remote WHERE room_tag = ?").execute(arguments: [roomTag])
        for var record in try remoteRecords(db) where !(record.skippedFolders ?? []).contains(roomID.hex) {
            record.skippedFolders = (record.skippedFolders ?? []) + [roomID.hex]
            try updateRemoteRecord(db, record)
        }
    }
}
