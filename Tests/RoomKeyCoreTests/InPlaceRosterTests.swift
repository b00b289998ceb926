import RoomKeyTestSupport
import Testing
@testable import RoomKeyCore

/// What lets a script of thousands of lines for one room cost what each line changes: `RoomState.apply(_:onto:)`
/// (the same rules in place, the roster put back on a refusal, an undo), the admin count kept by `Roster`, and the
/// handle index kept by `HandleIndex`. Each is checked against the plain form it replaces.
struct InPlaceRosterTests {
    /// Twelve cards on four handles, so that handles collide; card 0 is the author.
    static let cards: [IdentityCard] = (0..<12).map { i in
        // Test fixtures: key generation does not fail here.
        try! makeTestCard(handle: ["ann", "bo", "cy", "di"][i % 4])
    }
    static let author = cards[0].id

    /// The roster with the author (admin) and `members` (index, admin).
    static func roster(_ members: [(Int, Bool)]) -> Roster {
        var r = Roster()
        r.insert(Member(card: cards[0], admin: true))
        for (i, admin) in members { r.insert(Member(card: cards[i], admin: admin)) }
        return r
    }

    /// roster, operations, the error expected (nil: applies).
    static let cases: [(String, [(Int, Bool)], [Operation], LogError?)] = [
        ("an add", [(1, false)], [.add(cards[2])], nil),
        ("an add, a promote and a demote", [(1, true)], [.add(cards[2]), .promote(cards[2].id), .demote(cards[1].id)], nil),
        ("an add of a member", [(1, false)], [.add(cards[3]), .add(cards[1])],
         .invalidOperation("\(cards[1].handle) (\(cards[1].id)) is already a member")),
        ("a removal of a non-member after changes", [(1, true)], [.demote(cards[1].id), .add(cards[4]), .remove(cards[5].id)],
         .invalidOperation("\(cards[5].id) is not a member")),
        ("the last admin demotes itself", [(1, false)], [.add(cards[2]), .demote(author)], .noAdminLeft),
        ("the last other admin removed, then the author leaves", [(1, true)], [.remove(cards[1].id), .leave],
         .invalidOperation("leave must be the only operation of its commit")),
        ("a promotion of an admin", [(1, true)], [.remove(cards[1].id), .promote(author)],
         .invalidOperation("\(cards[0].handle) is already an admin")),
        ("no operation", [(1, true)], [], .invalidOperation("a commit needs at least one operation")),
        ("a leave with another admin", [(1, true)], [.leave], nil),
        ("a leave as the last admin", [(1, false)], [.leave], .noAdminLeft),
    ]

    @Test(arguments: cases)
    func inPlaceAppliesAsTheCopyDoesAndPutsTheRosterBackOnARefusal(_ c: (String, [(Int, Bool)], [Operation], LogError?)) {
        let before = Self.roster(c.1)
        var roster = before
        let copied = Result { () throws(LogError) -> Roster in try RoomState.apply(c.2, to: before, author: Self.author, genesis: false) }
        do throws(LogError) {
            let undo = try RoomState.apply(c.2, onto: &roster, author: Self.author, genesis: false)
            #expect(c.3 == nil, "\(c.0)")
            #expect(roster == (try? copied.get()), "\(c.0)")
            undo.revert(&roster)
            #expect(roster == before, "\(c.0): the undo puts it back")
        } catch {
            #expect(error == c.3, "\(c.0)")
            #expect(copied == .failure(error), "\(c.0)")
            #expect(roster == before, "\(c.0): the roster is as it was")
        }
        #expect(roster.adminCount == roster.members.values.filter(\.admin).count, "\(c.0)")
    }

    /// The collisions as they were computed before the index: the roster less the removed members, sorted by id, and
    /// each handle's first holder.
    static func reference(_ roster: Roster, _ ops: [Operation]) -> [HandleCollision] {
        var base = roster
        for case let .remove(id) in ops { base.remove(id) }
        var ids = Set(base.members.keys)
        var owner: [String: (id: IdentityID, member: Bool)] = [:]
        for m in base.sorted where owner[m.card.handle] == nil { owner[m.card.handle] = (m.id, true) }
        var found: [HandleCollision] = []
        for card in ops.addedCards where ids.insert(card.id).inserted {
            if let o = owner[card.handle] {
                found.append(HandleCollision(handle: card.handle, added: card.id, existing: o.id, existingIsMember: o.member))
            } else {
                owner[card.handle] = (card.id, false)
            }
        }
        return found
    }

    /// Random changes of one to three operations, applied in place one after another; at each the kept index, a fresh
    /// index and the reference find the same collisions, and the admin count matches a count of the members.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func theKeptIndexAndCountFollowEveryChange(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var roster = Self.roster([(1, false), (5, true)])
        var handles = HandleIndex(roster)
        var applied = 0
        for _ in 0..<300 {
            let ops: [Operation] = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                let card = Self.cards[Int.random(in: 1..<Self.cards.count, using: &rng)]
                switch Int.random(in: 0..<4, using: &rng) {
                case 0, 1: return .add(card)
                case 2: return .remove(card.id)
                default: return Bool.random(using: &rng) ? .promote(card.id) : .demote(card.id)
                }
            }
            #expect(handles.collisions(of: ops) == Self.reference(roster, ops), "seed \(seed): \(ops.map(\.verb))")
            #expect(HandleIndex(roster).collisions(of: ops) == Self.reference(roster, ops))
            if (try? RoomState.apply(ops, onto: &roster, author: Self.author, genesis: false)) != nil {
                handles.record(ops, author: Self.author)
                applied += 1
            }
            #expect(roster.adminCount == roster.members.values.filter(\.admin).count, "seed \(seed)")
        }
        // Every card as an add, alone and all together, against what the roster now holds.
        let all = Self.cards.map { Operation.add($0) }
        #expect(handles.collisions(of: all) == Self.reference(roster, all))
        for op in all { #expect(handles.collisions(of: [op]) == Self.reference(roster, [op])) }
        #expect(applied > 30, "seed \(seed): enough changes applied to mean something")
    }
}
