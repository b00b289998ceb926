import Foundation
import GRDB
import RoomKeyCore

/// Creating a keyring file and opening one: the connection's configuration, the header check, and the read-only
/// fallback for a keyring that cannot be written.
extension Keyring {
    /// How long a command waits for another one's write lock before it gives up (`KeyringError.busy`).
    static let busyTimeout: TimeInterval = 30

    /// The configuration of a keyring connection: WAL, secure delete, temporary storage in memory, recursive triggers, a
    /// 30-second busy wait.
    static func configuration() -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // WAL is set here rather than with `config.journalMode = .wal`, which makes GRDB create and drop a
            // table on every open whose -wal file is empty: a write that changed the file even for read-only commands.
            // On a keyring already in WAL mode this pragma writes nothing.
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                throw KeyringError.database("could not switch the keyring to WAL mode")
            }
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // The row-digest triggers add a row to a TEMP table for every row a transaction changes, and each statement
            // that fires them keeps a statement journal: in files (SQLite's default) a 50,000-member `room create` made
            // about 490,000 writes to /var/tmp. In memory they cost a few megabytes at most and never reach a disk.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // REPLACE fires the delete triggers of the running row digest only with this on (`Keyring+Integrity`).
            try db.execute(sql: "PRAGMA recursive_triggers = ON")
            // Nothing stored in the file's schema may call a function with side effects (roomkey stores no trigger or view).
            try db.execute(sql: "PRAGMA trusted_schema = OFF")
        }
        return config
    }

    /// The configuration of a keyring opened only for reading: nothing is written, not even the journal mode.
    static func readOnlyConfiguration() -> Configuration {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        return config
    }

    /// Creates a keyring with a new identity named `handle`; refuses to replace any existing file.
    ///
    /// `passphrase` nil means `--no-passphrase`: the keyring key is stored unwrapped.
    public static func create(path: String, handle: String, passphrase: PassphraseProvider?,
                              limits: KDFLimits = .interactive, random: any RandomSource,
                              now: @escaping () -> UInt64 = systemClock) throws -> Keyring {
        try Handle.validateNew(handle)
        let fm = FileManager.default
        // Not a keyring at all is said so (a review: `init` over a folder, a FIFO or a dangling link said "a keyring
        // already exists" and hinted to remove it).
        var st = stat(), target = stat()
        let targetExists = stat(path, &target) == 0
        if lstat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG, !(targetExists && target.st_mode & S_IFMT == S_IFREG) {
            let kind = switch st.st_mode & S_IFMT {
            case S_IFDIR: "a folder"
            case S_IFLNK: targetExists ? "a symbolic link to something other than a file" : "a symbolic link to nothing"
            case S_IFIFO: "a FIFO"
            default: "a device or a socket"
            }
            throw KeyringError.pathTaken(path: path, kind: kind)
        }
        for suffix in ["", "-wal", "-journal"] where fm.fileExists(atPath: path + suffix) {
            throw KeyringError.alreadyExists(path: path)
        }
        let key = SymmetricKey.random(using: random)
        let header: KeyringHeader
        if let passphrase {
            let secret = try passphrase()
            if secret.count == 0 { throw KeyringError.emptyPassphrase }
            header = try KeyringHeader.protected(key, passphrase: secret, limits: limits, random: random)
        } else {
            header = KeyringHeader.unprotected(key)
        }
        let madeFolders = try KeyringFile.createFolders(for: path)
        // The keyring is built whole in a locked `.roomkey-tmp-*` file beside `path` (schema, header, identity, first
        // audit entry, log folded in, synced) and only then linked at `path`, refused if a file appeared there. A run
        // killed at any instant leaves either no keyring (and at worst a temporary file the next write into the folder
        // removes) or a complete one; before, it could leave a half-made file that is "not a roomkey keyring" and that
        // blocks every later `init` at that path.
        let folder = KeyringFile.folder(of: path)
        TemporaryFile.removeLeftovers(in: folder)
        let staged: TemporaryFile
        do { staged = try TemporaryFile.create(in: folder, for: path) } catch {
            for made in madeFolders { rmdir(made) }
            throw error
        }
        var linked = false
        defer { if linked { staged.release() } else { staged.remove() } }
        do {
            let db = try DatabaseQueue(path: staged.path, configuration: configuration())
            try db.write { db in try KeyringSchema.migrate(db) }
            let building = Keyring(path: staged.path, db: db, key: key.duplicate(), random: random, now: now,
                                   isPassphraseProtected: passphrase != nil)
            building.integrity.recomputeOnWrite = true
            try building.write { db in
                try header.insert(db)
                try building.insertNewIdentity(db, handle: handle)
                try building.audit(db, .initialize, "created keyring for \(handle)" + (passphrase == nil ? " without passphrase" : ""))
            }
            try db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try db.close()
            KeyringFile.removeCompanions(of: staged.path)
            try KeyringFile.sync(staged.path, while: "creating the keyring")
            if link(staged.path, path) != 0 {
                let code = errno
                if code == EEXIST { throw KeyringError.alreadyExists(path: path) }
                throw KeyringFile.failure(code, path: path, action: "cannot create")
            }
            linked = true
            unlink(staged.path)
            try? KeyringFile.sync(folder, while: "creating the keyring")
            // The temporary file's descriptor is on the keyring's inode: closed after SQLite opened the keyring, it
            // would drop that connection's fcntl locks (closing any descriptor of a file drops them all).
            staged.release()
            return try building.reopened(at: path)
        } catch {
            for made in madeFolders { rmdir(made) }
            throw Keyring.diagnosed(error, path: path, while: "creating the keyring")
        }
    }

    /// Opens and unlocks the keyring at `path`, asking `passphrase` only if it is protected.
    ///
    /// A keyring without a passphrase that others could read or change (or in a folder others can write, or owned by
    /// another user) is refused, as ssh refuses such a key; a protected one opens with a warning in `openWarnings`.
    /// With `stateFolder`, the keyring is checked against this machine's state file and refused if it is an older copy
    /// of itself, unless `acceptRollback`.
    public static func open(path: String, passphrase: PassphraseProvider, random: any RandomSource,
                            now: @escaping () -> UInt64 = systemClock, stateFolder: String? = nil,
                            acceptRollback: Bool = false) throws -> Keyring {
        guard FileManager.default.fileExists(atPath: path) else { throw KeyringError.notFound(path: path) }
        if let reason = KeyringFile.unreadableReason(path) { throw KeyringError.unreadable(path: path, reason: reason) }
        // A file that cannot be a keyring is refused before its lock file is made beside it (checked again under the
        // lock): `--keyring report.txt` left a `report.txt.lock` behind (a hostile review).
        if KeyringFile.cannotBeKeyring(path) { throw KeyringError.notAKeyring(path: path) }
        // Held from before the file is opened for as long as the keyring is: a restore cannot replace it meanwhile.
        let inUse = try KeyringUseLock(keyring: path, exclusive: false)
        // After the lock, before SQLite opens anything by name. A window between the two remains, open only to those
        // who can write the keyring's folder: a folder others can write without the sticky bit is refused for a keyring
        // without a passphrase (`permissionProblem`) and warned about for one with a passphrase; a sticky shared folder
        // (a tmpfs's root, /tmp) is allowed, and keeps that window.
        if let companion = KeyringFile.foreignCompanion(of: path) { throw KeyringError.companionNotOwn(path: companion) }
        var links = KeyringFile.linkCount(path)
        if links > 1 {
            // `init` and `restore` link their finished temporary file at the keyring's name, then remove the temporary
            // name: killed in between, the second name is that leftover, which goes first (a review of this check).
            // In the folder named and in the real one, when a link leads elsewhere (a review).
            for folder in Set([KeyringFile.folder(of: path), KeyringFile.folder(of: Keyring.realPath(path))]) {
                TemporaryFile.removeLeftovers(in: folder)
            }
            links = KeyringFile.linkCount(path)
        }
        if links > 1 { throw KeyringError.otherNames(path: path, links: links) }
        let (db, header, readOnlyReason) = try openDatabase(path: path)
        if let (problem, fix) = KeyringFile.permissionProblem(path), !header.needsPassphrase {
            try? db.close()
            throw KeyringError.unsafePermissions(path: path, problem: problem, fix: fix)
        }
        let key: SymmetricKey
        do { key = try header.unwrap(passphrase: passphrase) } catch { try? db.close(); throw error }
        let keyring = Keyring(path: path, db: db, key: key, random: random, now: now, isPassphraseProtected: header.needsPassphrase,
                              readOnlyReason: readOnlyReason)
        keyring.useLock = inUse
        // What a killed restore, backup or init left beside the keyring (a staged copy, keys and all, that no live
        // writer holds) goes at every open that may write, not only with a command that prunes: `room set`, `prune` and
        // `outbox flush` left it (a crash review).
        if readOnlyReason == nil { TemporaryFile.removeLeftovers(in: KeyringFile.folder(of: path)) }
        if let (problem, fix) = KeyringFile.permissionProblem(path) {
            keyring.openWarnings.append("\(path) \(problem); run '\(fix)'")
        }
        keyring.stateFolder = stateFolder
        // The rollback check reads the count as the file holds it, before the upgrade counts a write of its own.
        let rollback = try keyring.checkRollback(acceptRollback: acceptRollback)
        try keyring.upgradeSchema()
        if let rollback { try keyring.acceptRollback(rollback) }
        try keyring.backfillScaleIndexes()
        try keyring.backfillEpochMembers()
        return keyring
    }

    /// Opens the database at `path` and checks its header. A keyring that cannot be written (read-only file, folder
    /// or mount; full disk) is opened read-only instead, with the reason writes will report.
    private static func openDatabase(path: String) throws -> (DatabaseQueue, KeyringHeader, KeyringError?) {
        if KeyringFile.cannotBeKeyring(path) { throw KeyringError.notAKeyring(path: path) }
        let original: any Error
        do {
            let db = try DatabaseQueue(path: path, configuration: configuration())
            do {
                return (db, try KeyringFile.checkedHeader(db, path: path).header, nil)
            } catch {
                try? db.close()
                throw error
            }
        } catch let error as KeyringError {
            throw error
        } catch {
            original = error
        }
        // Only a file SQLite cannot read as a database at all, or one without the roomkey header, is "not a roomkey
        // keyring"; any other failure keeps its own reason.
        if (original as? DatabaseError)?.resultCode == .SQLITE_NOTADB { throw KeyringError.notAKeyring(path: path) }
        let reason = diagnosed(original, path: path, while: "opening the keyring")
        switch reason as? KeyringError {
        case .readOnly?, .noSpace?:
            // Commands that only read still work; writes report the reason.
            guard let (db, header) = openReadOnly(path: path) else { throw reason }
            return (db, header, reason as? KeyringError)
        default:
            throw reason
        }
    }

    /// Opens a keyring without writing anything: read-only, and when no shared-memory index can be made beside it
    /// (read-only folder or mount, full disk) as an immutable file, which is safe only when its write-ahead log is
    /// empty, that is when every committed change is in the main file.
    private static func openReadOnly(path: String) -> (DatabaseQueue, KeyringHeader)? {
        var locations = [path]
        if KeyringFile.walIsEmpty(path) {
            let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))
            if let escaped = path.addingPercentEncoding(withAllowedCharacters: allowed) {
                locations.append("file:\(escaped)?immutable=1")
            }
        }
        for location in locations {
            guard let db = try? DatabaseQueue(path: location, configuration: readOnlyConfiguration()) else { continue }
            // A keyring that needs migrations cannot be opened without writing them.
            if let (header, upToDate) = try? KeyringFile.checkedHeader(db, path: path), upToDate { return (db, header) }
            try? db.close()
        }
        return nil
    }
}
