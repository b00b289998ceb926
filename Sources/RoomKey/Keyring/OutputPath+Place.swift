import Foundation
import RoomKeyCore

/// How `OutputPath` puts a new file in place whole: unnamed and linked (`O_TMPFILE`), or through a temporary file
/// moved into place; and the writes and folder syncs under both.
extension OutputPath {
    /// True when this process has `/proc/self/fd` to link an open file through: checked once, before any data is
    /// written, so a system without it never writes a file twice.
    package static let canLinkUnnamed: Bool = access("/proc/self/fd", F_OK) == 0

    /// Writes a new file that replaces nothing without ever giving a partial file a name: an unnamed file in `folder`
    /// (`O_TMPFILE`, mode 0600), written, synced, then linked at `target`, refused atomically if a file appeared there.
    /// False, with nothing left behind, where the file system or a missing `/proc` does not allow it.
    package static func placeUnnamed(_ data: Data, at target: String, folder: String, durable: Bool) throws -> Bool {
        guard canLinkUnnamed else { return false }
        // O_TMPFILE is `__O_TMPFILE | O_DIRECTORY` in C; Swift imports the parts, not the macro.
        let fd = Foundation.open(folder, O_WRONLY | __O_TMPFILE | O_DIRECTORY | O_CLOEXEC, 0o600)
        // Any refusal here (no O_TMPFILE on this file system, or no folder) is left to the named way to handle or report.
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // 0600 whatever the umask, as the named way makes it.
        if fchmod(fd, 0o600) != 0 { throw OutputFileError.system(path: target, errno: errno) }
        try writeAll(fd, data, path: target)
        if durable, fsync(fd) != 0 { throw OutputFileError.system(path: target, errno: errno) }
        CrashPoint.reach(CrashPoint.beforeRename)
        // The name must lead to this very file (a /proc that is not procfs, a chroot's plain folder, could lead elsewhere).
        let through = "/proc/self/fd/\(fd)"
        var viaProc = stat(), held = stat()
        guard stat(through, &viaProc) == 0, fstat(fd, &held) == 0, viaProc.st_dev == held.st_dev, viaProc.st_ino == held.st_ino else {
            return false
        }
        // linkat never follows `target` itself: a link or file put there since `resolve` is refused like any file.
        if linkat(AT_FDCWD, through, AT_FDCWD, target, AT_SYMLINK_FOLLOW) != 0 {
            let code = errno
            if code == EEXIST { throw OutputFileError.exists(path: target) }
            // A file system that cannot link, or a security module that refuses it: the unnamed file goes with its
            // descriptor and the named way writes the file (ENOENT here is a folder gone meanwhile, which it reports).
            guard [ENOENT, EACCES, EPERM, EOPNOTSUPP, ENOSYS, EMLINK, EXDEV].contains(code) else {
                throw OutputFileError.system(path: target, errno: code)
            }
            return false
        }
        if durable { try syncFolder(folder, reportAs: target) }
        return true
    }

    /// Creates a temporary file beside `target`, lets `fill` write it, syncs it, and moves it into place: replacing
    /// an existing file only when `replace`, else refusing atomically if one appeared. The temporary file never
    /// outlives a failure; SQLite's companion files of it are looked for only when `fill` may have made a `database`.
    static func placeNew(at target: String, replace: Bool, durable: Bool, database: Bool,
                                 fill: (TemporaryFile) throws -> Void) throws {
        let folder = folder(of: target)
        let file = try TemporaryFile.create(in: folder, for: target)
        let temp = file.path
        var moved = false
        defer { if moved { file.release() } else { file.remove(companions: database) } }
        try fill(file)
        if durable, fsync(file.descriptor) != 0 { throw OutputFileError.system(path: target, errno: errno) }
        CrashPoint.reach(CrashPoint.beforeRename)
        if replace {
            guard rename(temp, target) == 0 else { throw OutputFileError.system(path: target, errno: errno) }
            moved = true
        } else if link(temp, target) != 0 {
            let code = errno
            if code == EEXIST { throw OutputFileError.exists(path: target) }
            // A file system without hard links: check, then move.
            guard [EPERM, EOPNOTSUPP, ENOSYS, EMLINK].contains(code) else { throw OutputFileError.system(path: target, errno: code) }
            var st = stat()
            if lstat(target, &st) == 0 { throw OutputFileError.exists(path: target) }
            guard rename(temp, target) == 0 else { throw OutputFileError.system(path: target, errno: errno) }
            moved = true
        }
        if durable { try syncFolder(folder, reportAs: target) }
    }

    /// Writes all of `data` to `fd` (retrying after a signal); a failure throws with `path` named.
    package static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OutputFileError.system(path: path, errno: errno)
                }
                offset += n
            }
        }
    }

    static func syncFolder(_ folder: String, reportAs target: String) throws {
        let fd = Foundation.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw OutputFileError.system(path: target, errno: errno) }
        defer { close(fd) }
        // Some file systems cannot sync a folder (EINVAL); the file itself is already on disk there.
        if fsync(fd) != 0, errno != EINVAL { throw OutputFileError.system(path: target, errno: errno) }
    }
}
