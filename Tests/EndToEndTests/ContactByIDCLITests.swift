import Foundation
import Testing

/// A contact can be named by its identity id wherever a contact name is taken (CLI.md: "commands take an id wherever
/// they take a name"): before, only `room members` took one, and `room add`, `apply add`, `contact show`, `verify`,
/// `offboard` said "no contact named ID" (a hostile review).
@Suite struct ContactByIDCLITests {
    @Test func commandsTakeAContactsID() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        let carol = try #require(try w.rk("alice", ["contact", "show", "carol", "--json"]).json()["id"] as? String)
        let dave = try #require(try w.rk("alice", ["contact", "show", "dave", "--json"]).json()["id"] as? String)
        let shown = try w.rk("alice", ["contact", "show", carol.uppercased(), "--json"])
        let shownName = try shown.json()["name"] as? String
        #expect(shown.code == 0 && shownName == "carol", "\(shown)")
        let added = try w.rk("alice", ["room", "add", "team", carol])
        #expect(added.code == 0, "\(added)")
        let applied = try w.rk("alice", ["apply", "-"], stdin: Data("add team \(dave)\n".utf8))
        #expect(applied.code == 0, "\(applied)")
        let verify = try w.rk("alice", ["verify", dave])
        #expect(verify.code == 0 && verify.stdout.contains("safety number with dave:"), "\(verify)")
        let members = (try w.show("alice")["members"] as? [[String: Any]])?.compactMap { $0["handle"] as? String }.sorted()
        #expect(members == ["alice", "bob", "carol", "dave"])
        #expect(try w.rk("alice", ["offboard", carol]).code == 0)
        // An id that is no contact's is still "no contact named".
        let unknown = try w.rk("alice", ["contact", "show", String(repeating: "ab", count: 16)])
        #expect(unknown.code == 4 && unknown.stderr.contains("no contact named"), "\(unknown)")
    }

    /// A member named twice (by name and by id, or by one name twice) is one operation, and the confirmation counts
    /// operations, not the words given (it said "added 2").
    @Test func aMemberNamedTwiceIsCountedOnce() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        let carol = try #require(try w.rk("alice", ["contact", "show", "carol", "--json"]).json()["id"] as? String)
        let added = try w.rk("alice", ["room", "add", "team", "carol", carol, "carol"])
        #expect(added.code == 0 && added.stdout.hasPrefix("added 1 to room team"), "\(added)")
        let removed = try w.rk("alice", ["room", "remove", "team", "carol", carol])
        #expect(removed.code == 0 && removed.stdout.hasPrefix("removed 1 from room team"), "\(removed)")
    }
}
