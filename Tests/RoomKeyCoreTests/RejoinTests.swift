import Testing
@testable import RoomKeyCore

/// `Rejoin.decide`: only a room this member left is taken back; a new sender key is due only while
/// the roster held here has the member.
@Suite struct RejoinTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let left: Bool, inRoster: Bool
        let expect: Rejoin.Outcome
        var testDescription: String { "left \(left), in roster \(inRoster)" }
    }

    /// A forked room is not a row: it is taken back as any other, still forked (a review: refusing it left a member who
    /// left during a fork out for good).
    static let rows: [Row] = [
        Row(left: false, inRoster: true, expect: .notLeft),
        Row(left: false, inRoster: false, expect: .notLeft),
        Row(left: true, inRoster: true, expect: .rejoin(newKeyDue: true)),
        Row(left: true, inRoster: false, expect: .rejoin(newKeyDue: false)),
    ]

    @Test(arguments: rows) func decides(_ row: Row) {
        #expect(Rejoin.decide(left: row.left, inRoster: row.inRoster) == row.expect)
    }
}
