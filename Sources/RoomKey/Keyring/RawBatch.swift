import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

/// Several SQL statements run by SQLite itself (`sqlite3_exec`), without GRDB's per-statement bookkeeping: for this
/// connection's own TEMP schema only, which GRDB neither caches nor observes, never for rows of the keyring.
enum RawBatch {
    /// Runs `sql`; on failure, rolls back a transaction the batch left open and throws SQLite's message.
    static func run(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else { throw KeyringError.database("the keyring connection is closed") }
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(connection, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            if sqlite3_get_autocommit(connection) == 0 { sqlite3_exec(connection, "ROLLBACK", nil, nil, nil) }
            throw KeyringError.database(message.map { String(cString: $0) } ?? "SQLite code \(code)")
        }
    }
}
