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

extension Array where Element == UInt8 {
    /// Runs `body` with these bytes seen as `Data`, without copying them (a bundle or a sealed row is megabytes). The
    /// `Data` must not outlive `body`: SQLite copies a bound value, and an encoder reads it before returning.
    func withDataView<R>(_ body: (Data) throws -> R) rethrows -> R {
        try withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return try body(Data()) }
            return try body(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: raw.count, deallocator: .none))
        }
    }
}

extension Database {
    /// Runs `sql` once with `arguments` and then `blob` (a sealed roster, commit or bundle: megabytes) bound where it
    /// lies. `Database.execute(sql:arguments:)` would have SQLite copy every bound value, and `Data(blob)` copy it
    /// again; a statement run with its arguments binds them without copying for the length of the call, and the
    /// statement is not cached, so nothing keeps the view of `blob` after it returns.
    func executeWithLargeBlob(_ sql: String, _ arguments: [(any DatabaseValueConvertible)?], blob: [UInt8]) throws {
        let statement = try makeStatement(sql: sql)
        try blob.withDataView { view in try statement.execute(arguments: StatementArguments(arguments + [view])) }
    }
}
