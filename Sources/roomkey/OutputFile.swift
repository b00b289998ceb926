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
        try OutputPath.check(path, replace: force)
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
            try keyring.backup(to: path, force: force)
        }
    }
}
