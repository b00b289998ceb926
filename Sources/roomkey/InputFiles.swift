import Foundation
import RoomKey
import RoomKeyCore

/// Bounded reading of input files and standard input (output files: `OutputFile`).
enum InputFiles {
    /// Reads `path` ("-" for standard input), refusing more than `limit` bytes. The bytes go from the file straight
    /// into the array returned (a bundle can be many megabytes: no chunks to join, no second copy).
    static func read(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let h = FileHandle(forReadingAtPath: path) else { throw InputError.unreadable(path: path) }
            handle = h
        }
        defer { if path != "-" { try? handle.close() } }
        let fd = handle.fileDescriptor
        // A regular file (or standard input redirected from one) that is too large is refused before a byte is read.
        var info = stat()
        let regular = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        if regular, info.st_size > off_t(limit) { throw InputError.tooLarge(what: what, limit: limit) }
        // A regular file's size is known: one read into a buffer of that size (and one byte more, to see the end).
        let first = regular && info.st_size > 0 ? Int(info.st_size) + 1 : 1 << 20
        var bytes = try readChunk(fd, first)
        // A pipe, or a file that grew since: the rest in chunks. `readChunk` comes back short only at the end, so a short
        // read ends the loop (a file read whole in its first read costs no second read and no second buffer).
        var atEnd = bytes.count < first
        while !atEnd, bytes.count <= limit {
            let more = try readChunk(fd, 1 << 20)
            bytes += more
            atEnd = more.count < 1 << 20
        }
        if bytes.count > limit { throw InputError.tooLarge(what: what, limit: limit) }
        return bytes
    }

    /// Up to `count` bytes of `fd`, fewer only at its end.
    private static func readChunk(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
            filled = 0
            guard let base = buffer.baseAddress else { return }
            while filled < count {
                let n = Foundation.read(fd, base + filled, count - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                if n == 0 { break }
                filled += n
            }
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
        if case InputError.unreadable = known { return underlying }
        return InFileError(path: path, underlying: known)
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
