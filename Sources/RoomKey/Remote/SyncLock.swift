import Foundation

/// An exclusive lock on one keyring's syncs (an `flock` on the keyring's path + `.sync.lock`), so two syncs of it take
/// turns whatever their remote or state folder. The descriptor is inherited by git children (no `O_CLOEXEC`), so a git
/// left running by a killed sync keeps the lock until it ends, and no new sync works on the mirror beside it. A sync
/// that ends normally unlocks explicitly.
final class SyncLock {
    private let fd: Int32

    /// The lock file of the keyring at `keyring`.
    static func path(keyring: String) -> String { keyring + ".sync.lock" }

    /// Waits for and takes the lock file at `path` (created mode 0600, its folder 0700).
    init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        fd = open(path, O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else { throw RemoteError.git(command: "lock", reason: "cannot open \(path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            close(fd)
            throw RemoteError.git(command: "lock", reason: "cannot lock \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Releases the lock, also for any process that inherited it (every git child of this sync has ended by then; a
    /// helper git left running in the background, such as a credential cache, must not keep later syncs waiting).
    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
