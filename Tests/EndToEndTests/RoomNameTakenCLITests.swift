import Foundation
import Testing

/// A new room's name must be free of every room held, also when two rooms received from others already share it
/// (a hostile review found that the "name taken" check read such a name as free: a third room of that name was made).
@Suite struct RoomNameTakenCLITests {
    @Test func aNameTwoReceivedRoomsShareIsTaken() throws {
        let w = try RoomWorld()
        #expect(try w.rk("bob", ["room", "create", "proj", "--member", "alice"]).code == 0)
        #expect(try w.rk("carol", ["room", "create", "proj", "--member", "alice"]).code == 0)
        #expect(try w.rk("alice", ["receive"] + (try w.bundles())).code == 0)
        let listed = try w.rk("alice", ["room", "list", "--json"]).json()["rooms"] as? [[String: Any]]
        #expect(listed?.filter { $0["name"] as? String == "proj" }.count == 2)
        let snapshot = try w.snapshot("alice")
        let third = try w.rk("alice", ["room", "create", "proj", "--member", "bob"])
        #expect(third.code == 6 && third.stderr.contains("proj"), "\(third)")
        let script = try w.rk("alice", ["apply", "-"], stdin: Data("create proj bob\n".utf8))
        #expect(script.code != 0, "\(script)")
        #expect(try w.snapshot("alice") == snapshot)
    }
}
