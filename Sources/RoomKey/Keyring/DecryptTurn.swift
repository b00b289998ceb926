import Foundation
import RoomKeyCore

/// Decrypts of one keyring take turns: an `flock` on `<keyring>.decrypt.lock` beside it, named from the keyring's
/// resolved path (a symbolic link to the keyring takes the same turn), as `sync` locks `<keyring>.sync.lock`; SQLite's
/// own locks are `fcntl` locks on the keyring file, which this never meets. A decrypt hands its plaintext out before it
/// stores the ratchet state (so a slow reader blocks no other command), and without turns a second decrypt of the same
/// message in that time read it too.
final class DecryptTurn {
    private let fd: Int32

    /// How long a decrypt waits for the one before it (which may wait for a reader of its output).
    static let patience: TimeInterval = 30

    /// The lock file of the keyring at `keyring`.
    static func path(keyring: String) -> String {
        URL(fileURLWithPath: keyring).resolvingSymlinksInPath().path + ".decrypt.lock"
    }

    /// Waits for and takes the turn of the keyring at `keyring`. Where no lock file can be made or locked (a read-only
    /// folder, a file system without `flock`), decrypts go on without turns, as before.
    init(keyring: String) throws {
        fd = open(Self.path(keyring: keyring), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let deadline = Date().addingTimeInterval(Self.patience)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { return }
            guard Date() < deadline else {
                close(fd)
                throw DecryptTurnError.busy
            }
            usleep(10_000)
        }
    }

    /// Gives the turn to the next decrypt.
    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Why a decrypt could not take its turn.
public enum DecryptTurnError: Error, Equatable, Sendable {
    /// Another decrypt of this keyring held its turn for longer than `DecryptTurn.patience`.
    case busy
}

extension DecryptTurnError: RoomKeyError {
    /// Nothing was read; a plain failure (exit 1).
    public var category: ErrorCategory { .failure }
    /// A one-line description.
    public var message: String { "another decrypt of this keyring is still waiting for its output to be read; nothing was decrypted" }
    /// The next step.
    public var hint: String? { "let the other decrypt finish, then try again" }
}
