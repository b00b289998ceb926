import Foundation
import RoomKey
import RoomKeyCore

/// Obtains passphrases from a file or a no-echo terminal prompt; never from argv.
enum PassphraseInput {
    static let maxFileBytes = 64 * 1024

    /// The first line of `path` (without its line ending) as secret bytes.
    static func fromFile(_ path: String) throws -> SecretBytes {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw InputError.unreadable(path: path) }
        defer { try? handle.close() }
        var raw = (try? handle.read(upToCount: maxFileBytes + 1)) ?? Data()
        var data = Array(raw)
        defer {
            // Both copies of the file's bytes are overwritten before they are released.
            raw.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
            data.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        }
        if data.count > maxFileBytes { throw InputError.tooLarge(what: "passphrase file", limit: maxFileBytes) }
        var line = Array(data.prefix { $0 != 0x0A })
        if line.last == 0x0D { line.removeLast() }
        return SecretBytes(consuming: &line)
    }

    /// True when a person can be asked: standard input is a terminal and /dev/tty opens.
    static var hasTerminal: Bool {
        guard isatty(STDIN_FILENO) == 1 else { return false }
        let fd = open("/dev/tty", O_RDWR)
        if fd < 0 { return false }
        close(fd)
        return true
    }

    /// Prompts on /dev/tty with echo off; `confirm` asks twice and requires a match.
    static func prompt(_ message: String, confirm: Bool) throws -> SecretBytes {
        guard hasTerminal else { throw KeyringError.passphraseRequired }
        let first = try readNoEcho(message)
        if confirm {
            let second = try readNoEcho("Repeat the passphrase: ")
            if !first.constantTimeEquals(second) { throw InputError.passphraseMismatch }
        }
        return first
    }

    private static func readNoEcho(_ message: String) throws -> SecretBytes {
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
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while read(fd, &c, 1) == 1, c != 0x0A, bytes.count <= maxFileBytes { bytes.append(c) }
        if bytes.last == 0x0D { bytes.removeLast() }
        return SecretBytes(consuming: &bytes)
    }

    /// The passphrase for an existing keyring: from the file if one is set, else the prompt.
    static func provider(file: String?, path: String) -> PassphraseProvider {
        { if let file { try fromFile(file) } else { try prompt("Passphrase for \(path): ", confirm: false) } }
    }

    /// A new passphrase: from the file if one is set, else asked twice.
    static func newProvider(file: String?) -> PassphraseProvider {
        { if let file { try fromFile(file) } else { try prompt("New passphrase: ", confirm: true) } }
    }
}

/// Errors reading command-line inputs.
enum InputError: RoomKeyError {
    case unreadable(path: String)
    case tooLarge(what: String, limit: Int)
    case passphraseMismatch
    case outputToTerminal

    var category: ErrorCategory {
        switch self {
        case .unreadable: .notFound
        case .tooLarge: .malformed
        case .passphraseMismatch, .outputToTerminal: .usage
        }
    }

    var message: String {
        switch self {
        case let .unreadable(path): "cannot read \(path)"
        case let .tooLarge(what, limit): "\(what) is larger than \(limit) bytes"
        case .passphraseMismatch: "the passphrases do not match"
        case .outputToTerminal: "refusing to write binary output, or text with control or bidi characters, to a terminal"
        }
    }
}
