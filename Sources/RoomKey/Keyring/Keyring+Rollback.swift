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

    /// Checks, in a read or before anything is handed out, the rows every write transaction reads first
    /// (`bumpWriteCount` reads the audit head): a command that gives something out before its write (`decrypt`) refuses
    /// an edited row before, not after it has (review r: a plaintext written, then exit 2, at every run).
    func requireWhatWritesRead(_ db: Database) throws {
        try requireIntact(db, "audit_head")
    }

    /// Counts the running write transaction and folds its row changes into the sealed digests; returns the new count.
    /// With `startsLineage` set (a restore, an accepted rollback), the keyring starts a new lineage, and so a rollback
    /// anchor of its own.
    func bumpWriteCount(_ db: Database) throws -> UInt64 {
        try markAuditHead(db)
        let old = try writeCounter(db)
        let next = WriteCounter(count: (old?.count ?? 0) &+ 1, digests: try foldedDigests(db, sealed: old?.digests),
                                migrations: try KeyringSchema.migrator.appliedIdentifiers(db).count,
                                lineage: startsLineage ? replacing?.next ?? Hex.encode(random.bytes(16)) : old?.lineage)
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
        let known = lineageName()
        let tagged = (known == Self.noLineage ? nil : try? Hex.decode(known, what: "lineage")).map { tag("state-file", $0) } ?? tag("state-file")
        return (folder as NSString).appendingPathComponent(Hex.encode(Array(tagged.prefix(16))) + ".state")
    }

    /// How the path's state file names a keyring never restored (no lineage yet).
    static let noLineage = "-"

    /// This keyring's lineage (hex), or `noLineage`.
    func lineageName() -> String {
        let known: String?
        if case let .some(value) = lineage { known = value } else { known = (try? read { db in try writeCounter(db)?.lineage }) ?? nil }
        return known ?? Self.noLineage
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
        [try count(inStateFile: stateFilePath(in: folder)), try pathState(in: pathStateFilePath(in: folder))?.count].compactMap { $0 }.max()
    }

    /// The count the state file `file` holds, or nil (missing, unreadable, or not made with this keyring's key).
    func count(inStateFile file: String) throws -> UInt64? {
        guard let text = try Self.readStateFile(file) else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 3, parts[0] == "roomkey-state-v1", let count = UInt64(parts[1]), text == stateLine(count) else { return nil }
        return count
    }

    /// Records `count` in the state files (best effort: a lost update only weakens detection, never blocks a command).
    ///
    /// A count that only grows (`durable` false: after a write, or catching up with the keyring at open) is not
    /// synced: it is written after the keyring's own commit is durable, so a crash can leave the file older, empty or
    /// missing (each read as "not seen"), never ahead of the keyring. A count that goes down (a restore, an accepted
    /// rollback) is synced, since losing it would leave the higher count behind and refuse the keyring.
    func recordState(_ count: UInt64, durable: Bool = false) {
        try? recordState(count, durable: durable, strictly: false)
    }

    /// `recordState`; with `strictly`, a path's file that cannot be written throws (a restore must not go on to leave
    /// its keyring refused: a review found it exit 0 with a full state folder, and the restored keyring then refused).
    func recordState(_ count: UInt64, durable: Bool, strictly: Bool) throws {
        guard let folder = stateFolder else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // A lineage's count only grows (a restore or an accepted rollback starts a new lineage, whose file is new).
        let lineageFile = stateFilePath(in: folder)
        if (try? self.count(inStateFile: lineageFile)).flatMap({ $0 }).map({ $0 < count }) ?? true {
            try? putStateFile(stateLine(count), lineageFile, durable: durable)
        }
        let pathFile = pathStateFilePath(in: folder)
        guard let line = pathStateLine(count, durable: durable, seen: (try? pathState(in: pathFile)).flatMap { $0 }) else { return }
        do { try putStateFile(line, pathFile, durable: durable) } catch { if strictly { throw error } }
    }

    /// Writes a state file: a new file renamed over the name, never written through a link or into a FIFO found there.
    func putStateFile(_ line: String, _ file: String, durable: Bool) throws {
        try OutputPath.write(Data(line.utf8), to: file, replace: true, durable: durable, followLinks: false, inPlace: false)
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
        let atPath = try pathState(in: pathStateFilePath(in: folder))
        if let lineages = atPath?.lineages, !lineages.contains(lineageName()) {
            guard acceptRollback else { throw KeyringError.otherCopy(path: path) }
            return (max(seen ?? count, count), count)
        }
        guard let seen, seen > count else {
            if readOnlyReason == nil, seen != count || atPath?.lineages != [lineageName()] { recordState(count) }
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
        // The path's file names the new lineage and this one before the transaction that starts it, so that killed
        // between the two, the keyring opens either way (a review: it was refused again).
        let next = Hex.encode(random.bytes(16))
        replacing = (lineageName(), next)
        defer { replacing = nil }
        try recordState(count, durable: true, strictly: true)
        startsLineage = true
        try write { db in
            try rotateEveryRoom(db)
            try audit(db, .restore, "accepted a rollback from write \(seen) to \(count); every room rotates before its next message")
        }
        // The new lineage is the keyring's now: the path names it alone.
        replacing = nil
        recordState(try read { db in try writeCount(db) }, durable: true)
    }
}
