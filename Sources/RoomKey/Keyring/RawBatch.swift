import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

/// Several SQL statements in one transaction, run by SQLite itself (`sqlite3_exec`) without GRDB's per-statement
/// bookkeeping: for this connection's own TEMP schema only (the digest triggers), never for rows of the keyring, and
/// never while a transaction is open or a GRDB transaction observer is registered (roomkey registers none).
enum RawBatch {
    /// Why a batch did not run.
    enum Failure: Error, Equatable {
        /// A transaction was already open: the batch's own `BEGIN` would fail, and its clean-up undo the caller's work.
        case insideTransaction
    }

    /// Runs `statements` between `BEGIN` and `COMMIT`; on failure nothing of them stays and SQLite's error is thrown
    /// as GRDB would throw it (result code kept, so a full disk is still told apart from damage).
    static func run(_ db: Database, _ statements: String) throws {
        guard let connection = db.sqliteConnection else { throw KeyringError.database("the keyring connection is closed") }
        guard sqlite3_get_autocommit(connection) != 0 else { throw Failure.insideTransaction }
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(connection, "BEGIN;" + statements + "COMMIT;", nil, nil, &message)
        let text = message.map { String(cString: $0) }
        sqlite3_free(message)
        // SQLite changed the connection's schema behind GRDB: what GRDB remembers of it is dropped.
        defer { db.clearSchemaCache() }
        guard code == SQLITE_OK else {
            let extended = sqlite3_extended_errcode(connection)
            if sqlite3_get_autocommit(connection) == 0 {
                let undone = sqlite3_exec(connection, "ROLLBACK", nil, nil, nil)
                if undone != SQLITE_OK {
                    throw DatabaseError(resultCode: ResultCode(rawValue: undone),
                                        message: "\(text ?? "SQLite code \(extended)"); the batch could not be rolled back")
                }
            }
            throw DatabaseError(resultCode: ResultCode(rawValue: extended), message: text)
        }
    }
}
