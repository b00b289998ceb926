import Foundation
import GRDB
import Testing

/// An older sealed copy of a `room` or `contact` row, put back by someone who can write the keyring file, opens as well
/// as the current one; only the table's digest tells them apart. Every command that reads those tables checks it first
/// (a hostile review: a room row from before a removal, put back, made `encrypt` seal under the old epoch's key, and
/// the removed member read the message).
@Suite struct KeyringRowRollbackCLITests {
    /// Runs `sql` with `arguments` on `who`'s keyring file directly, as an attacker with write access would.
    static func tamper(_ w: RoomWorld, _ who: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let db = try DatabaseQueue(path: w.s.keyring(who))
        try db.write { db in try db.execute(sql: sql, arguments: arguments) }
        try db.close()
    }

    static func rows(_ w: RoomWorld, _ who: String, _ table: String) throws -> [Row] {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: w.s.keyring(who), configuration: config)
        defer { try? db.close() }
        return try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") }
    }

    @Test func anOlderCopyOfARoomRowIsRefused() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "dave", "-q"]).code == 0)
        let before = try #require(try Self.rows(w, "alice", "room").first)
        let (tag, sealed): (Data, Data) = (before["room_tag"], before["sealed"])
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try Self.tamper(w, "alice", "UPDATE room SET sealed = ? WHERE room_tag = ?", [sealed, tag])
        for command in [["encrypt", "team"], ["room", "show", "team"], ["room", "rotate", "team"], ["room", "list"]] {
            let r = try w.rk("alice", command, stdin: Data("after the removal\n".utf8))
            #expect(r.code == 2 && r.stdout.isEmpty, "\(command): \(r)")
            #expect(r.stderr.contains("keyring was edited: rows of room were added, deleted or changed outside roomkey"), "\(command): \(r)")
        }
    }

    @Test func aDeletedOrOlderContactRowIsRefused() throws {
        let w = try RoomWorld()
        let row = try #require(try Self.rows(w, "alice", "contact").first)
        let nameTag: Data = row["name_tag"]
        try Self.tamper(w, "alice", "DELETE FROM contact WHERE name_tag = ?", [nameTag])
        for command in [["contact", "list"], ["room", "create", "team", "--member", "bob"], ["contact", "show", "carol"]] {
            let r = try w.rk("alice", command)
            #expect(r.code == 2 && r.stderr.contains("rows of contact were added, deleted or changed"), "\(command): \(r)")
        }
        // Put back, the rows are whole again.
        let columns = Array(row.columnNames)
        try Self.tamper(w, "alice", "INSERT INTO contact (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                        StatementArguments(columns.map { row[$0] as DatabaseValue }))
        #expect(try w.rk("alice", ["contact", "list"]).code == 0)
    }

    /// Pages SQLite itself finds damaged are an integrity failure (exit 2), as a damaged backup is to `restore`: before,
    /// "keyring database error" (exit 1).
    @Test func aDamagedFileExits2() throws {
        let s = try Sandbox()
        try s.person("alice")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: s.keyring("alice")))
        let size = try handle.seekToEnd()
        for page in stride(from: UInt64(4096), to: size, by: 4096) {
            try handle.seek(toOffset: page)
            try handle.write(contentsOf: Data(repeating: 0xFF, count: 8))
        }
        try handle.close()
        let r = try s.roomkey("alice", ["room", "list"])
        #expect(r.code == 2 && r.stderr.contains("SQLite finds the file damaged"), "\(r)")
    }
}
