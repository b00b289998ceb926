import Foundation
import GRDB
import RoomKeyCore
import Synchronization

/// The shape of a keyring's schema. The row digest covers values in column order, not the tables that hold them: a
/// column renamed or swapped, or a table made again with other keys or constraints, keeps every digest. So a file's
/// schema must be exactly the one its migrations make, object for object, as an empty database shows it.
extension KeyringSchema {
    /// One object of a schema as `sqlite_master` lists it, its SQL with every run of whitespace made one space (the
    /// indentation of a migration's source is not part of the schema).
    struct SchemaObject: Equatable, Sendable {
        let type: String
        let name: String
        let table: String
        let sql: String?
    }

    /// Every object of `db`'s main schema, in order, SQLite's own indexes and GRDB's list of migrations included (the
    /// indexes SQLite makes for keys are part of the shape). Nothing is left out by name: roomkey never runs `ANALYZE`,
    /// and an object named like its statistics tables can be an index of any shape.
    static func objects(_ db: Database) throws -> [SchemaObject] {
        try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY type, name").map { row in
            let sql: String? = row[3]
            return SchemaObject(type: row[0] ?? "", name: row[1] ?? "", table: row[2] ?? "",
                                sql: sql.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") })
        }
    }

    /// The schema the first `count` migrations make in an empty database (made once per count in a process).
    static func expectedObjects(count: Int) throws -> [SchemaObject] {
        if let known = expected.withLock({ $0[count] }) { return known }
        let scratch = try DatabaseQueue()
        try scratch.write { db in
            try db.execute(sql: migrationListTable)
            for migration in migrations.prefix(count) { try migration.run(db) }
        }
        let made = try scratch.read(objects)
        try scratch.close()
        expected.withLock { $0[count] = made }
        return made
    }

    private static let expected = Mutex<[Int: [SchemaObject]]>([:])

    /// The digest of the schema every migration makes (`digest(of:)`), so that opening a current keyring needs no
    /// scratch database; `SchemaUpgradeStorageTests` checks it against the migrations. A new migration changes it.
    static let latestDigest = "4c2da8b0dec28451e6fe8205ca4ca8d03ceb765aa05b07d334d0480ff59ab73a"

    /// BLAKE2b-256 (hex) of `objects` in order, each field length-prefixed (a NULL `sql` marked apart from an empty one).
    static func digest(of objects: [SchemaObject]) -> String {
        var parts: [[UInt8]] = [Array("roomkey/schema/v1".utf8)]
        for object in objects {
            for field in [object.type, object.name, object.table, object.sql] as [String?] {
                let bytes = field.map { Array($0.utf8) } ?? []
                parts.append((field == nil ? [1] : [0]) + withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes)
            }
        }
        return Hex.encode(BLAKE2b.hash(parts))
    }

    /// Where `db`'s schema differs from the one its first `count` migrations make ("table seen_bundle", "index
    /// x"), or nil when it is exactly that.
    static func difference(_ db: Database, migrations count: Int) throws -> String? {
        let found = try objects(db)
        if count == migrations.count, digest(of: found) == latestDigest { return nil }
        let wanted = try expectedObjects(count: count)
        if found == wanted { return nil }
        let byName = Dictionary(found.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Tables first: a table made again differs in its own row and in the index SQLite made for its key.
        let tablesFirst = wanted.filter { $0.type == "table" } + wanted.filter { $0.type != "table" }
        for object in tablesFirst where byName[object.name] != object {
            return "\(object.type) \(object.name)"
        }
        let names = Set(wanted.map(\.name))
        if let extra = found.first(where: { !names.contains($0.name) }) {
            return describe(type: extra.type, name: extra.name)
        }
        return "the order of its objects"
    }

    /// The first trigger or view stored in the file, if any. Asked before any table is read: roomkey stores neither,
    /// and a view under a table's name runs when read.
    static func storedTriggerOrView(_ db: Database) throws -> (type: String, name: String)? {
        try Row.fetchOne(db, sql: "SELECT type, name FROM main.sqlite_master WHERE type IN ('trigger', 'view') LIMIT 1")
            .map { ($0["type"], $0["name"]) }
    }

    /// An object of the schema as a difference names it ("view peek"); a name roomkey would not make is not repeated.
    static func describe(type: String, name: String) -> String {
        "\(type) \(Keyring.isPlainName(name) ? name : "of another name")"
    }
}
