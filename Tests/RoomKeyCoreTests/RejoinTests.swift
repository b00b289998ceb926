import Testing
@testable import RoomKeyCore

/// `Rejoin.decide`: only a room this member left is taken back, never a forked one; a new sender key is due only while
/// the roster held here has the member.
@Suite struct RejoinTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let left: Bool, forked: Bool, inRoster: Bool
        let expect: Rejoin.Outcome
        var testDescription: String { "left \(left), forked \(forked), in roster \(inRoster)" }
    }

    static let rows: [Row] = [
        Row(left: false, forked: false, inRoster: true, expect: .notLeft),
        Row(left: false, forked: false, inRoster: false, expect: .notLeft),
        Row(left: false, forked: true, inRoster: true, expect: .notLeft),
        Row(left: false, forked: true, inRoster: false, expect: .notLeft),
        Row(left: true, forked: true, inRoster: true, expect: .forked),
        Row(left: true, forked: true, inRoster: false, expect: .forked),
        Row(left: true, forked: false, inRoster: true, expect: .rejoin(newKeyDue: true)),
        Row(left: true, forked: false, inRoster: false, expect: .rejoin(newKeyDue: false)),
    ]

    @Test(arguments: rows) func decides(_ row: Row) {
        #expect(Rejoin.decide(left: row.left, forked: row.forked, inRoster: row.inRoster) == row.expect)
    }
}
