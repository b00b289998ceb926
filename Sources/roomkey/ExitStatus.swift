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
