import Foundation

/// An `flock` on a file beside a keyring (`<keyring><suffix>`, named from the keyring's resolved path so that a link to
/// the keyring takes the same lock; mode 0600): the mechanism under `KeyringUseLock` and `DecryptTurn`. SQLite's own
/// locks are `fcntl` locks on the keyring file, which this never meets.
/// Where no lock file can be made or locked (a read-only folder, a file system without `flock`), nothing is locked; a
/// link, FIFO or folder at the lock's name is refused (`Failure.notAFile`), never followed or waited on.
final class SidecarLock {
    private var fd: Int32

    /// Why the lock was not taken.
    enum Failure: Error {
        /// Another holder kept the lock past the wait.
        case busy
        /// Something other than this user's regular file is at the lock's name (`path`): a link, or another user's
        /// file, planted there would otherwise make every command go on unlocked (hostile reviews).
        case notAFile(path: String)
    }

    /// The lock file beside the keyring at `keyring`.
    static func path(keyring: String, suffix: String) -> String {
        URL(fileURLWithPath: keyring).resolvingSymlinksInPath().path + suffix
    }

    /// Takes the lock (shared or exclusive), trying for `patience` seconds (0: once); throws `.busy` when another holder
    /// kept it all that time, `.notAFile` for anything but this user's regular file at its name.
    init(keyring: String, suffix: String, exclusive: Bool, patience: TimeInterval) throws(Failure) {
        let path = Self.path(keyring: keyring, suffix: suffix)
        // O_NONBLOCK: a FIFO at the name is opened without waiting for a peer, and then refused below.
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard fd >= 0 else {
            let code = errno
            // ELOOP: a symbolic link; EISDIR: a folder; EACCES or EPERM on a file that exists: another user's, or an
            // immutable one (going on unlocked is what such a planted file is for). Only a lock file that cannot be
            // made at all (a read-only folder or mount) leaves nothing locked.
            var existing = stat()
            if code == ELOOP || code == EISDIR || ([EACCES, EPERM].contains(code) && lstat(path, &existing) == 0) {
                throw .notAFile(path: path)
            }
            return
        }
        var st = stat()
        // Another user's lock file could be held by that user for ever, or swapped: only this user's regular file locks.
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid() else {
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
