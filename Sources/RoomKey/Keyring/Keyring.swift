import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif
import RoomKeyCore

/// Supplies the passphrase when, and only when, a keyring needs one.
public typealias PassphraseProvider = () throws -> SecretBytes

/// An open, unlocked keyring: a SQLite file whose secrets and personal metadata are sealed under the keyring key.
public final class Keyring {
    /// The keyring file's path.
    public let path: String
    /// The database connection (WAL, busy timeout, immediate write transactions).
    let db: DatabaseQueue
    /// The keyring key itself, kept only to re-wrap it in `changePassphrase`.
    private let masterKey: SymmetricKey
    /// Seals and opens rows.
    let rows: RowCipher
    /// Keys the blind indexes that let rows be found without storing names in clear.
    let tagKey: SymmetricKey
    /// The random source for keys and nonces.
    let random: any RandomSource
    /// The clock, seconds since the Unix epoch.
    public let now: () -> UInt64
    /// True when the keyring key is wrapped under a passphrase.
    public let isPassphraseProtected: Bool
    /// How many bytes of pending bundles a keyring keeps (`maxPendingBytes`; lowered only by tests).
    var pendingByteLimit = Keyring.maxPendingBytes
    /// The largest file sync reads from a remote (`Bundle.maxLength`; lowered only by tests).
    var syncFileLimit = Bundle.maxLength
    /// How many bytes of files one sync reads before leaving the rest to the next (twice the pending cap; lowered only
    /// by tests).
    var syncByteBudget = 2 * Keyring.maxPendingBytes
    /// Where outbox entries are written after their transaction commits; without one they stay in the outbox.
    public var sink: BundleSink?
    /// True when the running transaction recorded outbox entries.
    var outboxDirty = false
    /// True once this connection read an audit head that carries the row-digest mark (`markAuditHead`).
    var auditHeadMarked = false
    /// The outbox entries the running (or last committed) transaction recorded, by row tag, as recorded: writing them
    /// out after the commit needs no read back of what was just sealed.
    var enqueuedNow: [[UInt8]: OutboxItem] = [:]
    /// Rooms whose summaries a contact change in the running transaction made stale (recounted before it commits).
    var summariesDue: Set<[UInt8]> = []
    /// Contacts read in the running operation, by current id, while one (`createRoom`) asks for them to be kept; nil
    /// otherwise. Any contact write empties it.
    var contactsSeen: [IdentityID: Contact]?
    /// The summary last sealed or opened, with its row's sealed bytes: the same bytes always hold the same summary, and
    /// a commit reads back the summary it just updated (the stanza rule), which then costs no second decoding.
    var summaryMemo: (tag: [UInt8], sealed: [UInt8], summary: RosterSummary)?
    /// Tenures the commits of one received bundle changed, by row tag, while `storingCommits` stores them: each is read
    /// once and saved once at the end (`storingCommits`), not re-read and re-sealed at every commit.
    var pendingTenures: [[UInt8]: MemberTenure]?
    /// The summary of the room whose bundle `storingCommits` stores, as its commits so far left it (saved at the end).
    var pendingSummary: (tag: [UInt8], summary: RosterSummary?)?
    /// How many tenure rows this keyring object has written (what tests count: a bundle's commits write each once).
    var tenureRowsWritten = 0
    /// How many summary rows this keyring object has written (the same, for the room's summary).
    var summaryRowsWritten = 0
    /// Ephemeral key pairs being made ahead for the bundle the running operation will seal (`sealAhead`); the next
    /// `makeBundle` takes them, and the operation drops any it did not use.
    var ephemeralPool: EphemeralKeyPool?
    /// True from a `sealAhead` whose pool makes pairs until `dropSealAhead`, taken or not.
    var sealingAhead = false
    /// True while the outbox is being written out (its own transactions do not start another flush).
    var flushing = false
    /// Every entry written out by this keyring value, in order (for `outbox flush` to report).
    var flushed: [FlushedBundle] = []
    /// The folder of this machine's state files (rollback detection); nil turns the check off.
    var stateFolder: String?
    /// The lineage of the keyring's rollback anchor as last read or written (`.some(nil)`: none yet), nil until known.
    var lineage: String??
    /// True when the next counted write starts a new lineage (an accepted rollback).
    var startsLineage = false
    /// While an accepted rollback records the path's state ahead of starting its lineage, and starts it: the lineage it
    /// replaces and the one it starts (drawn first, so that it is recorded before the write that takes it).
    var replacing: (current: String, next: String)?
    /// The keyring path whose rollback anchor this keyring keeps, when not `path` (a restore's staged copy: its target).
    var anchorPath: String?
    /// Where the keyring reports what the user should know but that does not fail the command (undelivered bundles).
    public var onWarning: ((String) -> Void)?
    /// Warnings found while opening (permissions of a passphrase-protected keyring) for the caller to show.
    public internal(set) var openWarnings: [String] = []
    /// Set when the keyring could only be opened for reading (a read-only file, folder or mount, or a full disk):
    /// every write throws it before touching the file.
    let readOnlyReason: KeyringError?
    /// The shared lock this keyring holds while open (`KeyringUseLock`); nil for a copy being checked or made.
    var useLock: KeyringUseLock?
    /// How many write transactions this object committed (for tests of the batch commands).
    private(set) var committedWrites = 0
    /// How many sender-key rows were opened (a count for tests: work that must not grow with a room's history).
    var senderKeyRowsOpened = 0
    /// The running row digest's key and this connection's triggers (`Keyring+Integrity`).
    let integrity: IntegrityState

    init(path: String, db: DatabaseQueue, key: consuming SymmetricKey, random: any RandomSource,
         now: @escaping () -> UInt64, isPassphraseProtected: Bool, readOnlyReason: KeyringError? = nil) {
        self.path = path
        self.db = db
        self.readOnlyReason = readOnlyReason
        self.rows = RowCipher(key: key.derive(subkey: 1, context: KDFContext("rkrows01")), random: random)
        self.tagKey = key.derive(subkey: 2, context: KDFContext("rktags01"))
        self.integrity = IntegrityState(key: key.derive(subkey: 3, context: KDFContext("rkdgst01")))
        self.masterKey = key
        self.random = random
        self.now = now
        self.isPassphraseProtected = isPassphraseProtected
    }

    /// The system clock in whole seconds.
    public static func systemClock() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

    /// A new connection to the same keyring file at `newPath` (the file was renamed), with the same key.
    func reopened(at newPath: String) throws -> Keyring {
        let inUse = try KeyringUseLock(keyring: newPath, exclusive: false)
        let db: DatabaseQueue
        do { db = try DatabaseQueue(path: newPath, configuration: Keyring.configuration()) } catch {
            throw Keyring.diagnosed(error, path: newPath, while: "opening the keyring")
        }
        let keyring = Keyring(path: newPath, db: db, key: masterKey.duplicate(), random: random, now: now,
                              isPassphraseProtected: isPassphraseProtected)
        keyring.useLock = inUse
        return keyring
    }

    /// Throws what a write would when this keyring cannot be written (read-only, or a full disk).
    func requireWritable() throws {
        switch readOnlyReason {
        case .noSpace?: throw KeyringError.noSpace(while: "writing the keyring")
        case let reason?: throw reason
        case nil: break
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: all of it lands, or none.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try requireWritable()
        try installDigestTriggers()
        var result: T?
        var count: UInt64 = 0
        outboxDirty = false
        enqueuedNow = [:]
        summariesDue = []
        var changed = true
        do {
            try db.inTransaction(.immediate) { db in
                // Another program may have changed the schema since the open checked it (a trigger, an index).
                try requireSchemaUnchanged(db)
                let before = db.totalChangesCount
                result = try body(db)
                try recountDueSummaries(db)
                // A transaction that changed no row (a duplicate bundle received again) leaves the file as it was: it
                // is neither counted nor written.
                if db.totalChangesCount == before {
                    changed = false
                    return .rollback
                }
                count = try bumpWriteCount(db)
                CrashPoint.reach(CrashPoint.beforeCommit)
                return .commit
            }
        } catch {
            outboxDirty = false
            throw Keyring.diagnosed(error, path: path, while: "writing the keyring", systemErrno: systemErrno())
        }
        if changed {
            committedWrites += 1
            digestCommitted()
        }
        guard let result else { throw KeyringError.database("transaction produced no result") }
        guard changed else { return result }
        recordState(count)
        CrashPoint.reach(CrashPoint.afterAnyCommit)
        // Only now, with the state committed, do its bundles become files.
        if outboxDirty, !flushing {
            outboxDirty = false
            CrashPoint.reach(CrashPoint.afterCommit)
            try flushOutbox(ownOnly: true)
        }
        return result
    }

    /// Runs `body` in a read transaction.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch {
            throw Keyring.diagnosed(error, path: path, while: "reading the keyring", systemErrno: systemErrno())
        }
    }

    /// The OS error behind SQLite's last failure on this connection (0 when none).
    func systemErrno() -> Int32 {
        db.inDatabase { db in db.sqliteConnection.map { sqlite3_system_errno($0) } ?? 0 }
    }

    /// Turns a SQLite error met while doing `what` to the keyring (or file) at `path` into one that says what happened:
    /// a read-only file, folder or mount; a full disk; the OS reason for an I/O error. Other errors pass unchanged.
    static func diagnosed(_ error: any Error, path: String, while what: String, systemErrno: Int32 = 0) -> any Error {
        guard let failure = error as? DatabaseError else { return error }
        let detail = failure.message ?? "\(failure.resultCode)"
        switch failure.resultCode {
        case .SQLITE_FULL:
            return KeyringError.noSpace(while: what)
        case .SQLITE_BUSY:
            // Past the busy timeout: another process held the write lock all that time.
            return KeyringError.busy(path: path, seconds: Int(Keyring.busyTimeout))
        case .SQLITE_READONLY:
            return KeyringFile.isFull(near: path) ? KeyringError.noSpace(while: what) : KeyringError.readOnly(path: path)
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_OK:
            if systemErrno == ENOSPC || systemErrno == EDQUOT || KeyringFile.isFull(near: path) { return KeyringError.noSpace(while: what) }
            if [EROFS, EACCES, EPERM].contains(systemErrno) || KeyringFile.isReadOnly(path) { return KeyringError.readOnly(path: path) }
            if FileManager.default.fileExists(atPath: path), let reason = KeyringFile.unreadableReason(path) {
                return KeyringError.unreadable(path: path, reason: reason)
            }
            if systemErrno != 0 { return KeyringError.database("\(detail): \(String(cString: strerror(systemErrno)))") }
            return KeyringError.database(detail)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            // Pages SQLite itself finds damaged: the file was edited (or the disk broke), an integrity failure (exit 2),
            // as restore reports a damaged backup.
            return IntegrityError.edited("SQLite finds the file damaged (\(detail))")
        default:
            return KeyringError.database(detail)
        }
    }

    /// Replaces the passphrase (or adds one) by re-wrapping the keyring key; no other row changes.
    public func changePassphrase(to newPassphrase: PassphraseProvider, limits: KDFLimits = .interactive) throws {
        let secret = try newPassphrase()
        if secret.count == 0 { throw KeyringError.emptyPassphrase }
        let header = try KeyringHeader.protected(masterKey, passphrase: secret, limits: limits, random: random)
        try automaticPrune()
        try write { db in
            try header.update(db)
            try audit(db, .passphraseChange, "keyring key re-wrapped under a new passphrase")
        }
    }
}

/// Argon2id costs for wrapping the keyring key.
public struct KDFLimits: Sendable {
    /// Operations limit.
    public var opsLimit: UInt64
    /// Memory limit in bytes.
    public var memLimit: UInt64
    /// Makes limits.
    public init(opsLimit: UInt64, memLimit: UInt64) {
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }
    /// libsodium's interactive limits, the default.
    public static let interactive = KDFLimits(opsLimit: Argon2id.interactiveOpsLimit, memLimit: Argon2id.interactiveMemLimit)
}
