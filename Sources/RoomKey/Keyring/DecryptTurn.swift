import Foundation
import RoomKeyCore

/// Decrypts of one keyring take turns: an exclusive `flock` on `<keyring>.decrypt.lock` beside it (a `SidecarLock`), as
/// `sync` locks `<keyring>.sync.lock`. A decrypt hands its plaintext out before it stores the ratchet state (so a slow
/// reader blocks no other command), and without turns a second decrypt of the same message in that time read it too.
final class DecryptTurn {
    private let lock: SidecarLock

    /// How long a decrypt waits for the one before it (which may wait for a reader of its output).
    static let patience: TimeInterval = 30

    /// Waits for and takes the turn of the keyring at `keyring`. Where no lock file can be made or locked (a read-only
    /// folder, a file system without `flock`), decrypts go on without turns, as before.
    init(keyring: String) throws {
        do { lock = try SidecarLock(keyring: keyring, suffix: ".decrypt.lock", exclusive: true, patience: Self.patience) } catch {
            switch error {
            case let .notAFile(path): throw KeyringError.lockNotAFile(path: path)
            case .busy: throw DecryptTurnError.busy
            }
        }
    }

    /// Gives the turn to the next decrypt.
    func release() { lock.release() }
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
