import Foundation

/// Test builds only: named steps at which the crash tests stop the process with SIGKILL (`ROOMKEY_TEST_CRASH=STEP`, or
/// `STEP#N` for the N-th time the step is reached). Release builds compile every call to nothing.
enum CrashPoint {
    /// Inside a write transaction, after the outbox recorded a bundle and before the transaction commits.
    static let inTransaction = "in-transaction"
    /// At the end of any write transaction, before it commits.
    static let beforeCommit = "before-commit"
    /// In the transaction that upgrades a keyring's schema at open, before it commits.
    static let beforeUpgradeCommit = "before-upgrade-commit"
    /// Right after any write transaction committed.
    static let afterAnyCommit = "after-any-commit"
    /// After a write transaction that recorded bundles committed, before its bundles are written.
    static let afterCommit = "after-commit"
    /// After a bundle file was written, before the outbox marks it delivered.
    static let afterWrite = "after-write"
    /// After a new file (a backup, a restored keyring, an output) is complete beside its target, before it is renamed.
    static let beforeRename = "before-rename"
    /// In `restore --force`, after the old keyring's log was folded into its file and deleted, before the rename.
    static let logDeleted = "log-deleted"
    /// In `restore`, right after the restored keyring was renamed into place.
    static let afterRename = "after-rename"
    /// In `receive`, after every input was applied, before this member's own sender keys are made.
    static let beforeRotation = "before-rotation"

    /// Stops the process here if the test asked for this step.
    static func reach(_ step: String) {
        #if DEBUG
        guard let asked = ProcessInfo.processInfo.environment["ROOMKEY_TEST_CRASH"] else { return }
        let parts = asked.split(separator: "#", maxSplits: 1)
        guard parts.first.map(String.init) == step else { return }
        reached += 1
        if reached >= (parts.count == 2 ? Int(parts[1]) ?? 1 : 1) { kill(getpid(), SIGKILL) }
        #endif
    }

    /// How often the asked step was reached so far (one process, one thread at a time: commands are sequential).
    nonisolated(unsafe) private static var reached = 0
}
