import Foundation
import Synchronization
import RoomKeyCore

/// A temporary file `.roomkey-tmp-<random hex>` beside a file being written, held by its writer.
///
/// The writer holds an exclusive `flock` on it from the moment it exists until it is renamed into place or removed.
/// The lock goes with the process: a writer that was killed holds none, so the next write into the folder removes
/// its file at once (`removeLeftovers`), while a file that a live writer holds is never touched, however old. On a
/// file system without `flock` the file is removed once it is `fallbackAge` old instead.
package final class TemporaryFile {
    /// The name prefix of temporary files (receive ignores files with it).
    package static let prefix = StrayInput.temporaryPrefix
    /// Where locks are not supported: a file older than this is from a killed run, never one still being written.
    package static let fallbackAge: TimeInterval = 600
    /// The names SQLite gives a database's companion files.
    private static let companions = ["-journal", "-wal", "-shm"]

    /// The temporary file's path.
    package let path: String
    private var lock: Int32

    private init(path: String, lock: Int32) {
        self.path = path
        self.lock = lock
    }

    deinit { if lock >= 0 { close(lock) } }

    /// Creates a new, empty temporary file in `folder` (mode 0600, never an existing name) and locks it; errors
    /// name `target`, the file it will become.
    package static func create(in folder: String, for target: String) throws -> TemporaryFile {
        for _ in 0..<8 {
            let name = prefix + String(format: "%016llx", UInt64.random(in: .min ... .max))
            let path = (folder as NSString).appendingPathComponent(name)
            let fd = Foundation.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }
                throw OutputFileError.system(path: target, errno: errno)
            }
            fchmod(fd, 0o600)
            // Another run's clean-up may have taken the file between its creation and this lock: it is then gone
            // (no link left) and a new name is tried.
            var st = stat()
            if flock(fd, LOCK_EX) == 0, fstat(fd, &st) == 0, st.st_nlink == 0 {
                close(fd)
                continue
            }
            return TemporaryFile(path: path, lock: fd)
        }
        throw OutputFileError.system(path: target, errno: EEXIST)
    }

    /// The file, open for reading and writing while it is held (the descriptor that holds the lock).
    package var descriptor: Int32 { lock }

    /// Removes the file and, with `companions`, any SQLite companions of it, and lets go of the lock.
    package func remove(companions: Bool = true) {
        // Companions first, the file last: a run killed in between leaves the file, which the next sweep finds and
        // removes with its companions; the other order left companions that no sweep ever looks at.
        for suffix in (companions ? Self.companions : []) + [""] { unlink(path + suffix) }
        release()
    }

    /// Lets go of the lock (after the file was renamed into place).
    package func release() {
        if lock >= 0 { close(lock) }
        lock = -1
    }

    /// Removes the temporary files in `folder` that this user's killed runs left: those no live writer holds.
    package static func removeLeftovers(in folder: String, now: Date = Date()) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) && !companions.contains(where: { name.hasSuffix($0) }) {
            removeIfLeftover((folder as NSString).appendingPathComponent(name), now: now)
        }
    }

    /// Removes `file` (and its companions) when it is this user's regular file and no live process holds its lock.
    /// The lock is held while the file is removed, so a writer that locks it meanwhile finds it gone.
    private static func removeIfLeftover(_ file: String, now: Date) {
        var st = stat()
        guard lstat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid() else { return }
        let fd = Foundation.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno != EWOULDBLOCK else { return }
            #if os(Linux)
            let modified = TimeInterval(st.st_mtim.tv_sec)
            #else
            let modified = TimeInterval(st.st_mtimespec.tv_sec)
            #endif
            guard now.timeIntervalSince1970 - modified > fallbackAge else { return }
        }
        for suffix in companions + [""] { unlink(file + suffix) }
    }
}

/// The folders whose leftover temporary files one run has already removed. Listing a folder costs time in proportion
/// to its files, so a run that writes thousands of files into one folder (batch `encrypt`/`decrypt`) lists it once,
/// at its first write there, instead of at every write (which made such a batch quadratic in its size).
package final class LeftoverSweep: Sendable {
    private let folders = Mutex<Set<String>>([])

    /// A sweep that has visited no folder yet.
    package init() {}

    /// True the first time `folder` (as written) is asked about, when its leftovers are to be removed; false after.
    package func isFirst(_ folder: String) -> Bool {
        folders.withLock { $0.insert(folder).inserted }
    }
}
