import Foundation

/// A regular file `receive` read ahead, known by what `fstat` said of it, and read again only while it is still that
/// file: the same device, inode, size and modification time, opened without blocking (a path swapped for a FIFO or a
/// device does not hang or stream), and never more than the size it had.
struct ReadAheadFile: Sendable, Equatable {
    let path: String
    let device: UInt64
    let inode: UInt64
    let size: Int
    let modified: Int64
    let modifiedNanoseconds: Int64

    /// What the file at `path` is now, if it is a regular file (nil for anything else, or when it cannot be seen).
    static func identify(_ path: String) -> ReadAheadFile? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return ReadAheadFile(path: path, info)
    }

    private init?(path: String, _ info: stat) {
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        (self.path, device, inode, size) = (path, UInt64(info.st_dev), UInt64(info.st_ino), Int(info.st_size))
        (modified, modifiedNanoseconds) = (Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec))
    }

    /// Why the file cannot be read again.
    enum ReadAgainError: Error, CustomStringConvertible {
        case notTheSameFile
        case unreadable(Int32)

        var description: String {
            switch self {
            case .notTheSameFile: "it is no longer the file that was read"
            case let .unreadable(code): String(cString: strerror(code))
            }
        }
    }

    /// The file's bytes, read again: exactly `size` of them, from the same regular file.
    func readAgain() throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReadAgainError.unreadable(errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ReadAgainError.unreadable(errno) }
        guard ReadAheadFile(path: path, info) == self else { throw ReadAgainError.notTheSameFile }
        // One byte more than the size, to see a file that grew.
        let capacity = size + 1
        var bytes = [UInt8](repeating: 0, count: capacity)
        let filled = try bytes.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var filled = 0
            while filled < capacity {
                let n = Foundation.read(fd, base + filled, capacity - filled)
                if n < 0, errno == EINTR { continue }
                if n < 0 { throw ReadAgainError.unreadable(errno) }
                if n == 0 { break }
                filled += n
            }
            return filled
        }
        guard filled == size else { throw ReadAgainError.notTheSameFile }
        bytes.removeLast()
        return bytes
    }
}
