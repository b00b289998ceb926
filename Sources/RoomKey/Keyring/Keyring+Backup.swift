import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif
import RoomKeyCore

/// Backups: an online copy of the keyring file (it stays sealed under the keyring key and passphrase); restoring one
/// is in Keyring+Restore.swift.
extension Keyring {
    /// Writes a consistent copy of the keyring to `path` (mode 0600), through SQLite's online backup, under the
    /// output-file rules: a symbolic link is followed; a device or FIFO is written in place; an existing regular file
    /// is replaced only with `force`; otherwise the copy is made in a temporary `.roomkey-tmp-*` file beside the target,
    /// synced, and moved into place, and that temporary file is removed if anything fails.
    public func backup(to path: String, force: Bool = false) throws {
        do {
            try OutputPath.write(to: path, replace: force, bytes: { try backupData() }, fill: { try self.copy(to: $0, naming: path) })
        } catch let error as KeyringError {
            if case .noSpace = error { throw KeyringError.noSpace(while: "writing the backup") }
            throw error
        } catch {
            throw Keyring.diagnosed(error, path: path, while: "writing the backup")
        }
    }

    /// A consistent copy of the keyring file, as bytes (made in a temporary file beside the keyring).
    public func backupData() throws -> Data {
        do {
            return try OutputPath.withTemporaryFile(in: OutputPath.folder(of: path), for: path) { temp in
                // Named as what it is: a file of this command's own, not one the user gave (standard output).
                try copy(to: temp, naming: "a copy of the keyring beside \(path)")
                guard let data = FileManager.default.contents(atPath: temp) else {
                    throw KeyringError.database("cannot read the copy of \(path)")
                }
                return data
            }
        } catch {
            throw Keyring.diagnosed(error, path: path, while: "writing the backup")
        }
    }

    /// Copies the keyring into the empty file at `file` through SQLite's online backup. A write the system refused
    /// is named as any other output's (`cannot write PATH: file too large`, with `path` the name the user gave):
    /// SQLite's own error for it read "not an error" (a CLI review). A full disk is left to the callers' wording.
    private func copy(to file: String, naming path: String) throws {
        let target = try DatabaseQueue(path: file)
        do {
            try db.backup(to: target)
        } catch {
            let code = (try? target.inDatabase { db in db.sqliteConnection.map { sqlite3_system_errno($0) } ?? 0 }) ?? 0
            try? target.close()
            if code != 0, code != ENOSPC, code != EDQUOT { throw OutputFileError.system(path: path, errno: code) }
            throw error
        }
        try target.close()
    }
}
