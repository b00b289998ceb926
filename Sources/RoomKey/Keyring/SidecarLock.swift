import Foundation

/// An `flock` on a file beside a keyring (`<keyring><suffix>`, named from the keyring's resolved path so that a link to
/// the keyring takes the same lock; mode 0600): the mechanism under
/// `KeyringUseLock` and `DecryptTurn`. SQLite's own locks are `fcntl` locks on the keyring file, which this never meets.
/// Where no lock file can be made or locked (a read-only folder, a file system without `flock`), nothing is locked; a
/// link, FIFO or folder at the lock's name is refused (`Failure.notAFile`), never followed or waited on.
final class SidecarLock {
    private var fd: Int32

    /// Why the lock was not taken.
    enum Failure: Error {
        /// Another holder kept the lock past the wait.
        case busy
        /// Something other than a regular file is at the lock's name (`path`): a link planted there would otherwise
        /// make every command go on unlocked (a hostile review).
        case notAFile(path: String)
    }

    /// The lock file beside the keyring at `keyring`.
    static func path(keyring: String, suffix: String) -> String {
        URL(fileURLWithPath: keyring).resolvingSymlinksInPath().path + suffix
    }

    /// Takes the lock (shared or exclusive), trying for `patience` seconds (0: once); throws `Busy` when another holder
    /// kept it all that time.
    init(keyring: String, suffix: String, exclusive: Bool, patience: TimeInterval) throws(Failure) {
        let path = Self.path(keyring: keyring, suffix: suffix)
        // O_NONBLOCK: a FIFO at the name is opened without waiting for a peer, and then refused below.
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard fd >= 0 else {
            // ELOOP: a symbolic link; EISDIR: a folder. Other failures (a read-only folder) leave nothing locked.
            if errno == ELOOP || errno == EISDIR { throw .notAFile(path: path) }
            return
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            release()
            throw .notAFile(path: path)
        }
        let deadline = Date().addingTimeInterval(patience)
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK, Date() < deadline else {
                release()
                if code == EWOULDBLOCK { throw .busy }
                return
            }
            usleep(10_000)
        }
    }

    /// Lets the lock go (once; later calls do nothing).
    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
