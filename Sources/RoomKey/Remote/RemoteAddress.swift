import RoomKeyCore

/// Checks of a remote's name and URL before either is stored or reaches `git`.
public enum RemoteAddress {
    /// A remote name: 1-64 of `a-z A-Z 0-9 . _ -`, starting with a letter or digit, not a path.
    public static func validateName(_ name: String) throws(RemoteError) {
        let ok = (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45
        }
        guard ok, let first = name.utf8.first, first != 45, first != 46, first != 95 else { throw .invalidName(name) }
    }

    /// A URL git understands: not empty, at most 4096 bytes, no control characters, and not starting with `-` (which
    /// git would read as an option).
    public static func validateURL(_ url: String) throws(RemoteError) {
        guard !url.isEmpty, url.utf8.count <= 4096, !url.hasPrefix("-"), url.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .invalidURL(url)
        }
    }
}

/// Errors about git remotes and syncing.
public enum RemoteError: Error, Equatable, Sendable {
    /// A name that is not a valid remote name.
    case invalidName(String)
    /// A URL that cannot be handed to git.
    case invalidURL(String)
    /// No remote of that name.
    case notFound(String)
    /// The keyring has no remote at all.
    case noRemote
    /// A remote of that name exists already.
    case exists(String)
    /// `git` is not installed.
    case gitMissing
    /// A git command failed.
    case git(command: String, reason: String)
    /// The push kept losing races to other admins.
    case tooManyRetries(attempts: Int)
}

extension RemoteError: RoomKeyError {
    /// Bad names and URLs are usage errors; unknown remotes are not found; git failures are failures.
    public var category: ErrorCategory {
        switch self {
        case .invalidName, .invalidURL: .usage
        case .notFound, .noRemote: .notFound
        case .exists: .refused
        case .gitMissing, .git: .failure
        case .tooManyRetries: .pending
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .invalidName(name): "invalid remote name \"\(name)\": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        case let .invalidURL(url): "invalid remote URL \"\(url)\""
        case let .notFound(name): "no remote named \"\(name)\""
        case .noRemote: "this keyring has no remote"
        case let .exists(name): "a remote named \"\(name)\" exists already"
        case .gitMissing: "git is not installed (no 'git' on PATH)"
        case let .git(command, reason): "git \(command) failed: \(reason)"
        case let .tooManyRetries(attempts): "other admins kept publishing first; gave up after \(attempts) attempts with changes still staged"
        }
    }

    /// A next step.
    public var hint: String? {
        switch self {
        case .invalidName, .invalidURL: "see 'roomkey remote add --help'"
        case .notFound, .noRemote: "see 'roomkey remote list'; add one with 'roomkey remote add NAME URL'"
        case .exists: "remove it first with 'roomkey remote remove NAME'"
        case .gitMissing: "install git (Debian: apt-get install git)"
        case .git: nil
        case .tooManyRetries: "run 'roomkey sync' again: the staged changes are kept"
        }
    }
}
