import Foundation
import RoomKey
import RoomKeyCore

/// Where a passphrase comes from, so that an error can say which one was wrong.
enum PassphraseSource: Equatable {
    /// The first line of a file named by `--passphrase-file` (`fromEnvironment` false) or `$ROOMKEY_PASSPHRASE_FILE`.
    case file(path: String, fromEnvironment: Bool)
    /// The first line read from an open file descriptor (`--passphrase-fd N`, as in gpg).
    case descriptor(Int32)
    /// A no-echo prompt on the terminal.
    case prompt

    /// "the passphrase from $ROOMKEY_PASSPHRASE_FILE (/path)" and the like.
    var phrase: String {
        switch self {
        case let .file(path, true): "the passphrase from $ROOMKEY_PASSPHRASE_FILE (\(path))"
        case let .file(path, false): "the passphrase from --passphrase-file \(path)"
        case let .descriptor(fd): "the passphrase from --passphrase-fd \(fd)"
        case .prompt: "the passphrase typed at the prompt"
        }
    }

    /// Reads the secret; `prompt` is the question a terminal prompt asks.
    func read(prompt question: String) throws -> SecretBytes {
        switch self {
        case let .file(path, _): try PassphraseInput.fromFile(path)
        case let .descriptor(fd): try PassphraseInput.fromDescriptor(fd)
        case .prompt: try PassphraseInput.prompt(question, confirm: false)
        }
    }
}

/// Errors about passphrases that name where the passphrase came from.
enum PassphraseError: RoomKeyError, Equatable {
    case wrong(PassphraseSource)
    case cancelled
    case mismatch(tries: Int)
    case badDescriptor(Int32)
    /// The descriptor is open but cannot be read (a folder, a write-only end): the system's reason.
    case unreadableDescriptor(Int32, reason: String)
    case twoSources

    var category: ErrorCategory {
        switch self {
        case .wrong, .cancelled: .locked
        case .mismatch, .twoSources: .usage
        case .badDescriptor: .notFound
        case .unreadableDescriptor: .malformed
        }
    }

    var message: String {
        switch self {
        case let .wrong(source): "\(source.phrase) is wrong"
        case .cancelled: "cancelled: no passphrase was entered"
        case let .mismatch(tries): "the passphrases did not match (\(tries) \(tries == 1 ? "try" : "tries"))"
        case let .badDescriptor(fd): "cannot read the passphrase from file descriptor \(fd): it is not open"
        case let .unreadableDescriptor(fd, reason): "cannot read the passphrase from file descriptor \(fd): \(reason)"
        case .twoSources: "--passphrase-file and --passphrase-fd cannot be used together"
        }
    }

    var hint: String? {
        switch self {
        case let .wrong(.file(path, true)): "check the first line of \(path), or unset ROOMKEY_PASSPHRASE_FILE to be asked"
        case let .wrong(.file(path, false)): "check the first line of \(path)"
        case .wrong(.descriptor): "check what is written to that descriptor: its first line is the passphrase"
        case .wrong(.prompt): "try again"
        case .cancelled, .mismatch, .twoSources: nil
        case .badDescriptor: "open it for the command, e.g. 'roomkey ... --passphrase-fd 3 3<FILE'"
        case .unreadableDescriptor: "open it for reading, on a file or pipe that holds the passphrase, e.g. '--passphrase-fd 3 3<FILE'"
        }
    }

    /// Rethrows `error`, naming `source` when it says the passphrase was wrong.
    static func naming(_ source: PassphraseSource, in error: any Error) -> any Error {
        if case KeyringError.wrongPassphrase = error { return PassphraseError.wrong(source) }
        return error
    }
}
