import Foundation

/// Every open keyring holds a shared `flock` on `<keyring>.lock` beside it (a `SidecarLock`, as `DecryptTurn` is),
/// taken before the database is opened and held while the keyring is; `restore` takes it exclusively, without waiting,
/// around its rename. A command that had the keyring open during a restore went on writing into the replaced file: its
/// commit was lost, its bundle sent for a state no keyring has, and its write count made the restored keyring look
/// rolled back (a hostile review). Where no lock file can be made (a read-only folder) nothing is locked, as before.
final class KeyringUseLock {
    private let lock: SidecarLock

    /// How long an open waits while a restore holds the lock (it holds it for a checkpoint and a rename).
    static let patience: TimeInterval = 60

    /// Takes the lock of the keyring at `keyring`: shared (waits while a restore holds it), or exclusive (fails at
    /// once with `RestoreError.keyringInUse` while any other open keyring holds it). A shared wait past `patience`
    /// throws `KeyringError.busy`.
    init(keyring: String, exclusive: Bool) throws {
        do {
            lock = try SidecarLock(keyring: keyring, suffix: ".lock", exclusive: exclusive, patience: exclusive ? 0 : Self.patience)
        } catch {
            switch error {
            case let .notAFile(path): throw KeyringError.lockNotAFile(path: path)
            case .busy:
                throw exclusive ? RestoreError.keyringInUse(path: keyring) as any Error : KeyringError.busy(path: keyring, seconds: Int(Self.patience))
            }
        }
    }

    /// Lets the lock go.
    func release() { lock.release() }
}
