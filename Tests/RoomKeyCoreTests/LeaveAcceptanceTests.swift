import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// Every rule of a leave request (docs/PROTOCOL.md §5.5), one table row each, over an in-memory view; and a run's
/// requests decided together give what deciding each gives, reading each roster once.
struct LeaveAcceptanceTests {
    typealias World = BundleAcceptanceTests.World

    /// The standard room (alice admin; dave removed at epoch 1), then alice removing bob at epoch 2 and adding him
    /// back at epoch 3.
    static func readdedLog(_ w: World) throws -> [Commit] {
        let c2 = w.commit(w.alice, on: w.s1, [.remove(w.bob.id)])
        let s2 = try w.s1.applying(c2)
        let c3 = w.commit(w.alice, on: s2, [.add(w.bob.card)])
        return w.log + [c2, c3]
    }

    /// A request naming `member` but signed by `signer`'s key (the member id bytes replaced after signing).
    static func forged(_ w: World, member: TestPerson, signer: TestPerson, epoch: UInt64) throws -> LeaveRequest {
        var bytes = LeaveRequest(roomID: w.room, epoch: epoch, signer: signer.signing, time: w.now).encoded
        bytes.replaceSubrange(28..<44, with: member.id.bytes)
        return try LeaveRequest.parse(bytes)
    }

    /// The standard room, then alice promoting carol at epoch 2: two admins.
    static func twoAdminLog(_ w: World) throws -> [Commit] {
        w.log + [w.commit(w.alice, on: w.s1, [.promote(w.carol.id)])]
    }

    /// Of alice and carol, the admin with the lower id (the designated one for a request made at epoch 2) and the other.
    static func admins(_ w: World) -> (low: TestPerson, high: TestPerson) {
        w.alice.id < w.carol.id ? (w.alice, w.carol) : (w.carol, w.alice)
    }

    func request(_ w: World, _ who: TestPerson, epoch: UInt64, room: RoomID? = nil) -> LeaveRequest {
        LeaveRequest(roomID: room ?? w.room, epoch: epoch, signer: who.signing, time: w.now)
    }

    /// One row: who receives, what they hold, the request, and the decision (as `describe` prints it).
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var receiver: @Sendable (World) -> TestPerson = { $0.alice }
        /// A room without a remote, where only the designated admin acts.
        var designatedOnly = false
        let holds: @Sendable (World) throws -> InMemoryReceiver
        let request: @Sendable (World) throws -> LeaveRequest
        let expect: @Sendable (World) -> String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a member's request for the current epoch: remove",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) },
             expect: { w in "remove \(w.bob.id)" }),
        Case(name: "a member's request for an earlier epoch it was in: remove",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 0) },
             expect: { w in "remove \(w.bob.id)" }),
        Case(name: "the receiver's own request: not for me",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.alice, epoch: 1) },
             expect: { _ in "notForMe" }),
        Case(name: "a room the receiver does not hold: not for me",
             holds: { w in w.stranger() }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) },
             expect: { _ in "notForMe" }),
        Case(name: "a room the receiver left: not for me",
             holds: { w in try w.member(left: true) }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) },
             expect: { _ in "notForMe" }),
        Case(name: "a receiver who is not an admin: not for me", receiver: { $0.carol },
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) },
             expect: { _ in "notForMe" }),
        Case(name: "an epoch ahead of the receiver's room: pending",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 2) },
             expect: { _ in "pending" }),
        Case(name: "someone not in the roster of the request's epoch: rejected (notMember)",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.dave, epoch: 1) },
             expect: { w in "rejected \(LeaveError.notMember(w.dave.id, epoch: 1))" }),
        Case(name: "a stranger: rejected (notMember)",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.mallory, epoch: 1) },
             expect: { w in "rejected \(LeaveError.notMember(w.mallory.id, epoch: 1))" }),
        Case(name: "an epoch before the receiver joined: rejected (notMember)",
             holds: { w in try w.member(joinedEpoch: 1) }, request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 0) },
             expect: { w in "rejected \(LeaveError.notMember(w.bob.id, epoch: 0))" }),
        Case(name: "a request naming bob signed by another key: rejected (badSignature)",
             holds: { w in try w.member() }, request: { w in try LeaveAcceptanceTests.forged(w, member: w.bob, signer: w.mallory, epoch: 1) },
             expect: { w in "rejected \(LeaveError.badSignature(w.bob.id))" }),
        Case(name: "a member removed since the request's epoch: duplicate",
             holds: { w in try w.member() }, request: { w in LeaveAcceptanceTests().request(w, w.dave, epoch: 0) },
             expect: { _ in "duplicate" }),
        Case(name: "a member added again after the request's epoch: rejected (stale)",
             holds: { w in try w.member(try LeaveAcceptanceTests.readdedLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) },
             expect: { w in "rejected \(LeaveError.stale(w.bob.id, readdedAt: 3))" }),
        Case(name: "a member's request made after it was added again: remove",
             holds: { w in try w.member(try LeaveAcceptanceTests.readdedLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 3) },
             expect: { w in "remove \(w.bob.id)" }),
        // Two admins of a room without a remote: only one of them acts, or both would commit epoch 3, a fork (a review
        // found a member's request handed to both admins split the room for good).
        Case(name: "two admins: the admin with the lowest id removes", receiver: { LeaveAcceptanceTests.admins($0).low },
             designatedOnly: true, holds: { w in try w.member(try LeaveAcceptanceTests.twoAdminLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 2) }, expect: { w in "remove \(w.bob.id)" }),
        Case(name: "two admins: the other admin leaves it to the lowest", receiver: { LeaveAcceptanceTests.admins($0).high },
             designatedOnly: true, holds: { w in try w.member(try LeaveAcceptanceTests.twoAdminLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 2) },
             expect: { w in "otherAdmin \(LeaveAcceptanceTests.admins(w).low.id)" }),
        Case(name: "two admins now, one at the request's epoch: that one removes", receiver: { $0.alice },
             designatedOnly: true, holds: { w in try w.member(try LeaveAcceptanceTests.twoAdminLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) }, expect: { w in "remove \(w.bob.id)" }),
        Case(name: "two admins now, one at the request's epoch: the new one leaves it", receiver: { $0.carol },
             designatedOnly: true, holds: { w in try w.member(try LeaveAcceptanceTests.twoAdminLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 1) }, expect: { w in "otherAdmin \(w.alice.id)" }),
        Case(name: "two admins with a remote (staged, ordered by the remote): either removes",
             receiver: { LeaveAcceptanceTests.admins($0).high },
             holds: { w in try w.member(try LeaveAcceptanceTests.twoAdminLog(w)) },
             request: { w in LeaveAcceptanceTests().request(w, w.bob, epoch: 2) }, expect: { w in "remove \(w.bob.id)" }),
    ]

    static func describe(_ decision: LeaveDecision) -> String {
        switch decision {
        case let .remove(id): "remove \(id)"
        case .duplicate: "duplicate"
        case .pending: "pending"
        case let .rejected(error): "rejected \(error)"
        case .notForMe: "notForMe"
        case let .otherAdmin(id): "otherAdmin \(id)"
        }
    }

    @Test(arguments: LeaveAcceptanceTests.cases)
    func decides(_ row: Case) throws {
        let w = try World()
        let decision = try LeaveAcceptance(view: try row.holds(w), receiver: row.receiver(w).id, designatedOnly: row.designatedOnly)
            .decide(try row.request(w))
        #expect(Self.describe(decision) == row.expect(w))
    }

    /// Many requests of one run, decided together: the same decisions, in order, as one by one; the current roster and
    /// each request epoch's roster are read once, not once per request.
    @Test func aRunsRequestsDecidedTogetherAreDecidedAsEachAlone() throws {
        let w = try World()
        let log = try Self.readdedLog(w)
        let held = try w.member(log)
        let other = RoomID.random(using: w.random)
        var requests: [LeaveRequest] = []
        for _ in 0..<20 {
            requests += [request(w, w.bob, epoch: 1), request(w, w.carol, epoch: 3), request(w, w.dave, epoch: 0),
                         request(w, w.mallory, epoch: 2), request(w, w.alice, epoch: 3), request(w, w.carol, epoch: 9),
                         request(w, w.bob, epoch: 3), request(w, w.carol, epoch: 1, room: other),
                         try Self.forged(w, member: w.carol, signer: w.mallory, epoch: 3)]
        }
        let one = try requests.map { try LeaveAcceptance(view: held, receiver: w.alice.id).decide($0) }.map(Self.describe)
        let counting = CountingReceiver(held)
        let together = try LeaveAcceptance(view: counting, receiver: w.alice.id).decide(requests).map(Self.describe)
        #expect(together == one)
        #expect(Set(one).count == 8)
        // The current epoch's roster (as a view and whole) and those of epochs 0, 1 and 2.
        #expect(counting.count.rosters <= 5)
        let alone = CountingReceiver(held)
        _ = try requests.map { try LeaveAcceptance(view: alone, receiver: w.alice.id).decide($0) }
        #expect(alone.count.rosters > 100)
    }
}
