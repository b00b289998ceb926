import Foundation
import GRDB
import RoomKeyCore

/// File-system side of the keyring: private modes, creation, removal, and the checks made on open.
enum KeyringFile {
    /// Creates the parent folder (mode 0700 when roomkey makes it) and an empty file with mode 0600.
    static func createPrivate(path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw KeyringError.database("cannot create folder \(parent): \(error.localizedDescription)")
            }
        }
        let fd = Foundation.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { throw KeyringError.alreadyExists(path: path) }
            throw KeyringError.database("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    /// Removes a keyring file and its SQLite companions (used when creation fails half-way).
    static func remove(path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    /// Checks the file is a roomkey keyring of a schema this code knows, migrates it forward, and reads its header.
    static func checkedHeader(_ db: DatabaseQueue, path: String) throws -> KeyringHeader {
        let migrator = KeyringSchema.migrator
        let (appID, applied) = try db.read { db in
            (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0, try migrator.appliedIdentifiers(db))
        }
        guard appID == KeyringSchema.applicationID else { throw KeyringError.notAKeyring(path: path) }
        let unknown = applied.subtracting(migrator.migrations)
        if !unknown.isEmpty { throw KeyringError.newerSchema(path: path, unknown: unknown.sorted()) }
        if applied.count < migrator.migrations.count { try migrator.migrate(db) }
        guard let header = try db.read({ try KeyringHeader.fetchOne($0) }) else { throw KeyringError.notAKeyring(path: path) }
        return header
    }
}
