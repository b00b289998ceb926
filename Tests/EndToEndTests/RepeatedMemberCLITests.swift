import Foundation
import Testing

/// A contact named twice when a room is made (a repeated `--member`, its name and its id, a members file with a repeated
/// line, an `apply` line) is one member, as `room add` takes it (a review: `room create` refused it as "already a member"
/// with exit 2, the code of a failed integrity check, and `apply` with exit 65).
@Suite struct RepeatedMemberCLITests {
    @Test func aContactNamedTwiceInANewRoomIsOneMember() throws {
        let w = try RoomWorld()
        let bob = try w.keyring("bob").identityCard().id.hex
        let direct = try w.rk("alice", ["room", "create", "one", "--member", "bob", "--member", "bob", "--member", bob, "--member", "carol"])
        #expect(direct.code == 0, "\(direct)")
        let file = w.s.path("members.txt")
        try Data("bob\ncarol\nbob\n".utf8).write(to: URL(fileURLWithPath: file))
        let fromFile = try w.rk("alice", ["room", "create", "two", "--members-file", file])
        #expect(fromFile.code == 0, "\(fromFile)")
        let script = w.s.path("script.txt")
        try Data("create three bob carol bob\n".utf8).write(to: URL(fileURLWithPath: script))
        let applied = try w.rk("alice", ["apply", script])
        #expect(applied.code == 0, "\(applied)")
        for room in ["one", "two", "three"] {
            let members = try #require(try w.show("alice", room: room)["members"] as? [[String: Any]])
            #expect(members.compactMap { $0["handle"] as? String }.sorted() == ["alice", "bob", "carol"], "\(room): \(members)")
        }
    }
}
