import Foundation
import GRDB
import RoomKeyCore

/// Rollback detection: every write transaction counts itself in a sealed row, and the count is also kept, authenticated
/// with the keyring key, in a small state file outside the keyring. A keyring whose count is below its state file's was
/// replaced by an older copy of itself.
extension Keyring {
    /// The sealed plaintext of the `write_counter` row.
    struct WriteCounter: Codable {
        var count: UInt64
        /// The row digest of each table (hex `RowDigest`; a table without rows is left out); see `Keyring+Integrity`.
        var digests: [String: String]?
        /// How many migrations the keyring had when this record was written.
        var migrations: Int?
        /// The keyring's line of copies (hex of 16 random bytes), new at each restore; absent until the first restore.
        /// The rollback anchor is kept per lineage: a restore starts a new one instead of lowering the old one.
        var lineage: String?
    }

    static let writeCounterKey: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]

    /// The stored count of write transactions (0 before the first one counted).
    func writeCount(_ db: Database) throws -> UInt64 {
        try writeCounter(db)?.count ?? 0
    }

    /// The sealed write counter record, if one was stored.
    func writeCounter(_ db: Database) throws -> WriteCounter? {
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM write_counter WHERE id = 1")) else { return nil }
        return try rows.open(WriteCounter.self, Array(sealed), table: "write_counter", primaryKey: Self.writeCounterKey)
    }

    /// Counts the running write transaction and folds its row changes into the sealed digests; returns the new count.
    /// With `startsLineage` set (a restore, an accepted rollback), the keyring starts a new lineage, and so a rollback
    /// anchor of its own.
    func bumpWriteCount(_ db: Database) throws -> UInt64 {
        try markAuditHead(db)
        let old = try writeCounter(db)
        let next = WriteCounter(count: (old?.count ?? 0) &+ 1, digests: try foldedDigests(db, sealed: old?.digests),
                                migrations: try KeyringSchema.migrator.appliedIdentifiers(db).count,
                                lineage: startsLineage ? Hex.encode(random.bytes(16)) : old?.lineage)
        startsLineage = false
        lineage = .some(next.lineage)
        let sealed = try rows.seal(record: next, table: "write_counter", primaryKey: Self.writeCounterKey)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO write_counter (id, sealed) VALUES (1, ?)").execute(arguments: [Data(sealed)])
        return next.count
    }

    /// The state file of this keyring's lineage in `folder`: named by a keyed tag, so it names no user and no path. A
    /// keyring never restored has none (the one file of its key); a restore starts a new lineage with its own file, so a
    /// backup restored elsewhere (to look at it) never lowers the live keyring's anchor (a review: an older copy of the
    /// live keyring then opened without a word, its ratchets rewound), and a keyring moved or linked keeps its anchor.
    func stateFilePath(in folder: String) -> String {
        let known: String?
        if case let .some(value) = lineage { known = value } else { known = (try? read { db in try writeCounter(db)?.lineage }) ?? nil }
        let tagged = known.flatMap { try? Hex.decode($0, what: "lineage") }.map { tag("state-file", $0) } ?? tag("state-file")
        return (folder as NSString).appendingPathComponent(Hex.encode(Array(tagged.prefix(16))) + ".state")
    }

    /// The state file of this keyring's path in `folder`: a keyed tag of its real path (links resolved). The count seen
    /// there is checked too, so a copy of another lineage put in the keyring's place (a backup restored elsewhere to look
    /// at it, then copied over the live keyring) is refused as well (a review of the lineage anchor alone).
    func pathStateFilePath(in folder: String) -> String {
        let real = Array(Self.realPath(anchorPath ?? path).utf8)
        return (folder as NSString).appendingPathComponent(Hex.encode(Array(tag("state-path", real).prefix(16))) + ".state")
    }

    /// `path` with every link resolved: the file itself when it exists, else its folder's real path and its name.
    static func realPath(_ path: String) -> String {
        OutputPath.realFolder(path) ?? OutputPath.physical(path, folder: OutputPath.realFolder)
    }

    /// The state file's text: nil when there is none; refused when the name holds something other than a regular file
    /// (a FIFO hung every command, a link had its target written over, a folder turned detection off), read without
    /// following a link or waiting on a FIFO.
    static func readStateFile(_ path: String) throws -> String? {
        if KeyringFile.isForeign(path) { throw KeyringError.companionNotOwn(path: path) }
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = Glibc.read(fd, &buffer, buffer.count)
        guard n > 0, n < 256 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    /// The line the state file holds for `count`: `roomkey-state-v1 COUNT MAC`.
    func stateLine(_ count: UInt64) -> String {
        "roomkey-state-v1 \(count) \(Hex.encode(tag("state-mac", u64(count))))\n"
    }

    /// The highest count the authentic state files of this keyring hold (its lineage's and its path's), or nil (none:
    /// missing, unreadable, or not made with this keyring's key).
    func seenCount(in folder: String) throws -> UInt64? {
        let counts = try [stateFilePath(in: folder), pathStateFilePath(in: folder)].compactMap { try count(inStateFile: $0) }
        return counts.max()
    }

    /// The count the state file `file` holds, or nil (missing, unreadable, or not made with this keyring's key).
    func count(inStateFile file: String) throws -> UInt64? {
        guard let text = try Self.readStateFile(file) else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 3, parts[0] == "roomkey-state-v1", let count = UInt64(parts[1]), text == stateLine(count) else { return nil }
        return count
    }

    /// Records `count` in the state file (best effort: a lost update only weakens detection, never blocks a command).
    ///
    /// A count that only grows (`durable` false: after a write, or catching up with the keyring at open) is not
    /// synced: it is written after the keyring's own commit is durable, so a crash can leave the file older, empty or
    /// missing (each read as "not seen"), never ahead of the keyring. A count that goes down (a restore, an accepted
    /// rollback) is synced, since losing it would leave the higher count behind and refuse the keyring.
    func recordState(_ count: UInt64, durable: Bool = false) {
        guard let folder = stateFolder else { return }
        // A count that only grows never lowers the file: a file swapped under a running command must not make this
        // machine forget the count it saw.
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // A lineage's count only grows (a restore or an accepted rollback starts a new lineage, whose file is new). A
        // durable write (a restore, an accepted rollback) lowers the path's count to `count` when it holds more, as the
        // keyring there was deliberately replaced, and never raises it: a restore killed before its rename leaves the
        // old keyring there, which must still open.
        let lineageFile = stateFilePath(in: folder), pathFile = pathStateFilePath(in: folder)
        for file in [lineageFile, pathFile] {
            let seen = try? self.count(inStateFile: file)
            if let seen, durable && file == pathFile ? seen <= count : seen >= count { continue }
            // A new file renamed over the name: never written through a link or into a FIFO found there.
            try? OutputPath.write(Data(stateLine(count).utf8), to: file, replace: true, durable: durable, followLinks: false,
                                  inPlace: false)
        }
    }

    /// Makes this machine's state file follow the keyring as it is now (after a deliberate restore).
    public func acceptCurrentState(stateFolder folder: String) throws {
        stateFolder = folder
        recordState(try read { db in try writeCount(db) }, durable: true)
    }

    /// Checks the keyring against its state file at open, before anything writes. A keyring behind it is refused unless
    /// `acceptRollback`; then the count it was rolled back from and the one it holds are returned, for `acceptRollback` to
    /// make every room rotate once the keyring is upgraded. A keyring at or ahead of the file updates it.
    func checkRollback(acceptRollback: Bool) throws -> (seen: UInt64, count: UInt64)? {
        guard let folder = stateFolder else { return nil }
        // The state file first: it is written only after the keyring's commit, and the keyring's count only grows, so
        // another process writing in between cannot make this keyring look older than the file.
        let seen = try seenCount(in: folder)
        // A keyring from before the write counter (`v5-outbox`) counts none yet.
        let count = try read { db in try db.tableExists("write_counter") ? try writeCount(db) : 0 }
        guard let seen, seen > count else {
            if readOnlyReason == nil, seen != count { recordState(count) }
            return nil
        }
        guard acceptRollback else { throw KeyringError.rolledBack(path: path, keyring: count, seen: seen) }
        return (seen, count)
    }

    /// Accepts a rollback from write `seen` to `count`: every room rotates before its next message (as after a restore),
    /// and the keyring starts a new lineage whose state file follows it; the old lineage's anchor stays, so the copies
    /// between this one and the newest are still refused (a review: lowering it let them all open).
    func acceptRollback(_ rollback: (seen: UInt64, count: UInt64)) throws {
        let (seen, count) = rollback
        startsLineage = true
        try write { db in
            try rotateEveryRoom(db)
            try audit(db, .restore, "accepted a rollback from write \(seen) to \(count); every room rotates before its next message")
        }
        recordState(try read { db in try writeCount(db) }, durable: true)
    }
}
