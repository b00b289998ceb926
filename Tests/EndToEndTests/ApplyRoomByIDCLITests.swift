import Foundation
import Testing

/// `apply` lines that name one room two ways (its name, its id in either case) make one commit and one bundle for it
/// (a hostile review: grouped by the words written, they made two plans from the same state; the second saved that
/// state over the first's commit, leaving the room at epoch 0 with an epoch-1 commit stored and sent, and every later
/// change failing with a false integrity error).
@Suite struct ApplyRoomByIDCLITests {
    static func world() throws -> (RoomWorld, String) {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        let id = try #require(try w.show("alice")["room_id"] as? String)
        return (w, id)
    }

    @Test(arguments: [false, true])
    func aRoomNamedByNameAndByIDGetsOneCommit(upper: Bool) throws {
        let (w, id) = try Self.world()
        let written = upper ? id.uppercased() : id
        let r = try w.rk("alice", ["apply", "-", "--json"], stdin: Data("add team carol\nrotate \(written)\nremove \(written) bob\n".utf8))
        #expect(r.code == 0, "\(r)")
        let rooms = try #require(try r.json()["rooms"] as? [[String: Any]], "\(r.stdout)")
        #expect(rooms.count == 1 && rooms.first?["name"] as? String == "team" && rooms.first?["epoch"] as? Int == 1, "\(rooms)")
        let show = try w.show("alice")
        #expect(show["epoch"] as? Int == 1, "\(show)")
        let members = (show["members"] as? [[String: Any]])?.compactMap { $0["handle"] as? String }.sorted()
        #expect(members == ["alice", "carol"], "\(show)")
        // The room goes on: the next change commits epoch 2, and carol follows it.
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        try w.exchange(["carol", "dave"])
        #expect(try w.show("carol")["epoch"] as? Int == 2)
    }

    @Test func aDryRunPlansOneCommitToo() throws {
        let (w, id) = try Self.world()
        let r = try w.rk("alice", ["apply", "--dry-run", "-", "--json"], stdin: Data("add team carol\nremove \(id) bob\n".utf8))
        #expect(r.code == 0, "\(r)")
        let rooms = try #require(try r.json()["rooms"] as? [[String: Any]], "\(r.stdout)")
        #expect(rooms.count == 1 && (rooms.first?["operations"] as? [String]) == ["add", "remove"], "\(rooms)")
    }
}
