import Foundation
import GRDB
import RoomKeyCore

/// Backups: an online copy of the keyring file (it stays sealed under the keyring key and passphrase), and a
/// restore that checks the copy opens and its audit log is intact before replacing anything.
extension Keyring {
    /// Writes a consistent copy of the keyring to `path` (mode 0600), through SQLite's online backup, under the
    /// output-file rules: a symbolic link is followed; a device or FIFO is written in place; an existing regular file
    /// is replaced only with `force`; otherwise the copy is made in a temporary `.roomkey-tmp-*` file beside the target,
    /// synced, and moved into place, and that temporary file is removed if anything fails.
    public func backup(to path: String, force: Bool = false) throws {
        do {
            try OutputPath.write(to: path, replace: force, bytes: { try backupData() }, fill: { try self.copy(to: $0) })
        } catch {
            throw Keyring.mapped(error)
        }
    }

    /// A consistent copy of the keyring file, as bytes (made in a temporary file beside the keyring).
    public func backupData() throws -> Data {
        do {
            return try OutputPath.withTemporaryFile(in: OutputPath.folder(of: path), for: path) { temp in
                try copy(to: temp)
                guard let data = FileManager.default.contents(atPath: temp) else {
                    throw KeyringError.database("cannot read the copy of \(path)")
                }
                return data
            }
        } catch {
            throw Keyring.mapped(error)
        }
    }

    /// Copies the keyring into the empty file at `file` through SQLite's online backup.
    private func copy(to file: String) throws {
        let target = try DatabaseQueue(path: file)
        try db.backup(to: target)
        try target.close()
    }

    /// Restores the backup at `backupPath` to `path`: the backup must open with `passphrase` and pass the audit
    /// check; an existing keyring is replaced only with `force`. Returns the restored, opened keyring.
    public static func restore(from backupPath: String, to path: String, force: Bool, passphrase: PassphraseProvider,
                               random: any RandomSource, now: @escaping () -> UInt64 = systemClock) throws -> Keyring {
        let source = try Keyring.open(path: backupPath, passphrase: passphrase, random: random, now: now)
        try source.verifyAudit()
        if FileManager.default.fileExists(atPath: path), !force {
            throw RestoreError.wouldReplace(path: path)
        }
        let temp = path + ".restore-\(Hex.encode(random.bytes(4)))"
        do {
            try KeyringFile.createPrivate(path: temp)
            let target = try DatabaseQueue(path: temp)
            try source.db.backup(to: target)
            try target.close()
            for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
            if rename(temp, path) != 0 { throw KeyringError.database("cannot replace \(path): \(String(cString: strerror(errno)))") }
        } catch {
            KeyringFile.remove(path: temp)
            throw Keyring.mapped(error)
        }
        let restored = try Keyring.open(path: path, passphrase: passphrase, random: random, now: now)
        try restored.write { db in
            // The backup's ratchets are behind what others have seen: every room starts a new generation first.
            for row in try Row.fetchAll(db, sql: "SELECT room_tag, sealed FROM room") {
                var record = try restored.rows.open(RoomRecord.self, try row.blob("sealed", table: "room"), table: "room",
                                                    primaryKey: try row.blob("room_tag", table: "room"))
                record.rotationDue = true
                // Generations after the backup may already be out: the next one is numbered well past them.
                record.ownGeneration = record.ownGeneration &+ (1 << 16)
                try restored.saveRecord(db, record)
            }
            try restored.audit(db, .restore, "restored from \(backupPath); every room rotates before its next message")
        }
        return restored
    }
}

/// Errors restoring a backup.
public enum RestoreError: Error, Equatable, Sendable {
    /// A keyring exists at the target and `--force` was not given.
    case wouldReplace(path: String)
}

extension RestoreError: RoomKeyError {
    /// Refusing to replace is a plain failure (exit 1).
    public var category: ErrorCategory { .failure }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .wouldReplace(path): "a keyring already exists at \(path); restore never replaces one without --force"
        }
    }
    /// The next step.
    public var hint: String? { "add --force to replace it, or restore to another path with --keyring" }
}
