import Testing
@testable import RoomKeyCore

/// Which handles collide when members are added, and how listings label members whose handles collide.
struct MemberNamesTests {
    /// An identity id from a few leading hex digits, the rest zero.
    static func id(_ prefix: String) -> IdentityID {
        let hex = prefix.padding(toLength: 32, withPad: "0", startingAt: 0)
        let bytes = stride(from: 0, to: 32, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16) ?? 0
        }
        return try! IdentityID(bytes: bytes)
    }

    /// (id prefix, handle) pairs.
    typealias People = [(String, String)]
    static func people(_ p: People) -> [(id: IdentityID, handle: String)] { p.map { (id($0.0), $0.1) } }

    /// members, adding, expected collisions as (added, existing, existing is a member).
    static let collisionCases: [(String, People, People, [(String, String, Bool)])] = [
        ("a new handle", [("aa", "alice"), ("bb", "bob")], [("cc", "carol")], []),
        ("a member's handle", [("aa", "alice"), ("bb", "bob")], [("cc", "bob")], [("cc", "bb", true)]),
        ("the creator's handle", [("aa", "alice")], [("cc", "alice")], [("cc", "aa", true)]),
        ("two added with one handle", [("aa", "alice")], [("cc", "bob"), ("dd", "bob")], [("dd", "cc", false)]),
        ("a member and two more", [("bb", "bob")], [("cc", "bob"), ("dd", "bob")], [("cc", "bb", true), ("dd", "bb", true)]),
        ("handles differ in case", [("bb", "bob")], [("cc", "Bob")], []),
        ("a member added again is not a handle collision", [("bb", "bob")], [("bb", "bob")], []),
        ("one contact named twice", [], [("cc", "bob"), ("cc", "bob")], []),
        ("members that already share a handle: the lowest id is named", [("b2", "bob"), ("b1", "bob")], [("cc", "bob")],
         [("cc", "b1", true)]),
    ]

    @Test(arguments: collisionCases)
    func collisions(_ c: (String, People, People, [(String, String, Bool)])) {
        let found = MemberNames.collisions(members: Self.people(c.1), adding: Self.people(c.2))
        let expected = c.3.map { e in
            HandleCollision(handle: c.2.first { $0.0 == e.0 }?.1 ?? "", added: Self.id(e.0), existing: Self.id(e.1), existingIsMember: e.2)
        }
        #expect(found == expected, "\(c.0)")
    }

    /// people, expected label per id prefix.
    static let labelCases: [(String, People, [String: String])] = [
        ("unique handles stay plain", [("aa", "alice"), ("bb", "bob")], ["aa": "alice", "bb": "bob"]),
        ("colliding handles get short ids", [("aa", "alice"), ("3fa2c1d0ff", "bob"), ("9c1e44aa", "bob")],
         ["aa": "alice", "3fa2c1d0ff": "bob (3fa2c1d0)", "9c1e44aa": "bob (9c1e44aa)"]),
        ("short ids grow until they differ", [("3fa2c1d0a", "bob"), ("3fa2c1d0b", "bob"), ("cc", "carol")],
         ["3fa2c1d0a": "bob (3fa2c1d0a)", "3fa2c1d0b": "bob (3fa2c1d0b)", "cc": "carol"]),
        ("a handle that reads like another's label gets a short id too",
         [("3fa2c1d0", "bob"), ("9c1e44aa", "bob"), ("77", "bob (3fa2c1d0)")],
         ["3fa2c1d0": "bob (3fa2c1d0)", "9c1e44aa": "bob (9c1e44aa)", "77": "bob (3fa2c1d0) (77000000)"]),
        ("a label-like handle with no collision stays plain", [("3fa2c1d0", "bob"), ("77", "bob (3fa2c1d0)")],
         ["3fa2c1d0": "bob", "77": "bob (3fa2c1d0)"]),
        ("one person listed twice is not a collision", [("bb", "bob"), ("bb", "bob")], ["bb": "bob"]),
    ]

    @Test(arguments: labelCases)
    func labels(_ c: (String, People, [String: String])) {
        let labels = MemberNames.labels(Self.people(c.1))
        let expected = Dictionary(uniqueKeysWithValues: c.2.map { (Self.id($0.key), $0.value) })
        #expect(labels == expected, "\(c.0)")
        #expect(Set(labels.values).count == labels.count, "\(c.0): labels are distinct")
    }

    @Test func shortHexIsTheFirstEightDigits() {
        #expect(Self.id("3fa2c1d0ff").shortHex == "3fa2c1d0")
    }
}

/// Members whose different handles look the same (#11 finding 2), as `room show` marks them.
struct MemberLookalikeTests {
    func id(_ prefix: String) -> IdentityID { MemberNamesTests.id(prefix) }

    @Test func threeBobsAndAnAlice() {
        let people = MemberNamesTests.people([("aa", "alice"), ("b1", "bob"), ("b2", "bob\u{200B}"), ("b3", "b\u{43E}b"),
                                              ("cc", "carol")])
        let found = MemberNames.lookalikes(people)
        #expect(found[id("b1")] == [id("b2"), id("b3")])
        #expect(found[id("b2")] == [id("b1"), id("b3")])
        #expect(found[id("b3")] == [id("b1"), id("b2")])
        #expect(found[id("aa")] == nil && found[id("cc")] == nil)
    }

    @Test func sameHandlesAreNotLookalikes() {
        let found = MemberNames.lookalikes(MemberNamesTests.people([("b1", "bob"), ("b2", "bob"), ("aa", "\u{430}lice"), ("a2", "alice")]))
        #expect(found[id("b1")] == nil && found[id("b2")] == nil, "labels already tell identical handles apart")
        #expect(found[id("aa")] == [id("a2")] && found[id("a2")] == [id("aa")])
    }
}
