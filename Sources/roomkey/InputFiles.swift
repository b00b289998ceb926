import Foundation
import RoomKey
import RoomKeyCore

/// Bounded reading of input files and standard input (output files: `OutputFile`).
enum InputFiles {
    /// Reads `path` ("-" for standard input), refusing more than `limit` bytes. The bytes go from the file straight
    /// into the array returned (a bundle can be many megabytes: no chunks to join, no second copy).
    /// Without `followLinks` (a file found in a folder), only a regular file is read: a symbolic link, or anything
    /// but a regular file, is refused.
    static func read(_ path: String, limit: Int, what: String, followLinks: Bool = true) throws -> [UInt8] {
        try withOpened(path, limit: limit, what: what, regularOnly: !followLinks, followLinks: followLinks) { fd, size in
            try readAll(fd, size: size, limit: limit, what: what)
        }
    }

    /// A `receive` input as read: a large bundle whose stanza list was hashed as it was read, or any other file's bytes.
    enum ReceiveRead {
        /// A regular file of at least `followedReadSize` bytes that starts like a bundle.
        case followed(FollowedRead)
        /// Anything else.
        case bytes([UInt8])
    }

    /// From this size on, `receive` reads a bundle file with `FollowedRead` (its stanza list is hashed on another core
    /// while it is read); a smaller one is read at once. Debug builds take another size from `ROOMKEY_TEST_FOLLOW_FROM`
    /// (bytes), so that the end-to-end tests' small bundles go the same way.
    static let followedReadSize: Int = {
        #if DEBUG
        if let text = ProcessInfo.processInfo.environment["ROOMKEY_TEST_FOLLOW_FROM"], let size = Int(text) { return size }
        #endif
        return 512 * 1024
    }()

    /// Reads a `receive` input as `read` does, but a regular file of at least `followFrom` bytes that starts like a
    /// bundle with a stanza list hashed while it is read. A file that grew while it was read, or turned out to be no
    /// bundle, comes back as bytes.
    /// With `regularOnly` (a file found in a folder), anything but a regular file is refused (`InputError.notRegular`)
    /// without waiting on it: a FIFO is opened without blocking.
    static func readForReceive(_ path: String, limit: Int, what: String, followFrom: Int = followedReadSize,
                               regularOnly: Bool = false) throws -> ReceiveRead {
        try withOpened(path, limit: limit, what: what, regularOnly: regularOnly) { fd, size in
            // Only a large file whose first bytes are a bundle's is worth a thread; which way it goes decides nothing (the
            // bytes read next are the ones parsed, whatever they turn out to be).
            guard let size, size > 0, size >= followFrom, startsLikeBundle(fd),
                  let followed = try FollowedRead.read(capacity: size + 1, using: { try readSome(fd, $0, $1) }) else {
                return .bytes(try readAll(fd, size: size, limit: limit, what: what))
            }
            if followed.count <= size, followed.head.starts(with: Bundle.magic.prefix(3)) { return .followed(followed) }
            var bytes = followed.bytesAndStanzaHash.bytes
            if bytes.count > size { try readRest(fd, onto: &bytes, limit: limit) }
            if bytes.count > limit { throw InputError.tooLarge(what: what, limit: limit) }
            return .bytes(bytes)
        }
    }

    /// Opens `path` ("-" for standard input) and runs `body` with its descriptor and, for a regular file, its size. A
    /// regular file larger than `limit` is refused before a byte is read; with `regularOnly`, so is anything else.
    private static func withOpened<T>(_ path: String, limit: Int, what: String, regularOnly: Bool = false, followLinks: Bool = true,
                                      _ body: (Int32, Int?) throws -> T) throws -> T {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else if regularOnly {
            let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
            guard fd >= 0 else { throw errno == ELOOP && !followLinks ? InputError.notRegular(path: path) : InputError.unreadable(path: path) }
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw InputError.notRegular(path: path) }
            // A regular file reads the same either way; the flag only kept the open from waiting.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let h = FileHandle(forReadingAtPath: path) else { throw InputError.unreadable(path: path) }
            handle = h
        }
        defer { if path != "-" { try? handle.close() } }
        let fd = handle.fileDescriptor
        // Checked on what was opened, not on the name: `-`, `/dev/stdin` and `/proc/self/fd/0` all read fd 0's pipe.
        if let shared = PassphraseInput.passphraseDescriptor(sharing: fd) { throw InputError.inputIsPassphrase(fd: shared) }
        var info = stat()
        let regular = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        if regular, info.st_size > off_t(limit) { throw InputError.tooLarge(what: what, limit: limit) }
        // A pipe or FIFO is read (a script's process substitution); a device or socket named as an input is no file.
        if path != "-", [S_IFCHR, S_IFBLK, S_IFSOCK].contains(info.st_mode & S_IFMT) { throw InputError.device(path: path) }
        do {
            return try body(fd, regular ? Int(info.st_size) : nil)
        } catch let error as POSIXError {
            // A read that failed (EIO from a damaged disk or a /proc file): named with its path and the system's reason.
            throw InputError.readFailed(path: path, reason: String(cString: strerror(error.code.rawValue)))
        }
    }

    /// Every byte of `fd`, refusing more than `limit`. A regular file's size is known: one read into a buffer of that
    /// size (and one byte more, to see the end).
    private static func readAll(_ fd: Int32, size: Int?, limit: Int, what: String) throws -> [UInt8] {
        let first = (size ?? 0) > 0 ? (size ?? 0) + 1 : 1 << 20
        var bytes = try readChunk(fd, first)
        // A pipe, or a file that grew since: the rest in chunks. `readChunk` comes back short only at the end, so a short
        // read ends the loop (a file read whole in its first read costs no second read and no second buffer).
        if bytes.count == first { try readRest(fd, onto: &bytes, limit: limit) }
        if bytes.count > limit { throw InputError.tooLarge(what: what, limit: limit) }
        return bytes
    }

    /// The rest of `fd` in chunks onto the end of `bytes`, stopping once `bytes` holds more than `limit` (the caller
    /// then refuses them).
    private static func readRest(_ fd: Int32, onto bytes: inout [UInt8], limit: Int) throws {
        var atEnd = false
        while !atEnd, bytes.count <= limit {
            let more = try readChunk(fd, 1 << 20)
            bytes += more
            atEnd = more.count < 1 << 20
        }
    }

    /// Up to `count` bytes of `fd`, fewer only at its end.
    private static func readChunk(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
            filled = 0
            guard let base = buffer.baseAddress else { return }
            while filled < count {
                let n = try readSome(fd, base + filled, count - filled)
                if n == 0 { break }
                filled += n
            }
        }
    }

    /// Whether the first bytes of `fd` (read with `pread`, leaving the offset where it is) are a bundle's magic.
    private static func startsLikeBundle(_ fd: Int32) -> Bool {
        var magic = [UInt8](repeating: 0, count: 3)
        let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 3, 0) }
        return n == 3 && magic == Array(Bundle.magic.prefix(3))
    }

    /// One `read` of up to `count` bytes into `into` (retried on EINTR); 0 at the end.
    private static func readSome(_ fd: Int32, _ into: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        while true {
            let n = Foundation.read(fd, into, count)
            if n >= 0 { return n }
            if errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }

    /// Reads a UTF-8 text input.
    static func readText(_ path: String, limit: Int, what: String) throws -> String {
        let data = try read(path, limit: limit, what: what)
        guard let text = String(bytes: data, encoding: .utf8) else { throw WireError.invalid(what: what, reason: "not UTF-8") }
        return text
    }
}

/// Errors writing outputs.
enum OutputError: RoomKeyError {
    case cannotWrite(path: String, reason: String)

    var category: ErrorCategory { .failure }
    var message: String {
        switch self {
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        }
    }
}

/// An input error tied to the file it came from (`cards/bob.card: line 2: ...`), keeping its category and hint.
struct InFileError: RoomKeyError {
    let path: String
    let underlying: any RoomKeyError

    var category: ErrorCategory { underlying.category }
    var message: String { "\(path): \(underlying.message)" }
    var hint: String? { underlying.hint }

    /// `underlying` named after `path` when `name` is true (several inputs), else as it is.
    static func naming(_ path: String, when name: Bool, _ underlying: any Error) -> any Error {
        guard name, let known = underlying as? any RoomKeyError, !(known is InFileError) else { return underlying }
        // An error that names the file itself is not named twice.
        switch known {
        case InputError.unreadable, InputError.readFailed, InputError.notRegular, InputError.device, InputError.nameNotUTF8: return underlying
        default: return InFileError(path: path, underlying: known)
        }
    }

    /// Runs `body`, naming `path` in what it throws when `name` is true.
    static func naming<T>(_ path: String, when name: Bool, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw naming(path, when: name, error) }
    }
}

/// An input error with a better next step than its own hint, keeping its category and message.
struct HintedError: RoomKeyError {
    let underlying: any RoomKeyError
    let hint: String?

    var category: ErrorCategory { underlying.category }
    var message: String { underlying.message }
}
