import Foundation
import GRDB
import RoomKeyCore

/// One entry of the transactional outbox: a bundle recorded with the state it belongs to, written out after commit.
public struct OutboxEntry: Sendable {
    /// Where the caller asked the bundle to be written.
    public let target: String
    /// The room.
    public let roomID: RoomID
    /// The room's name when the bundle was made.
    public let roomName: String
    /// The bundle's epoch.
    public let epoch: UInt64
    /// What it carries: `commit`, `sender-key`, `leave-request` or `resend`.
    public let kind: String
    /// When it was recorded.
    public let created: UInt64
    /// When it was written out, if it was.
    public let delivered: UInt64?
    /// Its size in bytes.
    public let size: Int
}

/// Names a bundle's file (inside the keyring transaction; nothing is written yet) and writes it (after commit).
/// The keyring never picks files: the caller does both.
public struct BundleSink {
    /// Chooses the file a new bundle goes to (the outbox folder's next name, say).
    public let name: BundleDelivery
    /// Writes bytes to a file named earlier, durably (temp file, fsync, rename, fsync of the folder). Writing the same
    /// bytes to the same file again must succeed: an entry whose write was interrupted is written again.
    public let write: (_ path: String, _ bytes: [UInt8]) throws -> Void

    /// Removes the file at `path` when it still holds exactly `bytes` (a bundle written and not taken yet, such as a
    /// leave request being withdrawn); true when it did. Nil: nothing written is ever removed.
    public let withdraw: ((_ path: String, _ bytes: [UInt8]) -> Bool)?

    /// A sink from its halves.
    public init(name: @escaping BundleDelivery, write: @escaping (_ path: String, _ bytes: [UInt8]) throws -> Void,
                withdraw: ((_ path: String, _ bytes: [UInt8]) -> Bool)? = nil) {
        self.name = name
        self.write = write
        self.withdraw = withdraw
    }

    /// Thrown by `write` for an entry it will never write where it was named (the standard output or a FIFO of an
    /// interrupted command, or a path where something else is now): the entry is written to a new name from `name`
    /// instead (the outbox folder), and `reason` is shown as a warning with that name.
    public struct Dropped: Error {
        /// Why, for the warning.
        public let reason: String
        /// A drop for `reason`.
        public init(reason: String) { self.reason = reason }
    }
}

/// Why an outbox entry could not be written out.
public enum OutboxError: Error, Equatable, Sendable {
    /// The state change is recorded; its bundle is not written yet.
    case undelivered(path: String, reason: String)
    /// `outbox resend` names an epoch this keyring does not hold.
    case noSuchEpoch(room: String, epoch: UInt64)
    /// `outbox resend` names an epoch before this keyring joined the room (`joined`).
    case beforeJoin(room: String, epoch: UInt64, joined: UInt64)
    /// `outbox resend` names an epoch that ended longer ago than the room's retention: its keys are not sent again.
    case pastRetention(room: String, epoch: UInt64)
    /// `room forget` would delete bundles of the room that are recorded but not written yet (their epochs).
    case unsentBeforeForget(room: String, epochs: [UInt64])
}

extension OutboxError: RoomKeyError {
    /// A failed write is an I/O failure; an unknown epoch is not found.
    public var category: ErrorCategory {
        switch self {
        case .undelivered: .failure
        case .noSuchEpoch, .beforeJoin: .notFound
        case .unsentBeforeForget, .pastRetention: .refused
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .undelivered(path, reason): "the change is recorded but its bundle was not written to \(path): \(reason)"
        case let .noSuchEpoch(room, epoch): "room \"\(room)\" has no epoch \(epoch) here"
        case let .beforeJoin(room, epoch, joined):
            "epoch \(epoch) of room \"\(room)\" is from before this keyring joined it (epoch \(joined)): it sent nothing then"
        case let .pastRetention(room, epoch):
            "epoch \(epoch) of room \"\(room)\" ended longer ago than the room's retention: its keys are not sent again"
        case let .unsentBeforeForget(room, epochs):
            "room \"\(room)\" has bundles its members need that are not written yet (epoch \(epochs.map(String.init).joined(separator: ", "))); nothing was changed"
        }
    }

    /// A next step.
    public var hint: String? {
        switch self {
        case .undelivered: "fix the cause, then run 'roomkey outbox flush' (any later command also retries it)"
        case .noSuchEpoch: "see 'roomkey room log ROOM' for the epochs this keyring holds"
        case .beforeJoin: "ask a member who was in the room then to resend it"
        case .pastRetention: "'--with-commit' sends its commit alone, for a keyring that lost it"
        case .unsentBeforeForget: "run 'roomkey outbox flush' (see 'roomkey outbox list'), then forget the room"
        }
    }
}

/// The outbox tables: `outbox` (sealed entries, delivered flag), `outbox_bundle` (each entry's sealed bundle, written
/// once) and `owed_rotation` (rooms whose own sender key for the current epoch is still to be made: the index of
/// `rotationDue` in the sealed room rows).
extension Keyring {
    /// The sealed plaintext of an `outbox` row (binary, see `OutboxRecord.encoded`; older rows hold the bundle too).
    struct OutboxRecord {
        var target: String
        var roomID: String
        var roomName: String
        var epoch: UInt64
        var kind: String
        var created: UInt64
        var delivered: UInt64?
        /// The generation of the sender key the bundle carries, when it carries a new one (names its file on a remote).
        var generation: UInt32?
        /// The bundle's length in bytes.
        var size: Int
        /// The bundle of an entry stored before `outbox_bundle`, inside its row; nil when the bundle is its own row.
        var inline: [UInt8]?
    }

    /// An entry with its bundle.
    struct OutboxItem {
        /// The entry's row tag (`tag("outbox", 16 random bytes)`), the primary key of both its rows.
        let tag: [UInt8]
        /// What its `outbox` row says.
        let record: OutboxRecord
        /// The bundle file's bytes.
        let bytes: [UInt8]
    }

    /// How long delivered entries stay listed and resendable (30 days).
    static let outboxHistorySeconds: UInt64 = 30 * 24 * 3600

    /// Records a bundle in the caller's transaction and returns the file it will be written to after commit.
    func enqueue(_ db: Database, _ output: BundleOutput, kind: String, generation: UInt32? = nil, deliver: BundleDelivery) throws -> String {
        let target = try deliver(output)
        let tag = self.tag("outbox", random.bytes(16))
        // The bundle is megabytes in a large room: it is sealed once, from where it lies, into its own row, which marking
        // the entry delivered never touches; after the commit it is written from the same array, not read back.
        let record = OutboxRecord(target: target, roomID: output.roomID.hex, roomName: output.roomName, epoch: output.epoch,
                                  kind: kind, created: now(), delivered: nil, generation: generation, size: output.bytes.count)
        try insertOutboxEntry(db, tag: tag, record: record, bytes: output.bytes)
        outboxDirty = true
        enqueuedNow[tag] = OutboxItem(tag: tag, record: record, bytes: output.bytes)
        CrashPoint.reach(CrashPoint.inTransaction)
        return target
    }

    /// Undelivered entries, oldest first, with their bundles. An entry of `known` (recorded by the transaction that just
    /// committed) is taken from there instead of being read back and opened again.
    func undeliveredOutbox(known: [[UInt8]: OutboxItem] = [:]) throws -> [OutboxItem] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT entry_tag FROM outbox WHERE delivered = 0 ORDER BY seq")).map { row in
                let tag = try row.blob("entry_tag", table: "outbox")
                if let item = known[tag] { return item }
                guard let sealed = try Row.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM outbox WHERE entry_tag = ?"),
                                                    arguments: [Data(tag)]) else {
                    throw KeyringError.integrityFailure(table: "outbox")
                }
                let record = try openOutbox(try sealed.blob("sealed", table: "outbox"), tag: tag)
                return OutboxItem(tag: tag, record: record, bytes: try outboxBundle(db, tag: tag, record))
            }
        }
    }

    /// Every entry still kept (undelivered, and delivered within the history window), oldest first, without bundles.
    func outboxRecords(_ db: Database) throws -> [(tag: [UInt8], record: OutboxRecord)] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT entry_tag, sealed FROM outbox ORDER BY seq")).map { row in
            let tag = try row.blob("entry_tag", table: "outbox")
            return (tag, try openOutbox(try row.blob("sealed", table: "outbox"), tag: tag))
        }
    }

    /// The entries still kept that `keep` selects, oldest first, with their bundles (only theirs are read).
    func outboxRecords(_ db: Database, withBundles keep: (OutboxRecord) -> Bool) throws -> [OutboxItem] {
        try outboxRecords(db).filter { keep($0.record) }.map { tag, record in
            OutboxItem(tag: tag, record: record, bytes: try outboxBundle(db, tag: tag, record))
        }
    }

    /// Marks an entry written out: rewrites its small `outbox` row only. An entry stored before `outbox_bundle` (its
    /// bundle inside the row) gets its bundle row in the same transaction and its row in the current form. With
    /// `target`, the entry was written there instead of where it was named.
    func markDelivered(_ item: OutboxItem, target: String? = nil) throws {
        var done = item.record
        done.delivered = now()
        if let target { done.target = target }
        let moveBundle = done.inline != nil
        done.inline = nil
        let sealed = sealOutbox(done, tag: item.tag)
        try write { db in
            if moveBundle { try insertOutboxBundle(db, tag: item.tag, item.bytes) }
            try db.cachedStatement(sql: "UPDATE outbox SET delivered = 1, sealed = ? WHERE entry_tag = ?").execute(arguments: [Data(sealed), Data(item.tag)])
        }
    }

    /// Deletes delivered entries (both rows) older than the history window; returns how many. Entries are read oldest first and
    /// only until one made within the window (which was delivered within it too, if at all): the work is what expires,
    /// not the whole history the outbox keeps.
    func pruneOutbox(_ db: Database, now time: UInt64) throws -> Int {
        guard time >= Self.outboxHistorySeconds else { return 0 }
        let cutoff = time - Self.outboxHistorySeconds
        var expired: [[UInt8]] = []
        let cursor = try Row.fetchCursor(db, sql: "SELECT entry_tag, sealed FROM outbox ORDER BY seq")
        while let row = try cursor.next() {
            let tag = try row.blob("entry_tag", table: "outbox")
            let record = try openOutbox(try row.blob("sealed", table: "outbox"), tag: tag)
            if record.created > cutoff { break }
            if let delivered = record.delivered, delivered <= cutoff { expired.append(tag) }
        }
        try deleteOutboxEntries(db, tags: expired)
        return expired.count
    }

    /// Keeps the `owed_rotation` index in step with a room's sealed `rotationDue` flag.
    func noteOwedRotation(_ db: Database, _ room: RoomID, due: Bool) throws {
        if due {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO owed_rotation (room_tag) VALUES (?)").execute(arguments: [Data(roomTag(room))])
        } else {
            try db.cachedStatement(sql: "DELETE FROM owed_rotation WHERE room_tag = ?").execute(arguments: [Data(roomTag(room))])
        }
    }

    /// Rooms whose own sender key is owed, by room tag.
    func owedRotations() throws -> [[UInt8]] {
        try read { db in
            try requireIntact(db, "owed_rotation")
            return try Data.fetchAll(db.cachedStatement(sql: "SELECT room_tag FROM owed_rotation")).map { Array($0) } }
    }
}

extension Keyring {
    /// Deletes outbox entries (both rows) by tag: expired history (`pruneOutbox`), a leave request withdrawn by `room rejoin`.
    func deleteOutboxEntries(_ db: Database, tags: [[UInt8]]) throws {
        for tag in tags {
            try db.cachedStatement(sql: "DELETE FROM outbox_bundle WHERE entry_tag = ?").execute(arguments: [Data(tag)])
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE entry_tag = ?").execute(arguments: [Data(tag)])
        }
    }
}

extension Keyring {
    /// The epochs of a room's outbox entries that are not written yet.
    func undeliveredEpochs(_ db: Database, roomID: RoomID) throws -> [UInt64] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT entry_tag, sealed FROM outbox WHERE delivered = 0 ORDER BY seq")).compactMap { row in
            let record = try openOutbox(try row.blob("sealed", table: "outbox"), tag: try row.blob("entry_tag", table: "outbox"))
            return record.roomID == roomID.hex ? record.epoch : nil
        }
    }

    /// `room forget`: deletes the room's owed rotation and its outbox entries, waiting or delivered (both rows).
    func forgetOutbox(_ db: Database, roomTag: Data, roomID: RoomID) throws {
        try db.cachedStatement(sql: "DELETE FROM owed_rotation WHERE room_tag = ?").execute(arguments: [roomTag])
        var tags: [[UInt8]] = []
        let cursor = try Row.fetchCursor(db, sql: "SELECT entry_tag, sealed FROM outbox ORDER BY seq")
        while let row = try cursor.next() {
            let tag = try row.blob("entry_tag", table: "outbox")
            if try openOutbox(try row.blob("sealed", table: "outbox"), tag: tag).roomID == roomID.hex { tags.append(tag) }
        }
        try deleteOutboxEntries(db, tags: tags)
    }
}
