import RoomKey
import RoomKeyCore

/// The exit-code table of docs/CLI.md, in one place.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let rejected: Int32 = 2
    static let locked: Int32 = 3
    static let notFound: Int32 = 4
    static let pending: Int32 = 5
    static let refused: Int32 = 6
    static let usage: Int32 = 64
    static let malformed: Int32 = 65

    /// Every exit code with its meaning, as the man pages' EXIT STATUS section lists them.
    static let meanings: [(code: Int32, meaning: String)] = [
        (success, "success, including inputs that were duplicate, not for you or ignored"),
        (failure, "other failure: I/O, an existing keyring, a file that is not a keyring"),
        (rejected, "rejected: a signature, MAC, authority, roster or fork check failed; nothing was stored"),
        (locked, "the keyring is locked: the passphrase is missing or wrong, or the prompt was cancelled"),
        (notFound, "not found: no such keyring, contact, room, file, or no key for this message"),
        (pending, "pending: valid, but waiting for an earlier epoch or a sender key not yet received"),
        (refused, "refused by a rule: a valid request the rules do not allow (already a member, not a member, not an admin); nothing changed"),
        (usage, "usage error: an unknown command or option, a missing argument"),
        (malformed, "malformed input: cannot be parsed, truncated, oversized, unknown version"),
    ]

    /// The exit code for an error category.
    static func code(for category: ErrorCategory) -> Int32 {
        switch category {
        case .failure: failure
        case .rejected: rejected
        case .locked: locked
        case .notFound: notFound
        case .pending: pending
        case .refused: refused
        case .usage: usage
        case .malformed: malformed
        }
    }

    /// The exit code of a run that handled several inputs (docs/CLI.md): success when every one succeeded; else
    /// `rejected` (2) if any input was rejected, else the largest code among the failures (65 > 6 > 5 > 4 > 1).
    static func worst(_ codes: [Int32]) -> Int32 {
        let failures = codes.filter { $0 != success }
        if failures.contains(rejected) { return rejected }
        return failures.max() ?? success
    }
}
