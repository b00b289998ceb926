import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// A roster keeps its storage form once computed, shared by its copies, and can let go of it.
struct RosterEncodingTests {
    @Test func aForgottenEncodingComesBackTheSame() throws {
        let roster = try EpochMembersTests.roster(["alice", "bob", "carol"])
        let copy = roster
        let (encoded, hash) = (roster.encoded, roster.hash)
        roster.forgetEncoding()
        // Recomputed from the members, for this value and for the copy that shared the kept form.
        #expect(roster.encoded == encoded && roster.hash == hash)
        #expect(copy.encoded == encoded && copy.hash == hash)
        #expect(try Roster.parse(encoded) == roster)
        copy.forgetEncoding()
        #expect(copy.hash == hash)
    }
}
