import Foundation

/// Test builds only: named steps at which the crash tests stop the process with SIGKILL (`ROOMKEY_TEST_CRASH=STEP`).
/// Release builds compile every call to nothing.
enum CrashPoint {
    /// Inside a write transaction, after the outbox recorded a bundle and before the transaction commits.
    static let inTransaction = "in-transaction"
    /// After a write transaction committed, before its bundles are written.
    static let afterCommit = "after-commit"
    /// After a bundle file was written, before the outbox marks it delivered.
    static let afterWrite = "after-write"
    /// In `receive`, after every input was applied, before this member's own sender keys are made.
    static let beforeRotation = "before-rotation"

    /// Stops the process here if the test asked for this step.
    static func reach(_ step: String) {
        #if DEBUG
        if ProcessInfo.processInfo.environment["ROOMKEY_TEST_CRASH"] == step { kill(getpid(), SIGKILL) }
        #endif
    }
}
