import RoomKeyTestSupport
import Testing
@testable import RoomKeyCore

/// The pure membership rules: the declarative roster diff, `replace`, presence under old keys, and what a pending
/// key change blocks from sealing.
struct MembershipPlanTests {
    /// One card per name, made once: "me" is the author; "x2" is the new key of "x".
    static let cards: [String: IdentityCard] = {
        var cards: [String: IdentityCard] = [:]
        for name in ["me", "a", "b", "c", "d", "e", "b2", "c2"] {
            cards[name] = try! makeTestCard(handle: String(name.prefix(1)))
        }
        return cards
    }()

    static func card(_ name: String) -> IdentityCard { cards[name]! }
    static func id(_ name: String) -> IdentityID { card(name).id }
    static func name(_ id: IdentityID) -> String { cards.first { $0.value.id == id }?.key ?? "?" }

    /// A roster from "name" (member) and "name*" (admin); the author "me" is always an admin.
    static func roster(_ spec: [String]) -> Roster {
        var r = Roster()
        r.insert(Member(card: card("me"), admin: true))
        for s in spec { r.insert(Member(card: card(s.replacingOccurrences(of: "*", with: "")), admin: s.hasSuffix("*"))) }
        return r
    }

    static func render(_ ops: [Operation]) -> [String] {
        ops.map { op in
            switch op {
            case let .add(card): "add \(name(card.id))"
            default: "\(op.verb) \(op.subject.map(name) ?? "")"
            }
        }
    }

    /// Ops rendered with each verb's group sorted by name (within a group the order is by id, which is random here).
    static func grouped(_ ops: [Operation]) -> [String] {
        let order = ["add", "promote", "demote", "remove"]
        let verbs = ops.map(\.verb)
        #expect(verbs == verbs.sorted { (order.firstIndex(of: $0) ?? 9) < (order.firstIndex(of: $1) ?? 9) }, "groups out of order: \(verbs)")
        return render(ops).sorted { a, b in
            let va = order.firstIndex(of: String(a.split(separator: " ")[0])) ?? 9
            let vb = order.firstIndex(of: String(b.split(separator: " ")[0])) ?? 9
            return (va, a) < (vb, b)
        }
    }

    /// (what, roster, members, admins (nil: keep roles), successors old->new, expected ops, expected roster after)
    static let diffCases: [(String, [String], [String], [String]?, [String: String], [String], [String])] = [
        ("already up to date", ["a", "b*"], ["a", "b"], nil, [:], [], ["a", "b*"]),
        ("up to date when the file names me too", ["a"], ["me", "a"], nil, [:], [], ["a"]),
        ("adds in the order given", ["a"], ["a", "c", "b"], nil, [:], ["add c", "add b"], ["a", "b", "c"]),
        ("removes who is not named", ["a", "b", "c*"], ["a"], nil, [:], ["remove b", "remove c"], ["a"]),
        ("the author stays though not named", ["a"], [], nil, [:], ["remove a"], []),
        ("an empty admins file demotes everyone but me", ["a*", "b*"], ["a", "b"], [], [:], ["demote a", "demote b"], ["a", "b"]),
        ("promotes and demotes to the admins given", ["a*", "b"], ["a", "b"], ["b"], [:], ["promote b", "demote a"], ["a", "b*"]),
        ("an admin named only as admin is added and promoted", ["a"], ["a"], ["c"], [:], ["add c", "promote c"], ["a", "c*"]),
        ("mixed: add, promote, demote, remove", ["a*", "b", "d"], ["a", "b", "c", "e"], ["b", "c"], [:],
         ["add c", "add e", "promote b", "promote c", "demote a", "remove d"], ["a", "b*", "c*", "e"]),
        ("names twice count once", ["a"], ["a", "b", "b"], nil, [:], ["add b"], ["a", "b"]),
        ("a successor of an admin becomes admin", ["b*", "c"], ["b2", "c2"], nil, ["b": "b2", "c": "c2"],
         ["add b2", "add c2", "promote b2", "remove b", "remove c"], ["b2*", "c2"]),
        ("admins given win over successors", ["b*"], ["b2"], [], ["b": "b2"], ["add b2", "remove b"], ["b2"]),
    ]

    @Test(arguments: diffCases)
    func diff(_ c: (String, [String], [String], [String]?, [String: String], [String], [String])) throws {
        let start = Self.roster(c.1)
        let ops = MembershipPlan.operations(from: start, members: c.2.map(Self.card) + (c.3 ?? []).map(Self.card),
                                            admins: c.3.map { Set($0.map(Self.id)) }, author: Self.id("me"),
                                            successors: Dictionary(uniqueKeysWithValues: c.4.map { (Self.id($0.key), Self.id($0.value)) }))
        _ = Self.grouped(ops)
        #expect(Self.render(ops).sorted() == c.5.sorted(), "\(c.0): \(Self.render(ops))")
        // Adds keep the order given.
        #expect(Self.render(ops).filter { $0.hasPrefix("add") } == c.5.filter { $0.hasPrefix("add") }, "\(c.0)")
        if ops.isEmpty {
            #expect(start == Self.roster(c.6), "\(c.0)")
        } else {
            let after = try RoomState.apply(ops, to: start, author: Self.id("me"), genesis: false)
            #expect(after == Self.roster(c.6), "\(c.0)")
            #expect(after.adminCount >= 1 && after[Self.id("me")]?.admin == true, "\(c.0)")
        }
    }

    /// (what, roster, new card, previous keys, pending, expected ops or the refusal)
    static let replaceCases: [(String, [String], String, [String], Bool, Result<[String], ReplaceRefusal>)] = [
        ("swaps an old key", ["a", "b"], "b2", ["b"], false, .success(["add b2", "remove b"])),
        ("keeps an admin's role", ["b*"], "b2", ["b"], false, .success(["add b2", "promote b2", "remove b"])),
        ("a pending change is refused", ["b"], "b2", ["b"], true, .failure(.keyChangePending)),
        ("a key that never changed", ["b"], "b", [], false, .failure(.keyNotChanged)),
        ("already swapped", ["b2"], "b2", ["b"], false, .failure(.alreadyReplaced)),
        ("the old key is not a member", ["a"], "b2", ["b"], false, .failure(.oldKeyNotMember)),
        ("a pending change of a non-member is not a member first", ["a"], "b2", ["b"], true, .failure(.oldKeyNotMember)),
        ("new key already in beside the old: the old goes", ["b", "b2"], "b2", ["b"], false, .success(["remove b"])),
    ]

    @Test(arguments: replaceCases)
    func replace(_ c: (String, [String], String, [String], Bool, Result<[String], ReplaceRefusal>)) {
        let result = Result { () throws(ReplaceRefusal) -> [Operation] in
            try MembershipPlan.replace(roster: Self.roster(c.1), new: Self.card(c.2), previous: c.3.map(Self.id), keyChangePending: c.4)
        }.map(Self.render)
        #expect(result == c.5, "\(c.0)")
    }

    /// (what, roster, current, previous, pending, expected)
    static let presenceCases: [(String, [String], String, [String], Bool, String)] = [
        ("current key is a member", ["b"], "b", [], false, "current"),
        ("current wins over an old key", ["b", "b2"], "b2", ["b"], true, "current"),
        ("old key, pending", ["b"], "b2", ["b"], true, "old b pending"),
        ("old key, accepted", ["b"], "b2", ["b"], false, "old b accepted"),
        ("the newest old key is named", ["b", "c"], "b2", ["c", "b"], false, "old b accepted"),
        ("absent", ["a"], "b2", ["b"], true, "absent"),
    ]

    @Test(arguments: presenceCases)
    func presence(_ c: (String, [String], String, [String], Bool, String)) {
        let p = MembershipPlan.presence(roster: Self.roster(c.1), current: Self.id(c.2), previous: c.3.map(Self.id), keyChangePending: c.4)
        let text = switch p {
        case .current: "current"
        case let .oldKey(id, pending): "old \(Self.name(id)) \(pending ? "pending" : "accepted")"
        case .absent: "absent"
        }
        #expect(text == c.5, "\(c.0)")
    }

    /// (what, recipients, pending new keys, blocked)
    static let sealCases: [(String, [String], [String], [String])] = [
        ("no key change", ["a", "b"], [], []),
        ("an old key in the roster is sealed to", ["a", "b"], ["b2"], []),
        ("a pending new key in the roster is blocked", ["a", "b2"], ["b2"], ["b2"]),
        ("several", ["b2", "a", "c2"], ["c2", "b2"], ["b2", "c2"]),
    ]

    @Test(arguments: sealCases)
    func unsealable(_ c: (String, [String], [String], [String])) {
        let blocked = MembershipPlan.unsealable(recipients: c.1.map(Self.id), pendingNewKeys: Set(c.2.map(Self.id)))
        #expect(blocked.map(Self.name) == c.3, "\(c.0)")
    }
}
