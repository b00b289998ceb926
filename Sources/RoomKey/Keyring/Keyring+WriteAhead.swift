import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

/// Disk work moved ahead of a large seal. A command that seals to thousands of members spends a few hundred
/// milliseconds with both cores sealing, and what it writes to the keyring after that runs on one core while the other
/// waits. The pages its transaction changed before the seal (the epoch's roster rows, tenures and room summary, about a
/// megabyte in a room of 10,000) need nothing of the seal, so they go to the write-ahead log before it, while the second
/// core still makes key pairs (`sealAhead`); the commit then writes the outbox's bundle and little else. SQLite's own
/// rules keep this safe: log frames without a commit record are never applied, and a rollback leaves them unused.
extension Keyring {
    /// Writes the pages the open transaction changed so far to the write-ahead log (`sqlite3_db_cacheflush`), still
    /// uncommitted; its commit then writes only what changes after this. Throws SQLite's error (a full disk) at once.
    func writePagesAhead(_ db: Database) throws {
        guard let connection = db.sqliteConnection else { throw KeyringError.database("the keyring connection is closed") }
        let code = sqlite3_db_cacheflush(connection)
        guard code == SQLITE_OK else { throw Self.cacheFlushError(code) }
    }

    /// The error a failed `sqlite3_db_cacheflush` returned: from its own code, since it sets neither the connection's
    /// error code nor its message (those still hold an earlier call's, which would misreport a full disk).
    static func cacheFlushError(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errstr(code)))
    }
}
