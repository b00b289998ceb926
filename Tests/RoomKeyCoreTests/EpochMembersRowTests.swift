import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// `epoch_members` rows as changes: the plan that picks a whole row or a delta, a delta's storage form, and applying a
/// delta to its base, which must give the members of the roster the commits made.
struct EpochMembersRowTests {
    typealias Plan = EpochMembersRowPlan

    /// A room of `count` members (handles m000...), its cards by handle.
    static func room(_ count: Int) throws -> (roster: Roster, cards: [IdentityCard]) {
        let handles = (0..<count).map { String(format: "m%03d", $0) }
        let roster = try EpochMembersTests.roster(handles)
        return (roster, roster.sorted.map(\.card))
    }

    @Test func thePlanPicksAWholeRowOrADelta() throws {
        let (_, cards) = try Self.room(200)
        let stranger = try EpochMembersTests.card("zed"), other = try EpochMembersTests.card("yan")
        let m1 = cards[1].id, m2 = cards[2].id
        let base = Plan.Previous.whole(count: 200)
        let one = Plan.form(epoch: 5, previous: base, existing: false, effects: [.remove(m1)])
        guard case let .delta(d) = one else { Issue.record("\(one)"); return }
        let cases: [(String, Plan.Form, Bool)] = [
            ("epoch 0", Plan.form(epoch: 0, previous: base, existing: false, effects: [.remove(m1)]), true),
            ("a genesis", Plan.form(epoch: 5, previous: base, existing: false, effects: nil), true),
            ("a row already stored", Plan.form(epoch: 5, previous: base, existing: true, effects: [.remove(m1)]), true),
            ("no row before", Plan.form(epoch: 5, previous: .missing, existing: false, effects: [.remove(m1)]), true),
            ("a delta of another epoch before", Plan.form(epoch: 7, previous: .delta(d), existing: false, effects: [.remove(m2)]), true),
            ("a member added twice", Plan.form(epoch: 5, previous: base, existing: false,
                                               effects: [.insert(stranger, admin: false), .insert(stranger, admin: false)]), true),
            ("a member removed twice", Plan.form(epoch: 6, previous: .delta(d), existing: false, effects: [.remove(m1)]), true),
            ("21 changes on 200 (more than √400)", Plan.form(epoch: 5, previous: base, existing: false,
                                                             effects: cards[1...21].map { .remove($0.id) }), true),
            ("as many changes as members", Plan.form(epoch: 5, previous: .whole(count: 2), existing: false,
                                                     effects: [.remove(m1), .insert(stranger, admin: false)]), true),
            ("one removal", one, false),
            ("20 changes on 200", Plan.form(epoch: 5, previous: base, existing: false, effects: cards[1...20].map { .remove($0.id) }), false),
            ("a role change", Plan.form(epoch: 5, previous: base, existing: false, effects: [.setAdmin(m1, true)]), false),
            ("on a delta", Plan.form(epoch: 6, previous: .delta(d), existing: false, effects: [.insert(other, admin: false)]), false),
            ("a removed member back", Plan.form(epoch: 6, previous: .delta(d), existing: false, effects: [.insert(cards[1], admin: false)]), false),
        ]
        for (name, form, whole) in cases {
            #expect((form == .whole) == whole, "\(name): \(form)")
        }
        #expect(d.base == 4 && d.epoch == 5 && d.baseCount == 200 && d.removed == [m1] && d.added.isEmpty)
        // A member added since the base and removed again leaves no trace; one removed and back is both.
        guard case let .delta(gone) = Plan.form(epoch: 6, previous: .delta(d), existing: false, effects: [.insert(other, admin: false)]),
              case let .delta(none) = Plan.form(epoch: 7, previous: .delta(gone), existing: false, effects: [.remove(other.id)]),
              case let .delta(back) = Plan.form(epoch: 6, previous: .delta(d), existing: false, effects: [.insert(cards[1], admin: true)]) else {
            Issue.record("expected deltas"); return
        }
        #expect(gone.added == [other.id] && none.added.isEmpty && none.removed == [m1] && none.base == 4 && none.epoch == 7)
        #expect(back.removed == [m1] && back.added == [m1])
    }

    /// Applying each delta to its base gives the members of the roster the same commits make, through additions,
    /// removals, members coming back and whole rows in between.
    @Test func deltasGiveTheRostersMembers() throws {
        var (roster, cards) = try Self.room(50)
        let newcomers = try (0..<30).map { try EpochMembersTests.card(String(format: "n%03d", $0)) }
        var commits: [[RosterEffect]] = []
        for k in 0..<30 {
            var effects: [RosterEffect] = [.insert(newcomers[k], admin: false), .remove(cards[k + 1].id)]
            if k % 3 == 2 { effects.append(.insert(cards[k - 1], admin: false)) }
            if k % 5 == 4 { effects.append(.remove(newcomers[k - 2].id)) }
            if k % 4 == 0 { effects.append(.setAdmin(newcomers[k].id, true)) }
            commits.append(effects)
        }
        var whole = EpochMembers(roster: roster)
        var previous = Plan.Previous.whole(count: whole.count)
        var sawWhole = false, sawDelta = false
        for (i, effects) in commits.enumerated() {
            for effect in effects { roster.apply(effect) }
            let expected = EpochMembers(roster: roster)
            switch Plan.form(epoch: UInt64(i + 1), previous: previous, existing: false, effects: effects) {
            case .whole:
                sawWhole = true
                whole = expected
                previous = .whole(count: expected.count)
                #expect(try EpochMembersRow.parse(expected.encoded) == .whole(expected))
            case let .delta(d):
                sawDelta = true
                #expect(try EpochMembersDelta.parse(d.encoded) == d)
                #expect(try EpochMembersRow.parse(d.encoded) == .delta(d))
                #expect(try whole.applying(d) == expected, "epoch \(i + 1)")
                previous = .delta(d)
            }
        }
        #expect(sawWhole && sawDelta)
    }

    @Test func applyingRefusesADeltaThatDoesNotFitItsBase() throws {
        let (roster, cards) = try Self.room(10)
        let base = EpochMembers(roster: roster)
        let stranger = try EpochMembersTests.card("zed")
        func delta(_ effects: [RosterEffect], count: Int = 10) throws -> EpochMembersDelta {
            guard case let .delta(d) = Plan.form(epoch: 1, previous: .whole(count: count), existing: false, effects: effects) else {
                throw WireError.invalid(what: "test", reason: "not a delta")
            }
            return d
        }
        let cases: [(String, EpochMembersDelta)] = [
            ("made on another count", try delta([.remove(cards[1].id)], count: 11)),
            ("removes a non-member", try delta([.remove(stranger.id)])),
            ("adds a member", try delta([.insert(cards[2], admin: false)])),
        ]
        for (name, d) in cases {
            #expect(throws: WireError.self, "\(name)") { try base.applying(d) }
        }
        #expect(try base.applying(try delta([.insert(stranger, admin: false)])).contains(stranger.id))
    }

    @Test func parsingRejectsMalformedDeltas() throws {
        let (_, cards) = try Self.room(20)
        let stranger = try EpochMembersTests.card("zed")
        guard case let .delta(d) = Plan.form(epoch: 3, previous: .whole(count: 20), existing: false,
                                             effects: [.remove(cards[1].id), .remove(cards[2].id), .insert(stranger, admin: false)]) else {
            Issue.record("expected a delta"); return
        }
        let good = d.encoded
        #expect(good.count == 29 + 2 * 16 + 48)
        // Layout: version 0, base 1..<9, epoch 9..<17, base count 17..<21, removed count 21..<25, ids 25..<57,
        // added count 57..<61, entry 61..<109.
        func with(_ range: Range<Int>, _ bytes: [UInt8]) -> [UInt8] { var b = good; b.replaceSubrange(range, with: bytes); return b }
        let swapped = with(25..<57, Array(good[41..<57] + good[25..<41]))
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("unknown version", [3] + good.dropFirst()),
            ("epoch not after its base", with(9..<17, Array(good[1..<9]))),
            ("base count beyond the limit", with(17..<21, [0xFF, 0xFF, 0xFF, 0xFF])),
            ("more removed than the base holds", with(17..<21, [0, 0, 0, 1])),
            ("removed count beyond the bytes", with(21..<25, [0, 0, 0, 20])),
            ("added count beyond the bytes", with(57..<61, [0, 0, 0, 2])),
            ("removed ids out of order", swapped),
            ("removed id repeated", with(41..<57, Array(good[25..<41]))),
            ("truncated entry", Array(good.dropLast())),
            ("trailing byte", good + [0]),
        ]
        for (name, bytes) in cases {
            #expect(throws: WireError.self, "\(name)") { try EpochMembersRow.parse(bytes) }
        }
        #expect(try EpochMembersRow.parse(good) == .delta(d))
        #expect(try EpochMembersRow.wholeCount(good) == nil)
        #expect(try EpochMembersRow.wholeCount(EpochMembers(roster: try EpochMembersTests.roster(["a", "b"])).encoded) == 2)
    }
}
