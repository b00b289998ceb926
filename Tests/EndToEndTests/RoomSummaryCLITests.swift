import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// `room list` reads one stored summary per room; after every kind of change that moves it (commits, contacts added,
/// verified, changed, accepted, removed) the stored summary equals one counted from scratch, and the listing says so.
@Suite struct RoomSummaryCLITests {
    /// Every stored summary of `who` equals a count from the room's roster and contacts now.
    static func expectFresh(_ w: RoomWorld, _ who: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let keyring = try w.keyring(who)
        let listings = try keyring.roomListings()
        #expect(!listings.isEmpty, sourceLocation: sourceLocation)
        for listing in listings {
            let fresh = try keyring.read { db in
                let room = try #require(try keyring.loadRoom(db, listing.id))
                return try keyring.summary(db, roster: room.state.roster, me: try keyring.identityCard(db))
            }
            #expect(listing.summary == fresh, "\(listing.name)", sourceLocation: sourceLocation)
            #expect(try keyring.read { db in try keyring.storedSummary(db, listing.id) } != nil, sourceLocation: sourceLocation)
        }
    }

    static func list(_ w: RoomWorld, _ who: String) throws -> [String: Any] {
        let rooms = try #require(try w.rk(who, ["room", "list", "--json"]).json()["rooms"] as? [[String: Any]])
        return try #require(rooms.first { $0["name"] as? String == "team" })
    }

    @Test func summariesFollowCommitsAndContactChanges() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        try Self.expectFresh(w, "alice")
        try Self.expectFresh(w, "bob")
        #expect(try Self.list(w, "alice")["unverified"] as? Int == 2)
        // bob counts alice (a contact he has not verified) and carol (not one of his contacts).
        #expect(try Self.list(w, "bob")["unverified"] as? Int == 2)

        let digits = try #require(try w.rk("bob", ["verify", "alice", "--json"]).json()["safety_number"] as? String)
        #expect(try w.rk("alice", ["verify", "bob", "--confirm", digits]).code == 0)
        try Self.expectFresh(w, "alice")
        #expect(try Self.list(w, "alice")["unverified"] as? Int == 1)

        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        try Self.expectFresh(w, "alice")
        #expect(try Self.list(w, "alice")["members"] as? Int == 4)

        // carol makes a new identity: her old key in the room is now key-changed, until accepted.
        try FileManager.default.removeItem(atPath: w.s.path("carol"))
        let newCard = try w.s.person("carol")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(newCard.utf8)).code == 0)
        try Self.expectFresh(w, "alice")
        #expect(try Self.list(w, "alice")["key_changed"] as? Int == 1)
        #expect(try w.rk("alice", ["contact", "accept", "carol"]).code == 0)
        try Self.expectFresh(w, "alice")
        #expect(try Self.list(w, "alice")["key_changed"] as? Int == 0)
        #expect(try w.rk("alice", ["room", "replace", "team", "carol"]).code == 0)
        try Self.expectFresh(w, "alice")

        // Removing a contact makes its member not a contact; removing a member takes it out of the counts.
        #expect(try w.rk("alice", ["contact", "remove", "dave"]).code == 0)
        try Self.expectFresh(w, "alice")
        #expect(try w.rk("alice", ["room", "remove", "team", "bob"]).code == 0)
        try Self.expectFresh(w, "alice")
        let after = try Self.list(w, "alice")
        #expect(after["members"] as? Int == 3 && after["unverified"] as? Int == 2 && after["key_changed"] as? Int == 0)
        #expect(after["admin"] as? Bool == true)
    }

    @Test func summariesAreBuiltForAKeyringFromBeforeThem() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let expected = try Self.list(w, "alice")
        let keyring = try w.keyring("alice")
        try keyring.db.write { db in
            try db.execute(sql: "DELETE FROM room_summary")
            try db.execute(sql: "INSERT INTO scale_backfill (room_tag) SELECT room_tag FROM room")
        }
        // Not built yet: counted from the roster for this listing; the next open builds it.
        #expect(try keyring.roomListings().first?.summary.members == 2)
        let listed = try Self.list(w, "alice")
        #expect(NSDictionary(dictionary: listed) == NSDictionary(dictionary: expected))
        try Self.expectFresh(w, "alice")
    }
}
