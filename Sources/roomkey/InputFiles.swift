import Foundation
import RoomKey
import RoomKeyCore

/// Bounded reading of input files and standard input (output files: `OutputFile`).
enum InputFiles {
    /// Reads `path` ("-" for standard input), refusing more than `limit` bytes.
    static func read(_ path: String, limit: Int, what: String) throws -> Data {
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
        // A regular file (or standard input redirected from one) that is too large is refused before a byte is read.
        var info = stat()
        if fstat(handle.fileDescriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > off_t(limit) {
            throw InputError.tooLarge(what: what, limit: limit)
        }
        var data = Data()
        // A regular file's size is known: the buffer is made once instead of growing (and copying) as chunks arrive.
        if info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 { data.reserveCapacity(Int(info.st_size) + 1) }
        while data.count <= limit {
            guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else { break }
            data.append(chunk)
        }
        if data.count > limit { throw InputError.tooLarge(what: what, limit: limit) }
        return data
    }

    /// Reads a UTF-8 text input.
    static func readText(_ path: String, limit: Int, what: String) throws -> String {
        let data = try read(path, limit: limit, what: what)
        guard let text = String(data: data, encoding: .utf8) else { throw WireError.invalid(what: what, reason: "not UTF-8") }
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
