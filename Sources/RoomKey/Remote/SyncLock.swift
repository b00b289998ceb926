import Foundation

/// An exclusive lock on one remote's mirror, so two syncs of this machine take turns (released when the process ends).
final class SyncLock {
    private let fd: Int32

    /// Waits for and takes the lock file at `path` (created mode 0600, its folder 0700).
    init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RemoteError.git(command: "lock", reason: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX) == 0 else {
            close(fd)
            throw RemoteError.git(command: "lock", reason: "cannot lock \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Releases the lock.
    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
