import Foundation

/// An `flock` on a file beside a keyring (`<keyring><suffix>`, named from the keyring's resolved path so that a link to
/// the keyring takes the same lock; mode 0600, a link at the lock's own name not followed): the mechanism under
/// `KeyringUseLock` and `DecryptTurn`. SQLite's own locks are `fcntl` locks on the keyring file, which this never meets.
/// Where no lock file can be made or locked (a read-only folder, a file system without `flock`), nothing is locked.
final class SidecarLock {
    private var fd: Int32

    /// Another holder kept the lock past the wait.
    struct Busy: Error {}

    /// The lock file beside the keyring at `keyring`.
    static func path(keyring: String, suffix: String) -> String {
        URL(fileURLWithPath: keyring).resolvingSymlinksInPath().path + suffix
    }

    /// Takes the lock (shared or exclusive), trying for `patience` seconds (0: once); throws `Busy` when another holder
    /// kept it all that time.
    init(keyring: String, suffix: String, exclusive: Bool, patience: TimeInterval) throws(Busy) {
        fd = open(Self.path(keyring: keyring, suffix: suffix), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let deadline = Date().addingTimeInterval(patience)
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK, Date() < deadline else {
                release()
                if code == EWOULDBLOCK { throw Busy() }
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
