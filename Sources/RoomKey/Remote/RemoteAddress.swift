import Foundation
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

    /// A URL git understands: not empty, at most 4096 bytes, no control characters, not starting with `-` (which
    /// git would read as an option), and no password in its user part (git's credential helpers keep those).
    public static func validateURL(_ url: String) throws(RemoteError) {
        guard !url.isEmpty, url.utf8.count <= 4096, !url.hasPrefix("-"), url.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .invalidURL(redacted(url))
        }
        if let user = userinfo(url), user.userinfo.contains(":") { throw .passwordInURL(redacted(url)) }
    }

    /// True for a repository on this machine, which git reaches by running `git-upload-pack` and `git-receive-pack` here,
    /// as this user, under that repository's own configuration: a `file://` URL, or a path (no `scheme://`, and no
    /// `host:` before the first `/`, which git reads as ssh).
    public static func isLocal(_ url: String) -> Bool {
        if url.lowercased().hasPrefix("file://") { return true }
        if url.contains("://") { return false }
        guard let colon = url.firstIndex(of: ":") else { return true }
        return url[..<colon].contains("/")
    }

    /// The URL as roomkey prints it: the user part of a `scheme://user@host` URL other than ssh (where it may be a
    /// token) replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let user = userinfo(url), !["ssh", "git+ssh", "ssh+git"].contains(user.scheme) || user.userinfo.contains(":") else { return url }
        return url.replacingCharacters(in: user.range, with: "***")
    }

    /// `text` (a line git wrote) with the URL's user part replaced as in `redacted`.
    static func scrub(_ text: String, url: String) -> String {
        guard let user = userinfo(url), redacted(url) != url else { return text }
        return text.replacingOccurrences(of: user.userinfo, with: "***")
    }

    /// The scheme (lowercased), user part and its range of a `scheme://user@host/...` URL, or nil without one.
    private static func userinfo(_ url: String) -> (scheme: String, userinfo: String, range: Range<String.Index>)? {
        guard let sep = url.range(of: "://") else { return nil }
        let rest = url[sep.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@"), at > authority.startIndex else { return nil }
        return (url[..<sep.lowerBound].lowercased(), String(url[authority.startIndex..<at]), authority.startIndex..<at)
    }
}

/// Errors about git remotes and syncing.
public enum RemoteError: Error, Equatable, Sendable {
    /// A name that is not a valid remote name.
    case invalidName(String)
    /// A URL that cannot be handed to git (shown redacted).
    case invalidURL(String)
    /// A URL with a password in it (shown redacted).
    case passwordInURL(String)
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
    /// A file of the remote that sync did not read (too large, or not provided); reported as malformed.
    case unreadableFile(String)
    /// A file at a path its header does not name (room id hex and epoch of the path, and how it does not fit).
    case misplacedFile(room: String, epoch: UInt64, why: RemotePlacement.Mismatch)
    /// The push kept losing races to other admins.
    case tooManyRetries(attempts: Int)
    /// A listing of the remote's tree, or its tree objects, ran past `GitMirror.maxListingBytes` (a tree that names one
    /// subtree many times lists millions of paths from a few kilobytes).
    case treeTooLarge(command: String, limit: Int)
}

extension RemoteError: RoomKeyError {
    /// Bad names and URLs are usage errors; unknown remotes are not found; git failures are failures.
    public var category: ErrorCategory {
        switch self {
        case .invalidName, .invalidURL, .passwordInURL: .usage
        case .notFound, .noRemote: .notFound
        case .exists: .refused
        case .gitMissing, .git: .failure
        case .unreadableFile: .malformed
        case .misplacedFile: .rejected
        case .tooManyRetries: .pending
        case .treeTooLarge: .rejected
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .invalidName(name): "invalid remote name \"\(name)\": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        case let .invalidURL(url): "invalid remote URL \"\(url)\""
        case let .passwordInURL(url): "the remote URL \"\(url)\" holds a password"
        case let .notFound(name): "no remote named \"\(name)\""
        case .noRemote: "this keyring has no remote"
        case let .exists(name): "a remote named \"\(name)\" exists already"
        case .gitMissing: "git is not installed (no 'git' on PATH)"
        case let .git(command, reason): "git \(command) failed: \(reason)"
        case let .unreadableFile(reason): "not read from the remote: \(reason)"
        case let .misplacedFile(room, epoch, why):
            switch why {
            case .roomOrEpoch: "its header names another room or epoch than its path (room \(room), epoch \(epoch)); not received"
            case .sender: "its header names another sender than its path; not received"
            case .digest: "the digest in its name is not the file's; not received"
            case .kind: "a leave request is read only from leave/, and a bundle never from there; not received"
            }
        case let .tooManyRetries(attempts): "other admins kept publishing first; gave up after \(attempts) attempts with changes still staged"
        case let .treeTooLarge(command, limit):
            "the remote's tree under rooms/ runs past \(limit >> 20) MiB (git \(command)); nothing was read from it"
        }
    }

    /// A next step.
    public var hint: String? {
        switch self {
        case .invalidName, .invalidURL: "see 'roomkey remote add --help'"
        case .passwordInURL: "leave the password out of the URL and let a git credential helper supply it (see 'git help credentials')"
        case .notFound, .noRemote: "see 'roomkey remote list'; add one with 'roomkey remote add NAME URL'"
        case .exists: "remove it first with 'roomkey remote remove NAME'"
        case .gitMissing: "install git (Debian: apt-get install git)"
        case .git, .unreadableFile, .misplacedFile: nil
        case .tooManyRetries: "run 'roomkey sync' again: the staged changes are kept"
        case .treeTooLarge: "ask whoever runs the remote to take the oversized tree off its branch (see 'git log --stat' there)"
        }
    }
}
