import RoomKeyTestSupport
import Testing
@testable import RoomKeyCore

/// Re-planning staged changes on the roster another admin's commit left, and what sync does with a built commit.
struct StagedRebaseTests {
    static let cards: [String: IdentityCard] = {
        var cards: [String: IdentityCard] = [:]
        for name in ["me", "a", "b", "c", "d"] { cards[name] = try! makeTestCard(handle: name) }
        // a2: another identity with a's handle.
        cards["a2"] = try! makeTestCard(handle: "a")
        return cards
    }()

    static func id(_ name: String) -> IdentityID { cards[name]!.id }

    /// A roster from "name" (member) and "name*" (admin).
    static func roster(_ spec: [String]) -> Roster {
        var r = Roster()
        for s in spec { r.insert(Member(card: cards[s.replacingOccurrences(of: "*", with: "")]!, admin: s.hasSuffix("*"))) }
        return r
    }

    /// "add a", "remove b", "promote c", "demote d", "leave".
    static func op(_ text: String) -> Operation {
        let parts = text.split(separator: " ").map(String.init)
        switch parts[0] {
        case "add": return .add(cards[parts[1]]!)
        case "remove": return .remove(id(parts[1]))
        case "promote": return .promote(id(parts[1]))
        case "demote": return .demote(id(parts[1]))
        default: return .leave
        }
    }

    static func render(_ ops: [Operation]) -> [String] {
        ops.map { o in "\(o.verb)" + (o.verb == "leave" ? "" : " " + (cards.first { $0.value.id == o.subject }?.key ?? "?")) }
    }

    @Test(arguments: [
        // (roster, intents, expected operations, expected dropped)
        (["me*", "a"], [["add b"]], ["add b"], [String]()),
        // Another admin added b already: the add is dropped, the removal still to do stays.
        (["me*", "a", "b"], [["add b", "remove a"]], ["remove a"], ["add b"]),
        // Another admin removed a: dropped; intents after it still apply.
        (["me*", "b"], [["remove a"], ["promote b"]], ["promote b"], ["remove a"]),
        (["me*", "b*"], [["promote b"], ["demote c"]], [], ["promote b", "demote c"]),
        // Staged in order: add then remove of the same contact both stay.
        (["me*"], [["add a"], ["remove a"]], ["add a", "remove a"], []),
        // Demoting the last other admin while I leave: leave waits for its own commit.
        (["me*", "a*"], [["demote a"], ["leave"]], ["demote a"], []),
        (["me*", "a*"], [["leave"], ["add b"]], ["leave"], []),
        // Leaving as the only admin is dropped (another admin must remain); the next intent goes on.
        (["me*", "a"], [["leave"], ["add b"]], ["add b"], ["leave"]),
        // No longer an admin: everything is dropped.
        (["me", "a*"], [["add b"], ["remove a"]], [], ["add b", "remove a"]),
        (["a*"], [["add b"]], [], ["add b"]),
    ] as [([String], [[String]], [String], [String])])
    func plan(_ roster: [String], _ intents: [[String]], _ operations: [String], _ dropped: [String]) {
        let plan = StagedRebase.plan(intents.map { StagedRebase.Intent($0.map(Self.op)) }, roster: Self.roster(roster), author: Self.id("me"))
        #expect(Self.render(plan.operations) == operations)
        #expect(Self.render(plan.dropped.map(\.operation)) == dropped)
        // Every kept operation is in the plan, in order, and nothing else is.
        #expect(plan.covered.flatMap(\.kept) == plan.operations)
    }

    /// "a,b" -> the ids of a and b.
    static func ids(_ spec: String) -> Set<IdentityID> { Set(spec.split(separator: ",").map { id(String($0)) }) }

    @Test(arguments: [
        // (roster, intent, subjects, changed since its base, veto, expected operations, expected dropped)
        // H3: b offboarded admin a while I staged the swap a -> c: the whole swap goes, c is not added nor promoted.
        (["me*", "b*"], ["add c", "promote c", "remove a"], "a,c", "a", nil, [], ["add c", "promote c", "remove a"]),
        // Nobody else touched its subjects: the swap is made.
        (["me*", "a*", "b*"], ["add c", "promote c", "remove a"], "a,c", "b", nil, ["add c", "promote c", "remove a"], []),
        // a was removed and added back by another admin since the removal was staged: not removed again.
        (["me*", "a"], ["remove a"], "a", "a", nil, [], ["remove a"]),
        (["me*", "a"], ["remove a"], "a", "", nil, ["remove a"], []),
        // Part of it is already true: the whole intent is dropped, not half made.
        (["me*", "a", "b"], ["add b", "remove a"], "a,b", "", nil, [], ["add b", "remove a"]),
        // A veto found outside the roster (a stale card, a leave request no longer accepted) drops it whole.
        (["me*", "a"], ["remove a"], "a", "", "stale", [], ["remove a"]),
        // Another member now has the handle of the contact to add.
        (["me*", "a"], ["add a2"], "a2", "", nil, [], ["add a2"]),
    ] as [([String], [String], String, String, String?, [String], [String])])
    func wholeIntents(_ roster: [String], _ ops: [String], _ subjects: String, _ changed: String, _ veto: String?,
                      _ operations: [String], _ dropped: [String]) {
        let intent = StagedRebase.Intent(ops.map(Self.op), subjects: Self.ids(subjects), changed: changed.isEmpty ? [] : Self.ids(changed), veto: veto)
        let plan = StagedRebase.plan([intent], roster: Self.roster(roster), author: Self.id("me"))
        #expect(Self.render(plan.operations) == operations)
        #expect(Self.render(plan.dropped.map(\.operation)) == dropped)
        if let veto { #expect(plan.dropped.allSatisfy { $0.reason == veto }) }
        #expect(plan.covered.flatMap(\.kept) == plan.operations)
    }

    @Test func anAdminMayInsistOnASameHandle() {
        let intent = StagedRebase.Intent([Self.op("add a2")], subjects: Self.ids("a2"), allowSameHandle: true)
        #expect(Self.render(StagedRebase.plan([intent], roster: Self.roster(["me*", "a"]), author: Self.id("me")).operations) == ["add a2"])
    }

    @Test(arguments: [
        // (roster, intent, expected operations, expected dropped): intents staged before subjects were recorded.
        // The swap's old key is gone: the add and promotion go too, so the removed contact is not brought back.
        (["me*", "b*"], ["add c", "promote c", "remove a"], [String](), ["add c", "promote c", "remove a"]),
        (["me*", "a*"], ["add c", "promote c", "remove a"], ["add c", "promote c", "remove a"], []),
    ] as [([String], [String], [String], [String])])
    func olderIntentsKeepTheirPerOperationPlanningButNotHalfASwap(_ roster: [String], _ ops: [String], _ operations: [String],
                                                                  _ dropped: [String]) {
        let plan = StagedRebase.plan([.init(ops.map(Self.op))], roster: Self.roster(roster), author: Self.id("me"))
        #expect(Self.render(plan.operations) == operations)
        #expect(Self.render(plan.dropped.map(\.operation)) == dropped)
    }

    @Test(arguments: [
        // (roster, intent, expected (operation, done) of the dropped): `done` says another admin made it already.
        (["me*", "b"], ["remove a"], [("remove a", true)]),
        (["me", "a*"], ["remove a"], [("remove a", false)]),           // I was demoted: a is still a member
        (["me*", "b*"], ["add c", "remove a"], [("add c", false), ("remove a", true)]),
    ] as [([String], [String], [(String, Bool)])])
    func droppedSaysWhetherItIsDone(_ roster: [String], _ ops: [String], _ expected: [(String, Bool)]) {
        let intent = StagedRebase.Intent(ops.map(Self.op), subjects: Self.ids("a"), changed: Self.ids("a"))
        let plan = StagedRebase.plan([intent], roster: Self.roster(roster), author: Self.id("me"))
        #expect(Self.render(plan.dropped.map(\.operation)) == expected.map(\.0))
        #expect(plan.dropped.map(\.done) == expected.map(\.1))
    }

    @Test(arguments: [
        // (commits as author: operations, expected changed)
        ([("b", ["remove a"])], "a"),
        ([("me", ["remove a"]), ("b", ["add c", "promote c"])], "c"),   // my own commits carried my earlier intents
        ([("b", ["leave"])], "b"),                                      // an admin who left changed too
        ([("me", ["add c"])], ""),
    ] as [([(String, [String])], String)])
    func changedSinceTheBase(_ commits: [(String, [String])], _ expected: String) {
        let changed = StagedRebase.changed(since: commits.map { (Self.id($0.0), $0.1.map(Self.op)) }, me: Self.id("me"))
        #expect(changed == (expected.isEmpty ? [] : Self.ids(expected)))
    }

    @Test(arguments: [
        // (request epoch, room epoch here, keep): only a request ahead of this keyring's room may settle later.
        (5 as UInt64, 4 as UInt64?, true), (4, 4, false), (3, 4, false), (5, nil, false),
    ] as [(UInt64, UInt64?, Bool)])
    func leaveRequestsWorthKeeping(_ request: UInt64, _ room: UInt64?, _ keep: Bool) {
        #expect(LeaveDecision.worthKeeping(requestEpoch: request, roomEpoch: room) == keep)
    }

    @Test func anIntentTheRulesRefuseIsDroppedWhole() {
        // Demoting the only admin other than... me demoting myself leaves no admin: refused by the log rules.
        let plan = StagedRebase.plan([.init([.demote(Self.id("me"))]), .init([.add(Self.cards["b"]!)])],
                                     roster: Self.roster(["me*", "a"]), author: Self.id("me"))
        #expect(Self.render(plan.operations) == ["add b"])
        #expect(plan.dropped.count == 1)
        #expect(plan.dropped.first?.reason.contains("admin") == true)
        #expect(plan.covered.map(\.index) == [0, 1])
    }

    @Test(arguments: [
        // (flight epoch, room epoch, same head, remote, verdict)
        (5, 4, true, StagedPublication.RemoteFile.ours, StagedPublication.Verdict.published),
        (5, 4, true, .absent, .push),
        (5, 4, true, .invalid, .replace),       // forged, malformed, not from an admin, on another head
        // A commit that may be valid for others (this keyring's clock, a stanza it cannot open): never replaced.
        (5, 4, true, .other("ahead of this clock"), .blocked("ahead of this clock")),
        (5, 5, false, .other("x"), .superseded),     // the winner was received: the room moved on
        (5, 5, false, .invalid, .superseded),
        (5, 5, false, .ours, .superseded),
        (5, 4, false, .absent, .superseded),    // same epoch, other head: a different history
        (5, 3, true, .absent, .superseded),
    ] as [(UInt64, UInt64, Bool, StagedPublication.RemoteFile, StagedPublication.Verdict)])
    func publication(_ epoch: UInt64, _ roomEpoch: UInt64, _ sameHead: Bool, _ remote: StagedPublication.RemoteFile,
                     _ verdict: StagedPublication.Verdict) {
        let head: [UInt8] = Array(repeating: 1, count: 32)
        #expect(StagedPublication.decide(epoch: epoch, previousHead: head, roomEpoch: roomEpoch,
                                         roomHead: sameHead ? head : Array(repeating: 2, count: 32), remote: remote) == verdict)
    }

    /// The plan checks each added card unless `verified` vouches for it (a keyring's own staged cards): a forged card
    /// is dropped with the log rule's reason, or kept when vouched for; every card is asked about, none checked twice
    /// over by the caller's predicate.
    @Test func cardsAreCheckedUnlessVouchedFor() throws {
        var bytes = try makeTestCard(handle: "f").encoded
        bytes[bytes.count - 1] ^= 1
        let forged = try IdentityCard.parse(bytes)
        let intents = [StagedRebase.Intent([.add(forged)]), StagedRebase.Intent([Self.op("add b")])]
        let checked = StagedRebase.plan(intents, roster: Self.roster(["me*"]), author: Self.id("me"))
        #expect(Self.render(checked.operations) == ["add b"])
        #expect(checked.dropped.map(\.operation) == [.add(forged)])
        var asked = 0
        let vouched = StagedRebase.plan(intents, roster: Self.roster(["me*"]), author: Self.id("me"),
                                        verified: { _ in asked += 1; return true })
        #expect(vouched.operations == [.add(forged), Self.op("add b")])
        #expect(asked >= 2)
    }
}
