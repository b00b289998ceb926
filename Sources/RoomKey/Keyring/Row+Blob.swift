import Foundation
import GRDB
import RoomKeyCore

extension Row {
    /// The BLOB in `column`; anything else (an edited file) is an integrity failure of `table`, never a trap.
    func blob(_ column: String, table: String) throws(KeyringError) -> [UInt8] {
        guard let data = Data.fromDatabaseValue(self[column] as DatabaseValue) else { throw .integrityFailure(table: table) }
        return Array(data)
    }

    /// The positive integer in `column`, or an integrity failure of `table`.
    func positiveInteger(_ column: String, table: String) throws(KeyringError) -> Int64 {
        guard let value = Int64.fromDatabaseValue(self[column] as DatabaseValue), value >= 1 else { throw .integrityFailure(table: table) }
        return value
    }
}
