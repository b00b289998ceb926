import Foundation
import GRDB
import RoomKeyCore

/// Restores: a staged copy of a backup, checked completely before it replaces anything, in one rename.
extension Keyring {
    /// Restores the backup at `backupPath` to `path`; an existing keyring is replaced only with `force`.
    ///
    /// The backup is copied to a staged file beside `path` (`.roomkey-tmp-<random>`), and the staged copy is
    /// checked whole: SQLite's integrity check, the passphrase, every sealed row of every table, the audit chain.
    /// The restore mark (every room rotates before its next message, its generations move 2^16 on, and an audit
    /// entry) is written into the staged copy, which is flushed and then renamed over `path` in one step. Any
    /// failure removes the staged copy and leaves `path` exactly as it was. Returns the restored, opened keyring.
    /// `stateFolder` is this machine's rollback state folder: a backup that looks older than the row digest is refused
    /// when it knows the keyring.
    public static func restore(from backupPath: String, to path: String, force: Bool, passphrase: PassphraseProvider,
                               random: any RandomSource, now: @escaping () -> UInt64 = systemClock,
                               stateFolder: String? = nil) throws -> Keyring {
        // A keyring reached through a symbolic link is restored where the link leads, the link kept (as any output
        // file is written): staged in the target's folder and renamed onto the target. Renamed onto the link itself,
        // it left the target holding the old keyring and its keys (a hostile review).
        let path = try OutputPath.resolve(path)
        if !force, FileManager.default.fileExists(atPath: path) { throw RestoreError.wouldReplace(path: path) }
        guard FileManager.default.fileExists(atPath: backupPath) else { throw KeyringError.notFound(path: backupPath) }
        // A backup is a file: a FIFO would hang the copy, a device would be copied without end.
        var st = stat()
        guard stat(backupPath, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw RestoreError.notAFile(path: backupPath) }
        if let reason = KeyringFile.unreadableReason(backupPath) { throw KeyringError.unreadable(path: backupPath, reason: reason) }
        if let problem = KeyringFile.backupProblem(backupPath, size: Int(st.st_size)) { throw problem }
        let what = "restoring the backup"
        let madeFolders = try KeyringFile.createFolders(for: path)
        let folder = KeyringFile.folder(of: path)
        TemporaryFile.removeLeftovers(in: folder)
        let stagedFile: TemporaryFile
        do { stagedFile = try TemporaryFile.create(in: folder, for: path) } catch {
            for made in madeFolders { rmdir(made) }
            guard case OutputFileError.system(_, let code) = error else { throw error }
            if KeyringFile.isReadOnly(path) { throw KeyringError.readOnly(path: path) }
            throw KeyringFile.failure(code, path: path, action: "cannot create", while: what)
        }
        let staged = stagedFile.path
        defer { stagedFile.release() }
        var checked: Keyring?
        do {
            do {
                try KeyringFile.copyPrivate(from: backupPath, to: staged, while: what)
            } catch {
                if KeyringFile.isReadOnly(staged) { throw KeyringError.readOnly(path: path) }
                throw error
            }
            let keyring = try checkedStagedCopy(staged, backupPath: backupPath, passphrase: passphrase, stateFolder: stateFolder,
                                                random: random, now: now)
            checked = keyring
            try markRestored(keyring, backupPath: backupPath, what: what)
            let count = try keyring.read { db in try keyring.writeCount(db) }
            try keyring.db.close()
            KeyringFile.removeCompanions(of: staged)
            try KeyringFile.sync(staged, while: what)
            CrashPoint.reach(CrashPoint.beforeRename)
            do {
                // No other process may have the keyring open from here until the rename is done (`KeyringUseLock`).
                let exclusive = try KeyringUseLock(keyring: path, exclusive: true)
                defer { exclusive.release() }
                // The restored copy has a new lineage, whose anchor is recorded before the rename with the target path's
                // (lowered: the keyring there is deliberately replaced); the old lineage's anchor is left as it is, so an
                // older copy of the keyring replaced here is still refused, and a restore elsewhere leaves the live
                // keyring's anchors alone.
                if let stateFolder {
                    keyring.stateFolder = stateFolder
                    keyring.anchorPath = path
                    try keyring.recordState(count, durable: true, strictly: true)
                }
                try install(staged, at: path, force: force, what: what)
            }
            CrashPoint.reach(CrashPoint.afterRename)
            try? KeyringFile.sync(folder, while: what)
            // Closed before SQLite opens the restored file: closing a descriptor of that inode later would drop the new
            // connection's fcntl locks.
            stagedFile.release()
            return try keyring.reopened(at: path)
        } catch {
            try? checked?.db.close()
            KeyringFile.remove(path: staged)
            for made in madeFolders { rmdir(made) }
            throw error
        }
    }

    /// Opens the staged copy and checks it whole; any damage is reported against `backupPath`.
    private static func checkedStagedCopy(_ staged: String, backupPath: String, passphrase: PassphraseProvider, stateFolder: String?,
                                          random: any RandomSource, now: @escaping () -> UInt64) throws -> Keyring {
        let db: DatabaseQueue
        let header: KeyringHeader
        do {
            db = try DatabaseQueue(path: staged, configuration: configuration())
        } catch {
            throw damage(error, backupPath: backupPath, staged: staged)
        }
        do {
            let problems = try db.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
            guard problems == ["ok"] else {
                throw RestoreError.damaged(path: backupPath, reason: "SQLite's integrity check failed: \(problems.first ?? "no result")")
            }
            // SQLite reads a file by the page count in its header and ignores what follows the last page; a backup is
            // exactly its pages, as every other input is exactly its format (a hostile-input review: a backup with
            // bytes appended was restored, and the bytes copied into the keyring file).
            let (pageSize, pageCount) = try db.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0, try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: staged))?[.size] as? Int ?? -1
            if let reason = KeyringFile.pagesProblem(size: size, pageSize: pageSize, pages: pageCount) {
                throw RestoreError.damaged(path: backupPath, reason: reason)
            }
            header = try KeyringFile.checkedHeader(db, path: backupPath).header
        } catch {
            try? db.close()
            throw damage(error, backupPath: backupPath, staged: staged)
        }
        let key: SymmetricKey
        do { key = try header.unwrap(passphrase: passphrase) } catch { try? db.close(); throw error }
        let keyring = Keyring(path: staged, db: db, key: key, random: random, now: now,
                              isPassphraseProtected: header.needsPassphrase)
        do {
            // An older backup is upgraded here, its rows checked against its digests first (`upgradeSchema`); a current
            // one has every table checked below. A backup from before the digest has nothing to check them against.
            let upgrade = try keyring.upgradeSchema(stateFolder: stateFolder)
            try keyring.verifySealedRows(backupPath: backupPath)
            do { try keyring.verifyAudit() } catch let error as AuditError {
                throw RestoreError.damaged(path: backupPath, reason: error.message)
            }
            if upgrade == .upToDate { try keyring.verifyRows() }
        } catch {
            try? db.close()
            throw damage(error, backupPath: backupPath, staged: staged)
        }
        return keyring
    }

    /// Writes the restore mark into the staged copy and folds its write-ahead log into the main file.
    private static func markRestored(_ keyring: Keyring, backupPath: String, what: String) throws {
        do {
            try keyring.installDigestTriggers()
            keyring.startsLineage = true
            try keyring.db.inTransaction(.immediate) { db in
                try keyring.rotateEveryRoom(db)
                try keyring.audit(db, .restore, "restored from \(backupPath); every room rotates before its next message")
                _ = try keyring.bumpWriteCount(db)
                return .commit
            }
            keyring.digestCommitted()
            try keyring.db.writeWithoutTransaction { db in
                guard let result = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)"), result[0] as Int == 0 else {
                    throw KeyringError.database("could not fold the restored keyring's log into its file")
                }
            }
        } catch {
            switch Keyring.diagnosed(error, path: keyring.path, while: what) {
            case let reason as KeyringError where reason == .noSpace(while: what): throw reason
            default: throw damage(error, backupPath: backupPath, staged: keyring.path)
            }
        }
    }

    /// Moves the checked staged copy to `path`: over an existing keyring only with `force`, else only if `path` is
    /// still free.
    private static func install(_ staged: String, at path: String, force: Bool, what: String) throws {
        if !force {
            if link(staged, path) == 0 {
                unlink(staged)
                return
            }
            if errno == EEXIST { throw RestoreError.wouldReplace(path: path) }
            if FileManager.default.fileExists(atPath: path) { throw RestoreError.wouldReplace(path: path) }
        }
        // A log or index left beside the old keyring would be replayed into the restored one, so they go; but first the
        // old keyring's log is folded into its file, so that a restore killed before its rename leaves the old state
        // whole (its last commits may be only in the log).
        try foldLog(of: path, what: what)
        KeyringFile.removeCompanions(of: path)
        CrashPoint.reach(CrashPoint.logDeleted)
        if rename(staged, path) != 0 {
            let code = errno
            if [EROFS, EACCES, EPERM].contains(code) { throw KeyringError.readOnly(path: path) }
            throw KeyringFile.failure(code, path: path, action: "cannot replace", while: what)
        }
    }

    /// Folds the write-ahead log of the keyring at `path` into its file (a checkpoint that empties the log), and checks
    /// that the log is empty after: another process writing at that moment makes the restore fail rather than lose
    /// its write. A file that is no SQLite database, or is damaged, has no state a log could complete: nothing to fold.
    private static func foldLog(of path: String, what: String) throws {
        func logSize() -> Int? { (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int }
        if let companion = KeyringFile.foreignCompanion(of: path) { throw KeyringError.companionNotOwn(path: companion) }
        guard let size = logSize(), size > 0 else { return }
        var config = Configuration()
        config.busyMode = .timeout(30)
        do {
            let db = try DatabaseQueue(path: path, configuration: config)
            let folded = try db.writeWithoutTransaction { db -> Bool in
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else { return false }
                return (row[0] as Int) == 0
            }
            try db.close()
            guard folded else { throw RestoreError.keyringInUse(path: path) }
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            return
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            throw RestoreError.keyringInUse(path: path)
        } catch let error as DatabaseError {
            throw Keyring.diagnosed(error, path: path, while: what)
        }
        if let left = logSize(), left > 0 { throw RestoreError.keyringInUse(path: path) }
    }

    /// The error for a backup that failed its checks: a file that is no SQLite database at all is not a keyring,
    /// a full disk is a full disk, anything else SQLite found wrong is damage (exit 2).
    private static func damage(_ error: any Error, backupPath: String, staged: String) -> any Error {
        if let failure = error as? DatabaseError {
            if failure.resultCode == .SQLITE_NOTADB { return KeyringError.notAKeyring(path: backupPath) }
            if case KeyringError.noSpace? = Keyring.diagnosed(error, path: staged, while: "restoring the backup") as? KeyringError {
                return KeyringError.noSpace(while: "restoring the backup")
            }
            return RestoreError.damaged(path: backupPath, reason: "SQLite reports: \(failure.message ?? "\(failure.resultCode)")")
        }
        if let edited = error as? IntegrityError { return RestoreError.damaged(path: backupPath, reason: edited.message) }
        switch error as? KeyringError {
        case let .integrityFailure(table)?:
            return RestoreError.damaged(path: backupPath, reason: "a row in \(table) fails its integrity check")
        case .noIdentity?:
            return RestoreError.damaged(path: backupPath, reason: "it has no identity")
        case .database?, .readOnly?:
            return RestoreError.damaged(path: backupPath, reason: (error as? KeyringError)?.message ?? "\(error)")
        default:
            return error
        }
    }

    /// Every table whose rows are sealed under the row key, with the column its rows' associated data binds.
    static let sealedTables: [(table: String, key: String, integerKey: Bool)] = [
        ("identity", "id", true), ("contact", "name_tag", false), ("contact_key_history", "row_id", false),
        ("room", "room_tag", false), ("room_commit", "commit_tag", false), ("room_epoch", "epoch_tag", false),
        ("sender_key", "key_tag", false), ("pending_bundle", "bundle_tag", false), ("key_retention", "room_tag", false),
        ("audit_entry", "seq", true), ("audit_head", "id", true), ("room_bundle", "bundle_tag", false), ("outbox", "entry_tag", false), ("write_counter", "id", true),
        ("prune_clock", "id", true), ("member_tenure", "member_tag", false), ("room_summary", "room_tag", false),
        ("remote", "name_tag", false), ("room_remote", "room_tag", false), ("staged_intent", "intent_tag", false),
        ("staged_flight", "room_tag", false), ("epoch_members", "epoch_tag", false), ("outbox_bundle", "entry_tag", false),
        ("sender_key_head", "owner_tag", false), ("retired_key", "key_tag", false),
    ]

    /// Opens every sealed row of every table: each must authenticate under this keyring's row key, bound to its table
    /// and primary key. A table with sealed rows that is not known here is damage too.
    func verifySealedRows(backupPath: String) throws {
        try read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            for table in tables {
                let sealed = try db.columns(in: table).contains { $0.name == "sealed" }
                if sealed, !Self.sealedTables.contains(where: { $0.table == table }) {
                    throw RestoreError.damaged(path: backupPath, reason: "it has an unknown table \(table)")
                }
            }
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM identity") == 1 else { throw KeyringError.noIdentity }
            for (table, key, integerKey) in Self.sealedTables {
                for row in try Row.fetchAll(db, sql: "SELECT \(key) AS pk, sealed FROM \(table)") {
                    let primaryKey = integerKey ? u64(UInt64(try row.positiveInteger("pk", table: table)))
                                                : try row.blob("pk", table: table)
                    _ = try rows.openSecret(try row.blob("sealed", table: table), table: table, primaryKey: primaryKey)
                }
            }
        }
    }
}

/// Errors restoring a backup.
public enum RestoreError: Error, Equatable, Sendable {
    /// A keyring exists at the target and `--force` was not given.
    case wouldReplace(path: String)
    /// The backup failed a check: SQLite's integrity check, a sealed row, or its audit log.
    case damaged(path: String, reason: String)
    /// Another process kept using the keyring to be replaced while its log was being folded into it.
    case keyringInUse(path: String)
    /// The backup path is no regular file (a FIFO, a device, a folder).
    case notAFile(path: String)
}

extension RestoreError: RoomKeyError {
    /// Refusing to replace is a plain failure (exit 1); a damaged backup is a failed integrity check (exit 2).
    public var category: ErrorCategory {
        switch self {
        case .wouldReplace, .keyringInUse: .failure
        case .damaged: .rejected
        case .notAFile: .malformed
        }
    }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .wouldReplace(path): "a keyring already exists at \(path); restore never replaces one without --force"
        case let .damaged(path, reason): "backup \(path) is damaged: \(reason); nothing was restored"
        case let .keyringInUse(path): "another roomkey process has the keyring at \(path) open; nothing was restored"
        case let .notAFile(path): "backup \(path) is not a regular file (a FIFO, a device or a folder); nothing was restored"
        }
    }
    /// The next step.
    public var hint: String? {
        switch self {
        case .wouldReplace: "add --force to replace it, or restore to another path with --keyring to look at it"
        case .damaged: "the keyring was left as it was; restore an older backup"
        case .keyringInUse: "let it finish, then restore again"
        case .notAFile: nil
        }
    }
}
