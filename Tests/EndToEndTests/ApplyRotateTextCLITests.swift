import Foundation
import Testing

/// A `rotate` line alone makes a new sender key and no commit: the text says so (a review: it said "committed ROOM
/// epoch N: rotate", and the epoch did not move), and JSON names it by its verb, `rotate` (review r: `operations` was
/// empty, so a script could not tell a rotation from nothing).
@Suite struct ApplyRotateTextCLITests {
    @Test func aRotationIsNotCalledACommit() throws {
        let w = try RoomWorld.team(["bob"])
        let script = w.s.path("rotate.txt")
        try Data("rotate team\n".utf8).write(to: URL(fileURLWithPath: script))
        let epoch = try w.show("alice")["epoch"] as? Int
        let dry = try w.rk("alice", ["apply", script, "--dry-run"])
        #expect(dry.code == 0 && dry.stdout.hasPrefix("would rotate team at epoch \(epoch ?? -1)\n"), "\(dry)")
        let done = try w.rk("alice", ["apply", script])
        #expect(done.code == 0 && done.stdout.hasPrefix("rotated team at epoch \(epoch ?? -1)\n"), "\(done)")
        #expect(try w.show("alice")["epoch"] as? Int == epoch)
        let json = try w.rk("alice", ["apply", script, "--json"]).json()
        let rooms = try #require(json["rooms"] as? [[String: Any]])
        #expect(rooms.first?["operations"] as? [String] == ["rotate"], "\(json)")
        #expect((rooms.first?["changes"] as? [[String: Any]])?.map { $0["op"] as? String } == ["rotate"], "\(json)")
        #expect(rooms.first?["up_to_date"] as? Bool == false && rooms.first?["bundle"] is String, "\(json)")
    }
}
