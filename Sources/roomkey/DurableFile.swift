import Foundation
import RoomKeyCore

/// Writes a file so that it is either absent or complete after a crash: a visible `.roomkey-tmp-*` file beside the
/// target, fsync, rename, fsync of the folder. Writing the same bytes to a file that already holds them is a no-op,
/// so an outbox entry interrupted after its rename is simply confirmed on the next flush.
enum DurableFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        if let existing = FileManager.default.contents(atPath: path), existing.elementsEqual(bytes) { return }
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temp = (folder as NSString).appendingPathComponent(".roomkey-tmp-\((try? SystemRandom().bytes(6)).map(Hex.encode) ?? "000000")")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(path, "creating a temporary file") }
        var ok = false
        defer { if !ok { unlink(temp) } }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = failure(path, "writing")
                close(fd)
                throw error
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let error = failure(path, "syncing")
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temp, path) == 0 else { throw failure(path, "renaming into place") }
        ok = true
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    private static func failure(_ path: String, _ step: String) -> OutputError {
        let reason = errno == ENOSPC ? "no space left on device while \(step)" : "\(step): \(String(cString: strerror(errno)))"
        return OutputError.cannotWrite(path: path, reason: reason)
    }
}
