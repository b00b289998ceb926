import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// `EpochMembers`: the ids and signing keys of a roster, stored and parsed strictly.
struct EpochMembersTests {
    static func card(_ handle: String) throws -> IdentityCard {
        try IdentityCard(handle: handle, signer: SigningKeyPair.generate(), sealingKey: SealingKeyPair.generate().publicKey, created: 1)
    }

    static func roster(_ handles: [String]) throws -> Roster {
        let cards = try handles.map(card)
        let ops = [Operation.create(name: "team", creator: cards[0])] + cards.dropFirst().map { Operation.add($0) }
        return try RoomState.apply(ops, to: Roster(), author: cards[0].id, genesis: true)
    }

    @Test func answersWhatTheRosterAnswers() throws {
        let roster = try Self.roster(["alice", "bob", "carol", "dave"])
        let members = EpochMembers(roster: roster)
        #expect(members.count == 4)
        #expect(members.ids == roster.sortedIDs)
        for member in roster.sorted {
            #expect(members.contains(member.id))
            #expect(members.signingKey(of: member.id) == member.card.signingKey)
        }
        let stranger = try Self.card("eve").id
        #expect(!members.contains(stranger))
        #expect(members.signingKey(of: stranger) == nil)
        #expect(try EpochMembers.parse(members.encoded) == members)
        #expect(try EpochMembers.parse(EpochMembers(roster: Roster()).encoded).count == 0)
    }

    @Test func parsingRejectsMalformedForms() throws {
        let good = EpochMembers(roster: try Self.roster(["alice", "bob", "carol"])).encoded
        let entry = 16 + 32
        var swapped = good
        swapped.replaceSubrange(5..<(5 + 2 * entry), with: Array(good[(5 + entry)..<(5 + 2 * entry)] + good[5..<(5 + entry)]))
        var duplicated = good
        duplicated.replaceSubrange((5 + entry)..<(5 + 2 * entry), with: Array(good[5..<(5 + entry)]))
        var hugeCount = good
        hugeCount.replaceSubrange(1..<5, with: [0xFF, 0xFF, 0xFF, 0xFF])
        var oneMore = good
        oneMore.replaceSubrange(1..<5, with: [0, 0, 0, 4])
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("unknown version", [2] + good.dropFirst()),
            ("count beyond the limit", hugeCount),
            ("count beyond the bytes", oneMore),
            ("truncated entry", Array(good.dropLast())),
            ("trailing byte", good + [0]),
            ("ids out of order", swapped),
            ("id repeated", duplicated),
        ]
        for (name, bytes) in cases {
            #expect(throws: WireError.self, "\(name)") { try EpochMembers.parse(bytes) }
        }
    }
}
