import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// `room forget`: the way back into a real room for a member who first took a made-up genesis under its room id (a
/// review: no command dropped a room, so that member was locked out of the real one for good), and the way to drop a
/// room. It deletes every row of the room, in every table, and nothing else.
@Suite struct RoomForgetCLITests {
    /// The room tables' rows that carry `tag`, by table (every table with a `room_tag` column).
    static func rows(_ w: RoomWorld, _ who: String, tag: [UInt8]) throws -> [String: Int] {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: w.s.keyring(who), configuration: config)
        return try db.read { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT m.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
                WHERE m.type = 'table' AND p.name = 'room_tag'
                """)
            #expect(tables.count >= 19, "\(tables)")
            var out: [String: Int] = [:]
            for t in tables {
                let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(t) WHERE room_tag = ?", arguments: [Data(tag)]) ?? 0
                if n > 0 { out[t] = n }
            }
            return out
        }
    }

    @Test func aMemberLuredIntoAReusedRoomIdForgetsItAndJoinsTheRealRoom() throws {
        let w = try RoomWorld()
        #expect(try w.rk("dave", ["room", "create", "other", "--member", "alice"]).code == 0)
        let (roomID, _, bundle) = try RoomIDReuseCLITests.lured(w)
        #expect(try w.rk("dave", ["receive", bundle]).code == 2)
        let tag = try w.keyring("dave").roomTag(roomID)
        #expect(!(try Self.rows(w, "dave", tag: tag)).isEmpty)

        // Without --force: refused, nothing changed.
        let before = try w.snapshot("dave")
        let refused = try w.rk("dave", ["room", "forget", "team"])
        #expect(refused.code == 6, "\(refused)")
        #expect(refused.stderr.hasPrefix("roomkey: error: forgetting room \"team\" (\(roomID.hex))"), "\(refused)")
        #expect(refused.stderr.contains("roomkey: hint: add --force"), "\(refused)")
        #expect(try w.snapshot("dave") == before)

        let forgot = try w.rk("dave", ["room", "forget", roomID.hex, "--force"])
        #expect(forgot.code == 0, "\(forgot)")
        #expect(forgot.stdout.hasPrefix("forgot room \"team\" (\(roomID.hex)) at epoch 0"), "\(forgot)")
        #expect(try Self.rows(w, "dave", tag: tag).isEmpty, "every row of the room is gone")
        #expect(try w.rk("dave", ["room", "show", "team"]).code == 4)
        // Only that room: dave's own room is untouched, and the audit log says what happened.
        #expect(try w.show("dave", room: "other")["epoch"] as? Int == 0)
        let audit = try w.rk("dave", ["audit", "--verify"])
        #expect(audit.code == 0, "\(audit)")
        #expect(try w.rk("dave", ["audit"]).stdout.contains("room-forget"))

        // The real room's bundle now applies, and dave reads alice's messages in it.
        let received = try w.rk("dave", ["receive", bundle, "--json"])
        #expect(received.code == 0, "\(received)")
        #expect((try received.json()["results"] as? [[String: Any]])?.first?["status"] as? String == "applied", "\(received)")
        #expect(try w.show("dave")["epoch"] as? Int == 1)
        let message = w.s.path("hello.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data("hello dave".utf8)).code == 0)
        let read = try w.rk("dave", ["decrypt", message])
        #expect(read.code == 0 && read.stdout == "hello dave", "\(read)")
    }
}
