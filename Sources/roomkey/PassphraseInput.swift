import Foundation
import RoomKey
import RoomKeyCore

/// Obtains passphrases from a file, a file descriptor or a no-echo terminal prompt; never from argv.
enum PassphraseInput {
    static let maxFileBytes = 64 * 1024
    /// How many times a new passphrase is asked for before a mismatch ends the command.
    static let newPassphraseTries = 3

    /// The first line of `path` (without its line ending) as secret bytes.
    static func fromFile(_ path: String) throws -> SecretBytes {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw InputError.unreadable(path: path) }
        defer { try? handle.close() }
        // A folder opens, and reads as nothing: it would be an empty passphrase, reported as a wrong one.
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0, info.st_mode & S_IFMT != S_IFDIR else { throw InputError.notRegular(path: path) }
        var raw = (try? handle.read(upToCount: maxFileBytes + 1)) ?? Data()
        var data = Array(raw)
        defer {
            // Both copies of the file's bytes are overwritten before they are released.
            _ = raw.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
            _ = data.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        }
        if data.count > maxFileBytes { throw InputError.tooLarge(what: "passphrase file", limit: maxFileBytes) }
        var line = Array(data.prefix { $0 != 0x0A })
        if line.last == 0x0D { line.removeLast() }
        return SecretBytes(consuming: &line)
    }

    /// The first line read from the open descriptor `fd`, one byte at a time so nothing after it is consumed. A line
    /// longer than a passphrase file may be is refused, not cut (a cut one could never be given as a file). `fd` must
    /// have been open when the command line was checked (`noteDescriptor`): a number the caller did not open may by
    /// now be one of roomkey's own files, the keyring itself.
    static func fromDescriptor(_ fd: Int32) throws -> SecretBytes {
        guard notedDescriptors[fd] != .closed, fcntl(fd, F_GETFD) != -1 else { throw PassphraseError.badDescriptor(fd) }
        // A folder reads as an error, as does a descriptor open for writing only: reported as what they are, not as a
        // passphrase nobody typed (a review: both said "cancelled", the message of Ctrl-D).
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw PassphraseError.unreadableDescriptor(fd, reason: "it is a folder, not a passphrase")
        }
        var failure: Int32 = 0
        let got = readLine(fd, error: &failure)
        if failure != 0 { throw PassphraseError.unreadableDescriptor(fd, reason: String(cString: strerror(failure)).lowercased()) }
        guard var line = got else { throw PassphraseError.cancelled }
        if line.count > maxFileBytes {
            _ = line.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
            throw InputError.tooLarge(what: "the passphrase line from --passphrase-fd \(fd)", limit: maxFileBytes)
        }
        return SecretBytes(consuming: &line)
    }

    /// A `--passphrase-fd` descriptor as it was when the command line was checked, before roomkey opened a file of its own.
    enum NotedDescriptor: Equatable {
        /// It was not open.
        case closed
        /// It was open on the file or pipe with this device and inode: an input that opens the same one (`/dev/stdin`,
        /// `/proc/self/fd/0`, `/dev/fd/3`) would take the passphrase.
        case open(file: [UInt64])
    }

    /// Each `--passphrase-fd` descriptor, noted while the command line is checked.
    nonisolated(unsafe) static var notedDescriptors: [Int32: NotedDescriptor] = [:]

    /// Notes whether `fd` is open now, and what it reads (called while the command line is checked).
    static func noteDescriptor(_ fd: Int32) {
        var st = stat()
        notedDescriptors[fd] = fstat(fd, &st) == 0 ? .open(file: [UInt64(st.st_dev), UInt64(st.st_ino)]) : .closed
    }

    /// The `--passphrase-fd` descriptor that reads what `fd` reads (the same file or pipe), if any.
    static func passphraseDescriptor(sharing fd: Int32) -> Int32? {
        var st = stat()
        guard !notedDescriptors.isEmpty, fstat(fd, &st) == 0 else { return nil }
        return notedDescriptors.first { $0.value == .open(file: [UInt64(st.st_dev), UInt64(st.st_ino)]) }?.key
    }

    /// One line from `fd` without its line ending; nil when the descriptor ends before any byte (EOF, Ctrl-D), or
    /// fails before any (`error` then holds its errno).
    static func readLine(_ fd: Int32, error: UnsafeMutablePointer<Int32>? = nil) -> [UInt8]? {
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        var sawAny = false
        while true {
            let n = read(fd, &c, 1)
            if n < 0, errno == EINTR { continue }
            if n < 0, !sawAny { error?.pointee = errno }
            guard n == 1 else { break }
            sawAny = true
            if c == 0x0A || bytes.count > maxFileBytes { break }
            bytes.append(c)
        }
        guard sawAny else { return nil }
        if bytes.last == 0x0D { bytes.removeLast() }
        return bytes
    }

    /// True when a person can be asked: standard input is a terminal and /dev/tty opens.
    static var hasTerminal: Bool {
        guard isatty(STDIN_FILENO) == 1 else { return false }
        let fd = open("/dev/tty", O_RDWR)
        if fd < 0 { return false }
        close(fd)
        return true
    }

    /// Prompts on /dev/tty with echo off; `confirm` asks twice and asks again on a mismatch (three tries).
    static func prompt(_ message: String, confirm: Bool) throws -> SecretBytes {
        guard hasTerminal else { throw KeyringError.passphraseRequired }
        if !confirm {
            guard let secret = try readNoEcho(message) else { throw PassphraseError.cancelled }
            return secret
        }
        return try askNew(read: readNoEcho, tell: tellTerminal)
    }

    /// Asks for a new passphrase and its repetition until both match, at most `tries` times; `read` returns nil at
    /// the end of input (Ctrl-D), which cancels.
    static func askNew(tries: Int = newPassphraseTries, read: (String) throws -> SecretBytes?,
                       tell: (String) -> Void) throws -> SecretBytes {
        for attempt in 1...max(1, tries) {
            guard let first = try read("New passphrase: ") else { throw PassphraseError.cancelled }
            guard let second = try read("Repeat the passphrase: ") else { throw PassphraseError.cancelled }
            if first.constantTimeEquals(second) { return first }
            if attempt < tries { tell("The passphrases do not match; try again.") }
        }
        throw PassphraseError.mismatch(tries: max(1, tries))
    }

    private static func tellTerminal(_ line: String) {
        let fd = open("/dev/tty", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = (line + "\n").withCString { write(fd, $0, strlen($0)) }
    }

    private static func readNoEcho(_ message: String) throws -> SecretBytes? {
        let fd = open("/dev/tty", O_RDWR)
        guard fd >= 0 else { throw KeyringError.passphraseRequired }
        defer { close(fd) }
        _ = message.withCString { write(fd, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(fd, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            tcsetattr(fd, TCSAFLUSH, &saved)
            _ = write(fd, "\n", 1)
        }
        guard var bytes = readLine(fd) else { return nil }
        return SecretBytes(consuming: &bytes)
    }

    /// The passphrase for an existing keyring at `path`, from `source`.
    static func provider(_ source: PassphraseSource, path: String) -> PassphraseProvider {
        { try source.read(prompt: "Passphrase for \(path): ") }
    }

    /// A new passphrase: from the file if one is set, else asked twice (again on a mismatch).
    static func newProvider(_ source: PassphraseSource) -> PassphraseProvider {
        {
            switch source {
            case .prompt: try prompt("New passphrase: ", confirm: true)
            default: try source.read(prompt: "")
            }
        }
    }
}

/// Errors reading command-line inputs.
enum InputError: RoomKeyError {
    case unreadable(path: String)
    case tooLarge(what: String, limit: Int)
    case notRegular(path: String)
    /// A character or block device, or a socket, named as an input: refused before it is read (`/dev/zero` was read
    /// up to the size limit first, half a gigabyte of memory).
    case device(path: String)
    /// An input that reads what the `--passphrase-fd` descriptor reads (`-` with `--passphrase-fd 0`, `/dev/stdin`,
    /// `/dev/fd/3` with `--passphrase-fd 3`): the input took the passphrase's line, which an error then quoted (two
    /// hostile reviews).
    case inputIsPassphrase(fd: Int32)
    case outputToTerminal
    case nameNotUTF8(path: String)
    case readFailed(path: String, reason: String)

    var category: ErrorCategory {
        switch self {
        case .readFailed: .failure
        case .unreadable: .notFound
        case .tooLarge, .notRegular, .device, .nameNotUTF8: .malformed
        case .outputToTerminal, .inputIsPassphrase: .usage
        }
    }

    var message: String {
        switch self {
        case let .unreadable(path): "cannot read \(path)"
        case let .readFailed(path, reason): "cannot read \(path): \(reason.lowercased())"
        case let .tooLarge(what, limit): "\(what) is larger than \(limit) bytes"
        case let .notRegular(path): "\(path) is not a regular file"
        case let .device(path): "\(path) is a device or a socket, not a file"
        case let .nameNotUTF8(path): "the name of \(path) is not valid UTF-8, so roomkey cannot name it; rename it"
        case let .inputIsPassphrase(fd):
            "the input reads what carries the passphrase (--passphrase-fd \(fd)), so it cannot be the input too; give the input as a file of its own, or the passphrase on another descriptor (--passphrase-fd 3 3<FILE)"
        case .outputToTerminal: "refusing to write binary output, or text with control or bidi characters, to a terminal"
        }
    }
}
