import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif
import RoomKeyCore

/// Reading the header row with every length bounded first. Kept apart from `KeyringHeader`, whose unwrapping the
/// fuzz target FuzzKeyringHeader compiles without SQLite.
extension KeyringHeader {
    /// The most bytes a stored salt or wrapped key may hold (the current ones hold 16 and 72, or 0 and 32).
    static let maxStoredBytes = 256

    /// The most bytes the header row may hold in all (its values and record header; a current one holds under 200).
    static let maxRowBytes = 4_096

    /// Reads the one header row with every length bounded before anything is loaded: SQLite's length limit is lowered
    /// for the read, so a row over `maxRowBytes` (100 MB in the salt, the wrapped key, the `kdf` name or a column
    /// added from outside) fails as too big without being read (review r, then review s: the row was loaded whole
    /// before its lengths were looked at, 320 MB for a 100 MB `kdf`). Then each value's type and size. Nil when there
    /// is no row.
    static func fetchBounded(_ db: Database) throws -> KeyringHeader? {
        guard let connection = db.sqliteConnection else { throw KeyringError.database("the keyring connection is closed") }
        let previous = sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, -1)
        sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, Int32(maxRowBytes))
        defer { sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, previous) }
        let row: Row?
        do {
            row = try Row.fetchOne(db, sql: """
                SELECT id, format, kdf, ops_limit, mem_limit, salt, wrapped_key,
                    typeof(salt) = 'blob' AND length(salt) <= ? AND typeof(wrapped_key) = 'blob' AND length(wrapped_key) <= ?
                    AND typeof(kdf) = 'text' AND length(kdf) <= 64 AND typeof(format) = 'integer'
                    AND typeof(ops_limit) = 'integer' AND typeof(mem_limit) = 'integer' AS fits
                FROM keyring_header
                """, arguments: [maxStoredBytes, maxStoredBytes])
        } catch let error as DatabaseError where error.resultCode == .SQLITE_TOOBIG {
            throw KeyringError.unsupportedHeader(reason: "its row holds more than \(maxRowBytes) bytes")
        }
        guard let row else { return nil }
        guard row["fits"] as Bool? == true else {
            throw KeyringError.unsupportedHeader(reason: "a value of the wrong type or over \(maxStoredBytes) bytes")
        }
        return try KeyringHeader(row: row)
    }
}
