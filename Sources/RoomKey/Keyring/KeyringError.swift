import RoomKeyCore
/// Errors about the keyring file, its passphrase and its rows.
public enum KeyringError: Error, Equatable, Sendable {
    /// No keyring at the path.
    case notFound(path: String)
    /// `init` found a keyring (or another file) already at the path.
    case alreadyExists(path: String)
    /// Something that is not a keyring file is at the path `init` would create (a folder, a FIFO, a device, a symbolic
    /// link, dangling or not): `kind` names it.
    case pathTaken(path: String, kind: String)
    /// The file exists but is not a roomkey keyring.
    case notAKeyring(path: String)
    /// The keyring was written by a newer roomkey (unknown migrations).
    case newerSchema(path: String, unknown: [String])
    /// The keyring header holds a format or KDF this roomkey cannot read.
    case unsupportedHeader(reason: String)
    /// The keyring needs a passphrase and none could be obtained.
    case passphraseRequired
    /// The passphrase did not unlock the keyring.
    case wrongPassphrase
    /// A passphrase given to `init` or `passwd` is empty.
    case emptyPassphrase
    /// A row failed its authentication check: the file was edited or rows were swapped.
    case integrityFailure(table: String)
    /// The keyring has no identity row.
    case noIdentity
    /// The keyring file or its folder cannot be written (permissions, a read-only mount, an immutable file).
    case readOnly(path: String)
    /// The disk filled up while doing `what` ("writing the keyring", "writing the backup", ...).
    case noSpace(while: String)
    /// The file cannot be read; `reason` is the operating system's.
    case unreadable(path: String, reason: String)
    /// SQLite reported an error.
    case database(String)
    /// Another roomkey process kept the keyring locked past the wait (a writer, or a restore replacing it).
    case busy(path: String, seconds: Int)
    /// The keyring is older than the last state this machine saw it in: it was replaced by an older copy.
    case rolledBack(path: String, keyring: UInt64, seen: UInt64)
    /// The keyring at a path is another copy (another lineage) than the one this machine last used there: a backup
    /// restored elsewhere, then copied over the live keyring.
    case otherCopy(path: String)
    /// A keyring without a passphrase that others could read or change.
    case unsafePermissions(path: String, problem: String, fix: String)
    /// Something other than this user's regular file (a symbolic link, a FIFO, a folder, another user's file) is at the
    /// name of a lock file beside the keyring, where it would silently disable the lock.
    case lockNotAFile(path: String)
    /// A keyring's log, index or journal (`-wal`, `-shm`, `-journal`) is not this user's singly linked regular file: a
    /// FIFO there blocks SQLite for ever, and another user's file gets every page SQLite writes (and can feed it pages).
    case companionNotOwn(path: String)
    /// The keyring file has other names (hard links): SQLite keeps a log, an index and roomkey a lock per name, so
    /// commands through two names neither wait for nor see each other's writes (a hostile review: one admin forked its
    /// own room, every command exiting 0).
    case otherNames(path: String, links: Int)
}

extension KeyringError: RoomKeyError {
    /// The exit-code category.
    public var category: ErrorCategory {
        switch self {
        case .notFound, .noIdentity: .notFound
        case .alreadyExists, .pathTaken, .notAKeyring, .newerSchema, .unsupportedHeader, .readOnly, .noSpace, .unreadable, .database, .busy: .failure
        case .passphraseRequired, .wrongPassphrase: .locked
        case .emptyPassphrase: .usage
        case .integrityFailure, .rolledBack, .otherCopy: .rejected
        case .unsafePermissions, .lockNotAFile, .companionNotOwn, .otherNames: .refused
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .notFound(path): "no keyring at \(path)"
        case let .alreadyExists(path): "a keyring already exists at \(path)"
        case let .pathTaken(path, kind): "\(path) is \(kind), not a place for a new keyring"
        case let .notAKeyring(path): "\(path) is not a roomkey keyring"
        case let .newerSchema(path, unknown): "\(path) was written by a newer roomkey (unknown migrations: \(unknown.joined(separator: ", ")))"
        case let .unsupportedHeader(reason): "keyring header is not supported: \(reason)"
        case .passphraseRequired: "the keyring is locked and no passphrase was given"
        case .wrongPassphrase: "wrong passphrase"
        case .emptyPassphrase: "the passphrase is empty"
        case let .integrityFailure(table): "keyring row in \(table) failed its integrity check: the file was modified outside roomkey"
        case .noIdentity: "the keyring has no identity"
        case let .readOnly(path): "keyring is read-only: \(path)"
        case let .noSpace(what): "no space left on device while \(what)"
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .database(detail): "keyring database error: \(detail)"
        case let .busy(path, seconds): "another roomkey process kept the keyring at \(path) locked for \(seconds) seconds; nothing was changed"
        case let .rolledBack(path, keyring, seen):
            "\(path) is older than the state this machine last saw (write \(keyring) < \(seen)): it was replaced by an older copy of itself, or by another copy of this keyring (a backup restored elsewhere)"
        case let .otherCopy(path):
            "\(path) is another copy of this keyring than the one this machine last used at this path (a backup restored elsewhere, then copied here?)"
        case let .unsafePermissions(path, problem, _): "\(path) has no passphrase and \(problem)"
        case let .lockNotAFile(path): "\(path) is not a regular file of yours, so it cannot lock the keyring; nothing was changed"
        case let .companionNotOwn(path):
            "\(path) is not a regular file of yours (a FIFO, link, folder, another user's file or a second link to one); the keyring was not opened"
        case let .otherNames(path, links):
            "\(path) has \(links - 1) other name(s) (hard links), through which commands would not see each other's writes; the keyring was not opened"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .notFound: "create one with 'roomkey init --name HANDLE', or pass --keyring PATH"
        case .alreadyExists: "choose another path with --keyring, or remove the old keyring yourself"
        case .pathTaken: "choose another path with --keyring"
        case .newerSchema: "use a newer roomkey to open this keyring"
        case .passphraseRequired: "pass --passphrase-file PATH, set ROOMKEY_PASSPHRASE_FILE, or run in a terminal"
        case .emptyPassphrase: "give a passphrase that is not empty (only 'roomkey init --no-passphrase' makes a keyring without one)"
        case .readOnly: "commands that only read still work; make the file and its folder writable to change it"
        case .noSpace: "nothing was changed; free some space and run the command again"
        case .busy: "let the other command finish (or stop it), then run this one again"
        case .rolledBack, .otherCopy: "if you restored this copy on purpose, run the command again with --accept-rollback (every room then rotates)"
        case let .unsafePermissions(_, _, fix): "run '\(fix)'"
        case let .lockNotAFile(path): "remove \(path) if no roomkey is running; it is made again"
        case let .companionNotOwn(path): "find out who made \(path), remove it, and keep the keyring in a folder only you can write"
        case let .otherNames(path, _):
            "if an init or restore of it is running, let it finish; else keep one name: find the others with 'find / -xdev -samefile \(path)' and remove them"
        default: nil
        }
    }
}
