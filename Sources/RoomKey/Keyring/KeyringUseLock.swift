import Foundation

/// Every open keyring holds a shared `flock` on `<keyring>.lock` beside it (named from the keyring's resolved path, as
/// `DecryptTurn` names its lock), taken before the database is opened and held while the keyring is; `restore` takes it
/// exclusively, without waiting, around its rename. A command that had the keyring open during a restore went on
/// writing into the replaced file: its commit was lost, its bundle sent for a state no keyring has, and its write count
/// made the restored keyring look rolled back (a hostile review). Where no lock file can be made (a read-only folder)
/// nothing is locked, as before.
final class KeyringUseLock {
    private var fd: Int32

    /// The lock file of the keyring at `keyring`.
    static func path(keyring: String) -> String {
        URL(fileURLWithPath: keyring).resolvingSymlinksInPath().path + ".lock"
    }

    /// How long an open waits while a restore holds the lock (it holds it for a checkpoint and a rename).
    static let patience: TimeInterval = 60

    /// Takes the lock of the keyring at `keyring`: shared (waits while a restore holds it), or exclusive (fails at
    /// once with `RestoreError.keyringInUse` while any other open keyring holds it). A shared wait past `patience`
    /// throws `KeyringError.busy`.
    init(keyring: String, exclusive: Bool) throws {
        fd = open(Self.path(keyring: keyring), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let deadline = Date().addingTimeInterval(exclusive ? 0 : Self.patience)
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK, Date() < deadline else {
                release()
                if code == EWOULDBLOCK {
                    throw exclusive ? RestoreError.keyringInUse(path: keyring) as any Error
                        : KeyringError.busy(path: keyring, seconds: Int(Self.patience))
                }
                return
            }
            usleep(10_000)
        }
    }

    /// Lets the lock go.
    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
