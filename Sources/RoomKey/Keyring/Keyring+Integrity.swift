import Foundation
import GRDB
import RoomKeyCore

/// Why the keyring's rows no longer match their sealed digest.
public enum IntegrityError: Error, Equatable, Sendable {
    /// Rows were added, deleted or changed by something other than roomkey (`what` says where).
    case edited(String)
}

extension IntegrityError: RoomKeyError {
    /// An edited keyring failed an integrity check (exit 2).
    public var category: ErrorCategory { .rejected }
    /// "keyring was edited: …".
    public var message: String {
        switch self {
        case let .edited(what): "keyring was edited: \(what)"
        }
    }
    /// Where to go from here.
    public var hint: String? { "restore a backup you trust ('roomkey restore'), or run 'roomkey audit --verify' to see what else changed" }
}

/// The key of the row digest and what this connection knows about it.
final class IntegrityState: @unchecked Sendable {
    /// Keys `RowDigest.rowHash`.
    let key: SymmetricKey
    /// True once this connection has the row-hash function, the delta table and the triggers.
    var triggersReady = false
    /// True once this connection has the row-hash function (which checks use before any trigger exists).
    var functionReady = false
    /// May the next write (re)compute every digest from the rows: a new keyring, or one that migrations just changed.
    var recomputeOnWrite = false
    /// Tables checked against the digest, and their indexes against their rows, with `PRAGMA data_version` as it was
    /// then: valid until another connection writes.
    var verified: [String: Int64] = [:]
    /// Tables whose rows (but not yet their indexes) were checked against the digest, with `PRAGMA data_version` then.
    var rowsVerified: [String: Int64] = [:]
    /// `PRAGMA schema_version` when the file's schema was last found to be the one its migrations make.
    var checkedSchemaVersion: Int64?

    init(key: consuming SymmetricKey) { self.key = key }

    /// A SQLite value as the row digest reads it.
    static func value(_ value: DatabaseValue) -> RowDigest.Value {
        switch value.storage {
        case .null: .null
        case let .int64(v): .integer(v)
        case let .double(v): .real(v)
        case let .string(s): .text(Array(s.utf8))
        case let .blob(d): .blob(Array(d))
        }
    }
}

/// The running digest: every row of every table (but `write_counter`, which holds the digests, and GRDB's migration
/// list) is accounted in a per-table `RowDigest` kept, sealed, in the write counter row. TEMP triggers, which live in
/// this connection only and never in the file, record each row change of a write transaction in `temp.rk_digest_delta`;
/// the transaction folds them into the sealed digests as it counts itself, so both land together or not at all. An
/// edit made outside roomkey moves a table away from its digest: decisions that rest on a table check it first, and
/// `audit --verify` checks them all.
extension Keyring {
    /// Tables outside the digest: the one that holds it, and GRDB's list of migrations (checked by count instead).
    static let digestExempt: Set<String> = ["write_counter", "grdb_migrations"]
    /// The SQL function the triggers call: `roomkey_row_hash(table, value...)` is the row's `RowDigest.rowHash`.
    static let rowHashFunction = "roomkey_row_hash"

    /// The tables the digest covers, as the file holds them now.
    static func digestedTables(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
            .filter { !digestExempt.contains($0) }
    }

    /// The digested tables with their columns in column order, read in one query (one per table cost a statement each).
    static func digestedColumns(_ db: Database) throws -> [(table: String, columns: [String])] {
        var out: [(table: String, columns: [String])] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.name, p.name FROM main.sqlite_master AS m JOIN pragma_table_info(m.name, 'main') AS p
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name, p.cid
            """)
        while let row = try rows.next() {
            let table: String = row[0]
            if digestExempt.contains(table) { continue }
            let column: String = row[1]
            if out.last?.table == table { out[out.count - 1].columns.append(column) } else { out.append((table, [column])) }
        }
        return out
    }

    /// Creates, on this connection, the row-hash function, the delta table and one trigger per table and change.
    /// Every statement goes to SQLite in one batch inside one transaction: each `CREATE TRIGGER` changes the connection's
    /// temporary schema, and one by one through GRDB they cost a third of a short command's keyring work.
    func installDigestTriggers() throws {
        if integrity.triggersReady { return }
        try db.inDatabase { db in
            try Self.refuseStoredTriggersAndViews(db)
            try installRowHashFunction(db)
            var sql = "CREATE TEMP TABLE IF NOT EXISTS rk_digest_delta (tbl TEXT NOT NULL, sign INTEGER NOT NULL, hash BLOB NOT NULL);"
            for (table, columns) in try Self.digestedColumns(db) {
                // Only names roomkey itself makes; an added table with another name has no digest, so its rows show up.
                guard Self.isPlainName(table), columns.allSatisfy(Self.isPlainName) else { continue }
                func record(_ sign: Int, _ which: String) -> String {
                    "INSERT INTO rk_digest_delta (tbl, sign, hash) VALUES ('\(table)', \(sign), \(Self.rowHashCall(table, columns, of: which)));"
                }
                sql += """
                    CREATE TEMP TRIGGER IF NOT EXISTS rk_digest_insert_\(table) AFTER INSERT ON main.\(table) BEGIN \(record(1, "NEW")) END;
                    CREATE TEMP TRIGGER IF NOT EXISTS rk_digest_delete_\(table) AFTER DELETE ON main.\(table) BEGIN \(record(-1, "OLD")) END;
                    CREATE TEMP TRIGGER IF NOT EXISTS rk_digest_update_\(table) AFTER UPDATE ON main.\(table) BEGIN
                        \(record(-1, "OLD")) \(record(1, "NEW")) END;
                    """
            }
            try RawBatch.run(db, sql)
        }
        integrity.triggersReady = true
    }

    /// The row-hash call over `columns` of `table` (plain names), each read as `row."column"` in a trigger (`row` is
    /// NEW or OLD) or as `"column"` in a query: the triggers and the check hash the same values in the same order.
    /// Column names are quoted: a plain name can still be a keyword (`null`, `current_time`) read as a value.
    static func rowHashCall(_ table: String, _ columns: [String], of row: String? = nil) -> String {
        let prefix = row.map { $0 + "." } ?? ""
        let values = columns.map { column in prefix + "\"\(column)\"" }
        return "\(rowHashFunction)(" + (["'\(table)'"] + values).joined(separator: ", ") + ")"
    }

    /// True for the names roomkey gives tables and columns (lowercase ASCII letters, digits, underscores), which are
    /// safe to write into trigger SQL as they are.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f }
    }

    /// The digest of every row `table` holds now, computed from the rows. A table of roomkey's own names is hashed by
    /// SQLite calling the row-hash function, as the triggers do: each value is hashed where SQLite holds it, with no
    /// row object and no copy per row. Any other table (one added outside roomkey) is read row by row. With `hashedAs`,
    /// the rows are hashed as rows of that table (rows a migration moved, checked against their old table's digest).
    func computedDigest(_ db: Database, _ table: String, hashedAs: String? = nil) throws -> RowDigest {
        var digest = RowDigest.empty
        // A view or anything else under a table's name is not the table roomkey made: its rows are not to be believed.
        let kind = try String.fetchOne(db.cachedStatement(sql: "SELECT type FROM main.sqlite_master WHERE name = ?"), arguments: [table])
        if let kind, kind != "table" { throw IntegrityError.edited("\(Self.isPlainName(table) ? table : "a table") is not a table") }
        if Self.isPlainName(table) {
            // Generated or hidden columns (which roomkey never makes) are left to the row-by-row reading, which sees them.
            let columns = try Row.fetchAll(db.cachedStatement(sql: "SELECT name, hidden FROM pragma_table_xinfo(?, 'main') ORDER BY cid"),
                                           arguments: [table])
            let names = columns.map { $0[0] as String? ?? "" }
            let name = hashedAs ?? table
            if !columns.isEmpty, columns.allSatisfy({ ($0[1] as Int? ?? 1) == 0 }), names.allSatisfy(Self.isPlainName), Self.isPlainName(name) {
                try installRowHashFunction(db)
                let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.rowHashCall(name, names)) FROM main.\(table)")
                while let row = try rows.next() {
                    try row.withUnsafeData(atIndex: 0) { data in
                        guard let data, data.count == 32 else { throw KeyringError.integrityFailure(table: table) }
                        data.withUnsafeBytes { digest.add(raw: $0) }
                    }
                }
                return digest
            }
        }
        return try rowByRowDigest(db, table, hashedAs: hashedAs)
    }

    /// The digest of `table` read row by row through GRDB: for a table whose name or columns roomkey would not make.
    func rowByRowDigest(_ db: Database, _ table: String, hashedAs: String? = nil) throws -> RowDigest {
        var digest = RowDigest.empty
        let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM main.\(quoted)")
        while let row = try rows.next() {
            digest.add(RowDigest.rowHash(table: hashedAs ?? table, values: row.databaseValues.map(IntegrityState.value), key: integrity.key))
        }
        return digest
    }

    /// Refuses a file that holds a trigger or a view of its own: roomkey stores none (its triggers are TEMP, of each
    /// connection), and a stored trigger could drop or change roomkey's writes before its TEMP triggers see them.
    static func refuseStoredTriggersAndViews(_ db: Database) throws {
        if let stored = try KeyringSchema.storedTriggerOrView(db) {
            throw IntegrityError.edited("a \(stored.type) was stored in the file outside roomkey")
        }
    }

    /// Registers the row-hash function on this connection, once.
    func installRowHashFunction(_ db: Database) throws {
        if integrity.functionReady { return }
        try RowHashFunction.install(db, state: integrity)
        integrity.functionReady = true
    }

    /// The row changes this transaction made so far, per table (empty without triggers).
    func pendingDigestDelta(_ db: Database, table: String? = nil) throws -> [String: (added: RowDigest, removed: RowDigest)] {
        guard integrity.triggersReady else { return [:] }
        var out: [String: (added: RowDigest, removed: RowDigest)] = [:]
        // A cursor over the rows where they lie: a large transaction (a room of 50,000 members) records one row per
        // change, and copying each into a row object of its own cost more than adding them up.
        let rows = if let table {
            try Row.fetchCursor(db.cachedStatement(sql: "SELECT tbl, sign, hash FROM temp.rk_digest_delta WHERE tbl = ?"), arguments: [table])
        } else {
            try Row.fetchCursor(db.cachedStatement(sql: "SELECT tbl, sign, hash FROM temp.rk_digest_delta"))
        }
        // Rows of one table come in runs (a statement's changes are recorded together): sum a run, then file it.
        var name: String?
        var run: (added: RowDigest, removed: RowDigest) = (.empty, .empty)
        while let row = try rows.next() {
            let tbl: String = row[0]
            if tbl != name {
                if let name { out[name] = run }
                name = tbl
                run = out[tbl] ?? (.empty, .empty)
            }
            let added = row[1] as Int64? == 1
            try row.withUnsafeData(atIndex: 2) { data in
                (data ?? Data()).withUnsafeBytes { if added { run.added.add(raw: $0) } else { run.removed.add(raw: $0) } }
            }
        }
        if let name { out[name] = run }
        return out
    }

    /// The sealed digests with this transaction's changes folded in, or, when the keyring is new or was just migrated,
    /// computed from every row. Clears the recorded changes; called once per write transaction, from `bumpWriteCount`.
    func foldedDigests(_ db: Database, sealed: [String: String]?) throws -> [String: String] {
        var digests: [String: RowDigest] = [:]
        if integrity.recomputeOnWrite {
            for table in try Self.digestedTables(db) { digests[table] = try computedDigest(db, table) }
        } else {
            guard let sealed else { throw IntegrityError.edited("its integrity digest is missing") }
            digests = try Self.decode(sealed)
            for (table, change) in try pendingDigestDelta(db) {
                var d = digests[table] ?? .empty
                d.add(change.added)
                d.subtract(change.removed)
                digests[table] = d
            }
        }
        if integrity.triggersReady { try db.execute(sql: "DELETE FROM temp.rk_digest_delta") }
        return digests.filter { $0.value != .empty }.mapValues { Hex.encode($0.bytes) }
    }

    /// Marks a successful commit: a recomputation is done.
    func digestCommitted() { integrity.recomputeOnWrite = false }

    /// The digests of a sealed record; one that is not 32 bytes of hex is damage.
    static func decode(_ sealed: [String: String]) throws -> [String: RowDigest] {
        try sealed.mapValues { hex in
            guard let bytes = try? Hex.decode(hex, what: "digest"), let d = RowDigest(bytes: bytes) else {
                throw KeyringError.integrityFailure(table: "write_counter")
            }
            return d
        }
    }

    /// Refuses ("keyring was edited: …") when the rows of `tables` do not match their sealed digests, counting this
    /// transaction's own changes. A table checked once is not read again until another connection writes the file.
    /// With `indexes` false only the rows are checked, for a pass over the table itself that no index answers; its
    /// indexes are then checked by the first call that asks for them.
    func requireIntact(_ db: Database, _ tables: String..., indexes: Bool = true) throws {
        assert(tables.allSatisfy(KeyringTables.checked.contains), "a table checked before use is listed in KeyringTables")
        try requireSchemaUnchanged(db)
        let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
        let due = tables.filter { integrity.verified[$0] != version && (indexes || integrity.rowsVerified[$0] != version) }
        if due.isEmpty { return }
        guard let sealed = try writeCounter(db)?.digests else {
            if integrity.recomputeOnWrite { return }
            throw IntegrityError.edited("its integrity digest is missing")
        }
        let digests = try Self.decode(sealed)
        for table in due {
            if integrity.rowsVerified[table] != version {
                var expected = digests[table] ?? .empty
                if let change = try pendingDigestDelta(db, table: table)[table] {
                    expected.add(change.added)
                    expected.subtract(change.removed)
                }
                guard try computedDigest(db, table) == expected else {
                    throw IntegrityError.edited("rows of \(table) were added, deleted or changed outside roomkey")
                }
                integrity.rowsVerified[table] = version
            }
            guard indexes else { continue }
            // The digest reads the table; decisions look rows up through its indexes, which must hold the same rows.
            try Self.requireIndexesMatch(db, table)
            integrity.verified[table] = version
        }
    }

    /// Refuses when SQLite finds `table`'s indexes (or its pages) out of step with its rows: an index swapped or
    /// rebuilt by hand answers lookups with other rows than the ones the digest counted.
    static func requireIndexesMatch(_ db: Database, _ table: String) throws {
        guard isPlainName(table) else { throw IntegrityError.edited("a table of another name") }
        let problems = try String.fetchAll(db, sql: "PRAGMA main.integrity_check(\(table))")
        guard problems == ["ok"] else { throw IntegrityError.edited("the indexes of \(table) do not match its rows") }
    }

    /// Refuses when the file's schema changed since it was last found to be the one its migrations make (another
    /// program added a trigger or an index while this keyring was open), unless it is that schema still.
    func requireSchemaUnchanged(_ db: Database) throws {
        let version = try Int64.fetchOne(db, sql: "PRAGMA main.schema_version") ?? 0
        guard integrity.checkedSchemaVersion != version else { return }
        let applied = try KeyringSchema.migrator.appliedIdentifiers(db).count
        if let difference = try KeyringSchema.difference(db, migrations: applied) {
            throw IntegrityError.edited("its schema was changed outside roomkey (\(difference))")
        }
        integrity.checkedSchemaVersion = version
    }

    /// Checks every table against its digest (`audit --verify`); returns how many tables were checked.
    @discardableResult
    public func verifyRows() throws -> Int {
        try read { db in try requireTablesIntact(db, except: []) }
    }
}
