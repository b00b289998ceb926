import Foundation
import RoomKey
import RoomKeyCore

/// The one place the command line writes output files (`-o`, `--qr-png`). The rules:
///
/// - `-` is standard output; binary is never written to a terminal;
/// - a symbolic link is followed (a dangling one creates its target);
/// - an existing regular file is refused (exit 6) unless `--force`;
/// - a path that exists and is not a regular file (a device, a FIFO) is opened and written in place, never replaced;
/// - a new file is written durably, mode 0600 (see `OutputPath`): without `--force`, unnamed until it is whole and then
///   linked into place; otherwise a temporary `.roomkey-tmp-*` file beside it, fsync, rename, fsync of the folder, the
///   temporary file removed on failure and stale ones by the next command's first write there.
enum OutputFile {
    /// The path that means standard output.
    static let standardOutput = "-"

    /// Refuses early, before the keyring is opened or anything changes, what `write` would refuse.
    static func check(_ path: String?, force: Bool) throws {
        guard let path, path != standardOutput else { return }
        try refuseKeyring(path)
        try OutputPath.check(path, replace: force)
    }

    /// The keyring the command uses (set while its command line is checked): no output may replace it or its files.
    nonisolated(unsafe) static var keyringPath: String? {
        didSet { protected = nil }
    }

    /// The keyring's files, worked out at the first output checked.
    nonisolated(unsafe) private static var protected: OutputPath.ProtectedFiles?

    /// Refuses `path` when it names the command's keyring or one of its files (`-o KEYRING --force` replaced the
    /// keyring with the output, a hostile review found).
    static func refuseKeyring(_ path: String) throws {
        guard let keyringPath else { return }
        let files = protected ?? OutputPath.ProtectedFiles(keyring: keyringPath)
        protected = files
        if files.contain(path) { throw OutputFileError.keyring(path: path) }
    }

    /// Refuses early, before anything changes, a binary output (a bundle) that would reach a terminal: standard output
    /// on one, or a path that is one (/dev/tty). Checked when a bundle is named, so a change is never made whose bundle
    /// could not be written.
    static func checkBinary(_ path: String) throws {
        if path == standardOutput {
            if isatty(STDOUT_FILENO) == 1 { throw InputError.outputToTerminal }
            return
        }
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFCHR else { return }
        let fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if isatty(fd) == 1 { throw OutputFileError.terminal(path: path) }
    }

    /// Writes `data` to `path` under the rules; returns the path to report (`-` for standard output).
    /// `binary` data is refused when standard output is a terminal.
    @discardableResult
    static func write(_ data: Data, to path: String, force: Bool, binary: Bool = true) throws -> String {
        if path == standardOutput {
            if binary, isatty(STDOUT_FILENO) == 1, !StandardOutput.isText(data) { throw InputError.outputToTerminal }
            try StandardOutput.write(data)
            Output.standardOutputTaken = true
            return path
        }
        try refuseKeyring(path)
        try OutputPath.write(data, to: path, replace: force, sweep: sweep)
        return path
    }

    /// The folders whose leftover temporary files this command removed: every output file the command writes (one
    /// `-o`, a batch's outputs, the outbox's bundles) looks in its folder only at the command's first write there.
    static let sweep = LeftoverSweep()

    /// Writes a keyring backup to `path` under the same rules.
    static func writeBackup(of keyring: Keyring, to path: String, force: Bool) throws {
        if path == standardOutput {
            try write(try keyring.backupData(), to: path, force: force)
        } else {
            try refuseKeyring(path)
            try keyring.backup(to: path, force: force)
        }
    }
}
