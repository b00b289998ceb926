import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// A roster keeps its members' id order across the changes that keep it cheaply (read from storage, removals, inserts
/// in order) and sorts again after the others; either way its order, storage form and hash are those of the same members
/// put together from nothing.
struct RosterOrderTests {
    /// The same members, inserted in id order into an empty roster.
    static func rebuilt(_ roster: Roster) -> Roster {
        var fresh = Roster()
        for id in roster.members.keys.sorted() { if let m = roster[id] { fresh.insert(m) } }
        return fresh
    }

    static func expectCanonical(_ roster: Roster, _ comment: Comment) {
        let fresh = rebuilt(roster)
        #expect(roster.sortedIDs == roster.members.keys.sorted(), comment)
        #expect(roster.sorted.map(\.id) == roster.sortedIDs, comment)
        roster.forgetEncoding()
        #expect(roster.hash == fresh.hash, comment)
        roster.forgetEncoding()
        #expect(roster.encoded == fresh.encoded, comment)
    }

    @Test func orderHoldsThroughReadsRemovalsAndInserts() throws {
        let cards = try (0..<40).map { try makeTestCard(handle: "m\($0)") }
        // Out of id order: the order is sorted when asked for.
        var roster = Roster()
        for card in cards { roster.insert(Member(card: card, admin: card.id < cards[0].id)) }
        Self.expectCanonical(roster, "built in the order given")
        // Read from storage: in id order.
        var read = try Roster.parse(roster.encoded)
        Self.expectCanonical(read, "read back")
        // Removals: the first, the last, one in the middle, and one not there.
        let ids = read.sortedIDs
        for id in [ids[0], ids[ids.count - 1], ids[17]] { read.remove(id) }
        read.remove(ids[0])
        Self.expectCanonical(read, "after removals")
        // A copy changed apart from the original: each keeps its own order.
        var copy = read
        copy.remove(ids[5])
        Self.expectCanonical(read, "original of a changed copy")
        Self.expectCanonical(copy, "changed copy")
        #expect(read.count == copy.count + 1)
        // Inserting back a removed member: after the last (kept) or before it (sorted again when asked).
        copy.insert(Member(card: try #require(roster[ids[ids.count - 1]]).card, admin: false))
        Self.expectCanonical(copy, "insert after the last")
        copy.insert(Member(card: try #require(roster[ids[0]]).card, admin: true))
        Self.expectCanonical(copy, "insert before the first")
        copy.setAdmin(ids[3], true)
        copy.insert(Member(card: try #require(roster[ids[4]]).card, admin: true))  // replaces: no new id
        Self.expectCanonical(copy, "role changes")
        #expect(copy.adminCount == copy.members.values.filter(\.admin).count)
    }

    /// A stored row read with its ids trusted is the same roster as one read with every id derived again; only the
    /// untrusting read notices an id that does not match its card.
    @Test func aStoredRowReadsTheSameWithItsIdsTrusted() throws {
        let roster = try EpochMembersTests.roster(["alice", "bob", "carol", "dave"])
        let bytes = roster.encoded
        let trusted = try Roster.parse(bytes, trustingStoredIDs: true)
        #expect(trusted == roster && trusted.hash == roster.hash)
        #expect(trusted.sorted.map(\.card.id) == roster.sortedIDs)
        var wrong = bytes
        wrong[5] ^= 1  // the first member's stored id
        #expect(throws: WireError.self) { _ = try Roster.parse(wrong) }
    }
}
