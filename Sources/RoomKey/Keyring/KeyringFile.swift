import Foundation
import GRDB
import RoomKeyCore

/// File-system side of the keyring: private modes, creation, removal, and the checks made on open.
enum KeyringFile {
    /// What makes a keyring file unsafe to trust, as ssh judges a private key: readable or writable by group or others,
    /// a folder others may write (without the sticky bit), or an owner other than this user; with the command that fixes it.
    static func permissionProblem(_ path: String) -> (problem: String, fix: String)? {
        var file = stat()
        guard stat(path, &file) == 0 else { return nil }
        if file.st_uid != geteuid() {
            return ("is owned by another user (uid \(file.st_uid))", "chown \(geteuid()) \(path)")
        }
        let mode = file.st_mode & 0o777
        if mode & 0o077 != 0 {
            return ("is readable or writable by group or others (mode \(String(mode, radix: 8)))", "chmod 600 \(path)")
        }
        let folder = Self.folder(of: path)
        var dir = stat()
        if stat(folder, &dir) == 0, dir.st_mode & 0o002 != 0, dir.st_mode & 0o1000 == 0 {
            return ("is in a folder others can write (\(folder))", "chmod o-w \(folder)")
        }
        return nil
    }

    /// The folder holding `path` ("." for a bare file name).
    static func folder(of path: String) -> String {
        let parent = PathName.parent(path)
        return parent.isEmpty ? "." : parent
    }

    /// Creates the missing folders above `path` (mode 0700) and returns them, deepest first, so a failed command
    /// can remove what it made.
    static func createFolders(for path: String) throws -> [String] {
        var missing: [String] = []
        var folder = PathName.parent(path)
        while !folder.isEmpty, folder != "/", !FileManager.default.fileExists(atPath: folder) {
            missing.append(folder)
            folder = PathName.parent(folder)
        }
        for folder in missing.reversed() where mkdir(folder, 0o700) != 0 && errno != EEXIST {
            let code = errno
            for made in missing where FileManager.default.fileExists(atPath: made) { rmdir(made) }
            throw failure(code, path: folder, action: "cannot create folder")
        }
        return missing
    }

    /// The error for a failed system call on `path`: a full disk by name, else the OS reason.
    static func failure(_ code: Int32, path: String, action: String, while what: String? = nil) -> KeyringError {
        if code == ENOSPC || code == EDQUOT { return .noSpace(while: what ?? "writing \(path)") }
        return .database("\(action) \(path): \(String(cString: strerror(code)))")
    }

    /// Removes a keyring file and its SQLite companions (a staged copy that failed).
    static func remove(path: String) {
        unlink(path)
        removeCompanions(of: path)
    }

    /// The names SQLite gives a database's companions, after its path: log, index, journal.
    static let companionSuffixes = ["-wal", "-shm", "-journal"]
    /// The suffixes of the lock files roomkey keeps beside a keyring (`KeyringUseLock`, `DecryptTurn`, `SyncLock`).
    static let lockSuffixes = [".lock", ".decrypt.lock", ".sync.lock"]

    /// The first SQLite companion of `path` (`-wal`, `-shm`, `-journal`) that exists and is not this user's singly
    /// linked regular file. SQLite opens them by name without such a check: its hot-journal check opens `-journal`
    /// blocking (a FIFO there hung every command), and a log made by another user got every page written, the header
    /// row of `passwd` included (a hostile review). Their mode follows the keyring file's, which is the user's choice.
    static func foreignCompanion(of path: String) -> String? {
        companionSuffixes.lazy.map { path + $0 }.first(where: isForeign)
    }

    /// How many names (hard links) the file at `path` has (followed); 1 when it cannot be read.
    static func linkCount(_ path: String) -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { return 1 }
        return Int(st.st_nlink)
    }

    /// True when something is at `path` that is not a regular file of the user's with one link (not followed).
    static func isForeign(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return false }
        return st.st_mode & S_IFMT != S_IFREG || st.st_uid != geteuid() || st.st_nlink != 1
    }

    /// Removes the SQLite companions of the keyring file at `path` (its log, index and journal), not the file.
    static func removeCompanions(of path: String) {
        for suffix in companionSuffixes { unlink(path + suffix) }
    }

    /// True when `path` or its folder cannot be written: permissions, a read-only mount, an immutable file.
    static func isReadOnly(_ path: String) -> Bool {
        for target in [path, folder(of: path)] where access(target, W_OK) != 0 {
            if [EROFS, EACCES, EPERM].contains(errno) { return true }
        }
        return false
    }

    /// True when the file system holding `path` has almost no space left (SQLite needs 32 KB for its shared-memory
    /// index and a few pages for every write).
    static func isFull(near path: String) -> Bool {
        var stats = statvfs()
        guard statvfs(folder(of: path), &stats) == 0 else { return false }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize) < 256 * 1024
    }

    /// The operating system's reason `path` cannot be read, or nil when it can. Anything but a regular file is refused
    /// without waiting on it: opened without `O_NONBLOCK`, a FIFO planted at a keyring's path kept every command
    /// waiting for a writer for ever (a hostile review).
    static func unreadableReason(_ path: String) -> String? {
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { return String(cString: strerror(errno)) }
        if info.st_mode & S_IFMT != S_IFREG { return "not a regular file" }
        var byte: UInt8 = 0
        if pread(fd, &byte, 1, 0) < 0 { return String(cString: strerror(errno)) }
        return nil
    }

    /// True when the file at `path` cannot be a keyring, told from its first bytes alone: with no write-ahead log to
    /// complete it, a keyring's file starts with SQLite's header and carries roomkey's application id. SQLite itself
    /// would write into such a file before the check could refuse it (a header into an empty file; WAL mode into
    /// another program's database).
    static func cannotBeKeyring(_ path: String) -> Bool {
        guard walIsEmpty(path) else { return false }
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 100)
        let n = read(fd, &header, header.count)
        guard n >= 0 else { return false }
        if n < header.count || !header.starts(with: Array("SQLite format 3".utf8) + [0]) { return true }
        let id = header[68..<72].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return id != UInt32(bitPattern: KeyringSchema.applicationID)
    }

    /// What rules out the regular file at `path` as a backup before a byte of it is copied, told from its header and
    /// size: not a keyring (`cannotBeKeyring`), or not exactly the pages its header counts (the check the staged copy
    /// gets again, after SQLite read it). Nil when it may be one. A sparse file of gigabytes was copied whole into the
    /// keyring's folder, blocks and all, before it was found to be no keyring (a hostile review).
    static func backupProblem(_ path: String, size: Int) -> (any Error)? {
        if cannotBeKeyring(path) { return KeyringError.notAKeyring(path: path) }
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 100)
        guard read(fd, &header, header.count) == header.count else { return KeyringError.notAKeyring(path: path) }
        func bigEndian(_ range: Range<Int>) -> Int { header[range].reduce(0) { $0 << 8 | Int($1) } }
        // Page size 1 stands for 65,536; the page count is valid when the two change counters agree (SQLite 3.7.0 on).
        let pageSize = bigEndian(16..<18) == 1 ? 65_536 : bigEndian(16..<18)
        guard bigEndian(24..<28) == bigEndian(92..<96) else { return nil }
        guard pageSize >= 512, let reason = pagesProblem(size: size, pageSize: pageSize, pages: bigEndian(28..<32)) else { return nil }
        return RestoreError.damaged(path: path, reason: reason)
    }

    /// Why a file of `size` bytes is not exactly `pages` pages of `pageSize` bytes (nil when it is): a backup is exactly
    /// its pages, checked from its header before the copy and by SQLite's count after.
    static func pagesProblem(size: Int, pageSize: Int, pages: Int) -> String? {
        if size == pageSize * pages { return nil }
        return size > pageSize * pages ? "\(size - pageSize * pages) bytes follow its last page" : "it is shorter than its pages"
    }

    /// True when `path`'s write-ahead log is missing or empty: the main file alone holds every committed change.
    static func walIsEmpty(_ path: String) -> Bool {
        var info = stat()
        if stat(path + "-wal", &info) != 0 { return errno == ENOENT }
        return info.st_size == 0
    }

    /// Copies `source` into the empty file `target` that the caller made (mode 0600) and flushes it to disk.
    static func copyPrivate(from source: String, to target: String, while what: String) throws {
        let input = Foundation.open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 { throw KeyringError.unreadable(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }
        let output = Foundation.open(target, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)
        if output < 0 { throw failure(errno, path: target, action: "cannot open", while: what) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KeyringError.unreadable(path: source, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            var done = 0
            while done < count {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + done, count - done) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno, path: target, action: "cannot write", while: what)
                }
                done += written
            }
        }
        if fsync(output) != 0 { throw failure(errno, path: target, action: "cannot write", while: what) }
    }

    /// Flushes a file (or, opened read-only, a folder's entries) to disk.
    static func sync(_ path: String, while what: String) throws {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw failure(errno, path: path, action: "cannot open") }
        defer { close(fd) }
        if fsync(fd) != 0, errno != EINVAL { throw failure(errno, path: path, action: "cannot flush", while: what) }
    }

    /// Checks the file is a roomkey keyring of a schema this code knows and reads its header. Nothing is migrated here:
    /// migrations run only once the keyring is unlocked, in the transaction that checks the rows first
    /// (`Keyring.upgradeSchema`). `upToDate` says whether every migration this code knows is applied.
    static func checkedHeader(_ db: DatabaseQueue, path: String) throws -> (header: KeyringHeader, upToDate: Bool) {
        let migrator = KeyringSchema.migrator
        let appID = try db.read { db in try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0 }
        guard appID == KeyringSchema.applicationID else { throw KeyringError.notAKeyring(path: path) }
        // Before anything is read from a table: a view stored under a table's name (`grdb_migrations` as an endless
        // recursive query) spun at full CPU before any other check could refuse the file (a hostile review).
        if let stored = try db.read({ db in try KeyringSchema.storedTriggerOrView(db) }) {
            throw IntegrityError.edited("its schema was changed outside roomkey (\(KeyringSchema.describe(type: stored.type, name: stored.name)))")
        }
        let applied = try db.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrator.migrations)
        if !unknown.isEmpty { throw KeyringError.newerSchema(path: path, unknown: unknown.sorted()) }
        guard let header = try db.read({ db -> KeyringHeader? in
            guard try db.tableExists("keyring_header") else { return nil }
            return try KeyringHeader.fetchBounded(db)
        }) else {
            throw KeyringError.notAKeyring(path: path)
        }
        return (header, applied.count == migrator.migrations.count)
    }
}
