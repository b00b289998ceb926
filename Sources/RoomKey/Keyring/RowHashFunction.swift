import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif
import RoomKeyCore

/// The digest triggers' SQL function `roomkey_row_hash(table, value...)`, registered on the raw SQLite connection
/// rather than through GRDB, which copies each argument into a `Data` (and the digest then into an array): a blob is
/// hashed where SQLite holds it, so inserting or deleting a 12 MB outbox bundle row does not copy it twice. The
/// result is `RowDigest.rowHash` of the values as GRDB reads them (TEXT as `String(cString:)`), byte for byte.
enum RowHashFunction {
    /// `SQLITE_TRANSIENT`: SQLite copies the result before the call returns.
    static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Registers the function on `db`'s connection, hashing under the digest key of `state`.
    static func install(_ db: Database, state: IntegrityState) throws {
        guard let connection = db.sqliteConnection else { throw KeyringError.database("the keyring connection is closed") }
        let context = Unmanaged.passRetained(state).toOpaque()
        // Direct only: callable from roomkey's own SQL and TEMP triggers, never from a view, trigger, index or default
        // stored in the file, which could otherwise make it hash chosen values under the digest key.
        // On failure SQLite calls the destructor itself, which releases `state`.
        let code = sqlite3_create_function_v2(connection, Keyring.rowHashFunction, -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, context,
                                              { ctx, argc, argv in RowHashFunction.call(ctx, argc, argv) }, nil, nil,
                                              { context in context.map { Unmanaged<IntegrityState>.fromOpaque($0).release() } })
        guard code == SQLITE_OK else { throw KeyringError.database("cannot register \(Keyring.rowHashFunction) (SQLite code \(code))") }
    }

    /// One call: argument 0 names the table, the others are the row's values in column order. A call without a table
    /// name returns NULL (the triggers always pass one).
    static func call(_ ctx: OpaquePointer?, _ argc: Int32, _ argv: UnsafeMutablePointer<OpaquePointer?>?) {
        guard let ctx else { return }
        guard let argv, argc >= 1, let user = sqlite3_user_data(ctx), sqlite3_value_type(argv[0]) == SQLITE_TEXT,
              let name = sqlite3_value_text(argv[0]) else {
            sqlite3_result_null(ctx)
            return
        }
        let state = Unmanaged<IntegrityState>.fromOpaque(user).takeUnretainedValue()
        if hashWithoutCopies(ctx, argc, argv, name: name, state: state) { return }
        let values: [RowDigest.RawValue] = (1..<Int(argc)).map { i in
            let value = argv[i]
            switch sqlite3_value_type(value) {
            case SQLITE_INTEGER: return .value(.integer(sqlite3_value_int64(value)))
            case SQLITE_FLOAT: return .value(.real(sqlite3_value_double(value)))
            case SQLITE_TEXT: return .value(.text(sqlite3_value_text(value).map { Array(String(cString: $0).utf8) } ?? []))
            case SQLITE_BLOB:
                // The pointer first, then the length (SQLite's documented order); valid until this call returns.
                let bytes = sqlite3_value_blob(value)
                return .blob(UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_value_bytes(value))))
            default: return .value(.null)
            }
        }
        let hash = RowDigest.rowHash(table: String(cString: name), raw: values, key: state.key)
        hash.withUnsafeBytes { sqlite3_result_blob(ctx, $0.baseAddress, Int32($0.count), Self.transient) }
    }

    /// The same hash for a row without TEXT values under an ASCII table name (every row roomkey writes but a few),
    /// read where SQLite holds it and written to the stack: no array, string or hash state is allocated per row, which
    /// a table of 50,000 rows checked or written pays 50,000 times. False (nothing done) for any other row.
    private static func hashWithoutCopies(_ ctx: OpaquePointer, _ argc: Int32, _ argv: UnsafeMutablePointer<OpaquePointer?>,
                                          name: UnsafePointer<UInt8>, state: IntegrityState) -> Bool {
        for i in 1..<Int(argc) where sqlite3_value_type(argv[i]) == SQLITE_TEXT { return false }
        let table = UnsafeRawBufferPointer(start: name, count: strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self)))
        let count = Int(argc) - 1
        return withUnsafeTemporaryAllocation(of: RowDigest.RawValue.self, capacity: count) { values in
            for i in 0..<count {
                let value = argv[i + 1]
                switch sqlite3_value_type(value) {
                case SQLITE_INTEGER: values.initializeElement(at: i, to: .value(.integer(sqlite3_value_int64(value))))
                case SQLITE_FLOAT: values.initializeElement(at: i, to: .value(.real(sqlite3_value_double(value))))
                case SQLITE_BLOB:
                    let bytes = sqlite3_value_blob(value)
                    values.initializeElement(at: i, to: .blob(UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_value_bytes(value)))))
                default: values.initializeElement(at: i, to: .value(.null))
                }
            }
            defer { _ = values.deinitialize() }
            return withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { out in
                guard RowDigest.rowHash(tableName: table, raw: UnsafeBufferPointer(values), key: state.key, into: out) else { return false }
                sqlite3_result_blob(ctx, out.baseAddress, 32, Self.transient)
                return true
            }
        }
    }
}
