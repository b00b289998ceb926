import Foundation
import RoomKeyCore

/// The rules for writing an output file, shared by `Keyring.backup` and the command line's `-o`:
///
/// - a symbolic link is followed (a dangling one creates its target);
/// - a path that exists and is not a regular file (a device, a FIFO) is opened and written in place, never replaced;
/// - an existing regular file is replaced only when `replace` is true;
/// - a new file that replaces nothing is written durably without a name until it is whole: an unnamed file in the
///   target's folder (`O_TMPFILE`), written, fsynced, linked at the target (refused atomically if a file appeared
///   there), and the folder fsynced; a run killed before the link leaves nothing. Where the file system or a missing
///   `/proc` does not allow that, and for a replacement or a database, the file goes through a temporary file
///   `.roomkey-tmp-*` beside the target (`TemporaryFile`, locked by its writer), written, fsynced, moved into place,
///   and the folder fsynced. The temporary file is removed on failure, and one left by a killed run (no live writer
///   holds it) is removed by the next write into that folder (by the first write of a run into it, when the run
///   passes a `LeftoverSweep`).
package enum OutputPath {

    /// Writes `data` to `path` under the rules above. With `durable` false the file and folder are not synced here:
    /// the caller syncs many files at once with `syncFileSystem(of:)` (batch outputs). With `sweep`, a folder's
    /// leftovers are looked for once per sweep, not at every write (a batch of many files into one folder).
    /// Without `followLinks` (an output whose name someone else could have planted a link at), a symbolic link at
    /// `path` is refused (`OutputFileError.symbolicLink`), never followed.
    /// Without `inPlace` nothing that exists at `path` is written, not even a device or FIFO: only a new file, refused
    /// (`OutputFileError.exists`) if anything is there.
    package static func write(_ data: Data, to path: String, replace: Bool, durable: Bool = true,
                              sweep: LeftoverSweep? = nil, followLinks: Bool = true, inPlace: Bool = true) throws {
        try write(to: path, replace: replace, bytes: { data }, fill: nil, durable: durable, sweep: sweep, followLinks: followLinks,
                  inPlace: inPlace)
    }

    /// Makes every write so far durable at once (`sync`, which also covers the renames in `folder`).
    package static func syncFileSystem(of folder: String) throws {
        Glibc.sync()
        try syncFolder(folder, reportAs: folder)
    }

    /// Writes to `path` under the rules above. A regular file is produced by `fill` (given the temporary file's path)
    /// when there is one, else from `bytes`; a device or FIFO always gets `bytes`.
    package static func write(to path: String, replace: Bool, bytes: () throws -> Data,
                              fill: ((String) throws -> Void)?, durable: Bool = true, sweep: LeftoverSweep? = nil,
                              followLinks: Bool = true, inPlace: Bool = true) throws {
        // Without following links, a link at `path` is refused by `openInPlace` (lstat, then O_NOFOLLOW), or, without
        // `inPlace`, by the link that places the new file (it never follows the name, and refuses one that exists).
        let target = followLinks ? try resolve(path) : path
        if inPlace, let fd = try openInPlace(target, followLinks: followLinks) {
            let data: Data
            do { data = try bytes() } catch { close(fd); throw error }
            // A terminal reached through a path (/dev/tty, /dev/stdout) gets what standard output would: text only.
            if isatty(fd) == 1, !(String(data: data, encoding: .utf8).map(SafeText.isTerminalSafe) ?? false) {
                close(fd)
                throw OutputFileError.terminal(path: target)
            }
            try writeInPlace(fd, data, path: target)
            return
        }
        let folder = folder(of: target)
        if sweep?.isFirst(folder) ?? true { TemporaryFile.removeLeftovers(in: folder) }
        if let fill {
            try placeNew(at: target, replace: replace, durable: durable, database: true) { try fill($0.path) }
            return
        }
        let data = try bytes()
        if !replace, try placeUnnamed(data, at: target, folder: folder, durable: durable) { return }
        try placeNew(at: target, replace: replace, durable: durable, database: false) { try writeAll($0.descriptor, data, path: target) }
    }

    /// Refuses early, before anything changes, what `write` would refuse: a folder, or an existing regular file
    /// unless `replace`.
    package static func check(_ path: String, replace: Bool) throws {
        let target = try resolve(path)
        var st = stat()
        guard stat(target, &st) == 0 else {
            // A new file: its folder must exist and be writable now, before anything it belongs to is committed.
            let folder = folder(of: target)
            if access(folder, W_OK) != 0 { throw OutputFileError.system(path: path, errno: errno) }
            return
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw OutputFileError.isFolder(path: path) }
        if (st.st_mode & S_IFMT) == S_IFREG, !replace { throw OutputFileError.exists(path: path) }
    }

    /// A keyring's file and SQLite's files beside it (`-wal`, `-shm`, `-journal`), as an output must never name them:
    /// their physical paths, and the device and inode of those that exist. Worked out once per command (a batch of
    /// 10,000 outputs compares each with them), with each output folder's physical path kept.
    package final class ProtectedFiles: @unchecked Sendable {
        let paths: Set<String>
        let nodes: Set<[UInt64]>
        private var folders: [String: String] = [:]

        /// The files of the keyring at `keyring` (SQLite keeps them beside the file the path leads to: the suffixes go
        /// on both the path and its target).
        package init(keyring: String) {
            let bases = Set([keyring, (try? OutputPath.resolve(keyring)) ?? keyring])
            // Its lock files too: an output renamed over `KEYRING.decrypt.lock` let a second decrypt read a message
            // the first was reading, and one over `KEYRING.lock` let a restore replace a keyring in use (a hostile review).
            let files = bases.flatMap { base in [base] + (KeyringFile.companionSuffixes + KeyringFile.lockSuffixes).map { base + $0 } }
            let physical = files.map { OutputPath.physical((try? OutputPath.resolve($0)) ?? $0, folder: OutputPath.realFolder) }
            paths = Set(physical)
            nodes = Set(physical.compactMap { file in
                var st = stat()
                return stat(file, &st) == 0 ? [UInt64(st.st_dev), UInt64(st.st_ino)] : nil
            })
        }

        /// True when `path` names one of the files, through any symbolic link or folder alias: the same physical path,
        /// or the same device and inode.
        package func contain(_ path: String) -> Bool {
            var st = stat()
            // A path that does not exist is compared by name alone (one system call for a batch's new outputs).
            guard lstat(path, &st) == 0 else { return paths.contains(OutputPath.physical(path, folder: physicalFolder)) }
            let target = OutputPath.physical((try? OutputPath.resolve(path)) ?? path, folder: physicalFolder)
            if paths.contains(target) { return true }
            return stat(target, &st) == 0 && nodes.contains([UInt64(st.st_dev), UInt64(st.st_ino)])
        }

        /// The physical path of `folder`, asked of the system once.
        private func physicalFolder(_ folder: String) -> String? {
            if let known = folders[folder] { return known }
            let found = OutputPath.realFolder(folder)
            folders[folder] = found
            return found
        }
    }

    /// `path` with its folder's symbolic links resolved (the folder's physical path from `folder`, the name kept);
    /// `path` itself when the folder has none.
    static func physical(_ path: String, folder real: (String) -> String?) -> String {
        guard let folder = real(folder(of: path)) else { return path }
        return (folder as NSString).appendingPathComponent((path as NSString).lastPathComponent)
    }

    /// The physical path of `folder` (`realpath`), nil when it cannot be had.
    static func realFolder(_ folder: String) -> String? {
        guard let real = realpath(folder, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// Follows symbolic links to the path that will be written; a dangling link resolves to the missing target.
    package static func resolve(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            if lstat(current, &st) != 0 {
                if errno == ENOENT { return current }
                throw OutputFileError.system(path: path, errno: errno)
            }
            guard (st.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n >= 0 else { throw OutputFileError.system(path: path, errno: errno) }
            let destination = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = destination.hasPrefix("/") ? destination
                : (PathName.parent(current) as NSString).appendingPathComponent(destination)
        }
        throw OutputFileError.system(path: path, errno: ELOOP)
    }

    /// Makes a temporary file in `folder` (mode 0600, never an existing name), lets `body` use its path, and removes
    /// it and any SQLite companions afterwards.
    package static func withTemporaryFile<T>(in folder: String, for path: String, _ body: (String) throws -> T) throws -> T {
        TemporaryFile.removeLeftovers(in: folder)
        let temp = try TemporaryFile.create(in: folder, for: path)
        defer { temp.remove() }
        return try body(temp.path)
    }

    /// The folder a path is in ("." for a bare name).
    package static func folder(of path: String) -> String {
        let folder = PathName.parent(path)
        return folder.isEmpty ? "." : folder
    }

    /// Opens an existing path that is not a regular file or folder for writing in place; nil when it is missing or
    /// a regular file.
    private static func openInPlace(_ target: String, followLinks: Bool) throws -> Int32? {
        var st = stat()
        guard (followLinks ? stat(target, &st) : lstat(target, &st)) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: throw OutputFileError.isFolder(path: target)
        case S_IFLNK: throw OutputFileError.symbolicLink(path: target)
        default: break
        }
        // No O_CREAT and no O_TRUNC: the node stays what it is. A FIFO blocks here until a reader opens it.
        let fd = Foundation.open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            throw errno == ELOOP && !followLinks ? OutputFileError.symbolicLink(path: target) : OutputFileError.system(path: target, errno: errno)
        }
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG else {
            // Replaced by a regular file since the check: write it the regular way.
            close(fd)
            return nil
        }
        return fd
    }

    private static func writeInPlace(_ fd: Int32, _ data: Data, path: String) throws {
        var st = stat()
        let isBlockDevice = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFBLK
        do {
            try writeAll(fd, data, path: path)
            if isBlockDevice, fsync(fd) != 0 { throw OutputFileError.system(path: path, errno: errno) }
        } catch {
            close(fd)
            throw error
        }
        if close(fd) != 0, errno != EINTR { throw OutputFileError.system(path: path, errno: errno) }
    }

}

/// Errors writing an output file.
public enum OutputFileError: Error, Equatable, Sendable {
    /// A regular file exists at the path and replacing it was not asked for.
    case exists(path: String)
    /// The path is a folder.
    case isFolder(path: String)
    /// The operating system refused; `errno` says why.
    case system(path: String, errno: Int32)
    /// The path is a terminal and the output is binary, or text with control or bidi characters.
    case terminal(path: String)
    /// The path is a symbolic link where none is followed (a batch output, whose name comes from its input's).
    case symbolicLink(path: String)
    /// The path is the keyring the command uses, or one of SQLite's files beside it.
    case keyring(path: String)
}

extension OutputFileError: RoomKeyError {
    /// Refusing to replace is a rule (exit 6); an operating-system failure is a failure (exit 1).
    public var category: ErrorCategory {
        switch self {
        case .exists, .isFolder, .symbolicLink: .refused
        case .system: .failure
        case .terminal, .keyring: .usage
        }
    }

    /// A one-line description with the operating system's reason.
    public var message: String {
        switch self {
        case let .exists(path): "\(path) already exists; an existing file is replaced only with --force"
        case let .isFolder(path): "\(path) is a folder; give a file name"
        case let .system(path, code) where code == ENOSPC: "no space left on device while writing \(path)"
        case let .system(path, code): "cannot write \(path): \(Self.reason(code))"
        case let .terminal(path): "refusing to write binary output, or text with control or bidi characters, to the terminal \(path)"
        case let .symbolicLink(path): "\(path) is a symbolic link; a batch output is never written through one"
        case let .keyring(path): "\(path) is the keyring (or one of its files); an output never replaces it"
        }
    }

    /// The next step.
    public var hint: String? {
        switch self {
        case .exists: "add --force to replace it, or choose another path"
        case .symbolicLink: "remove the link, or write the outputs to another folder with -o FOLDER"
        case .system(_, EROFS): "the file system is mounted read-only: choose another folder"
        case .system(_, EACCES), .system(_, EPERM): "check the folder's permissions, or choose another folder"
        default: nil
        }
    }

    /// `strerror` in lowercase.
    static func reason(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        guard let first = text.first else { return "error \(code)" }
        return first.lowercased() + text.dropFirst()
    }
}
