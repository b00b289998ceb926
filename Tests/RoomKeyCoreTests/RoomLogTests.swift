import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// Every acceptance rule of the membership log, each on its own, on the pure `RoomState` core.
struct RoomLogTests {
    typealias Person = TestPerson

    let alice: Person, bob: Person, carol: Person, mallory: Person
    let room: RoomID

    init() throws {
        alice = try Person("alice")
        bob = try Person("bob")
        carol = try Person("carol")
        mallory = try Person("mallory")
        room = RoomID.random(using: try SystemRandom())
    }

    /// A correctly formed commit by `author` on top of `state` (roster hash computed from the operations).
    func commit(_ author: Person, on state: RoomState?, _ ops: [Operation], epoch: UInt64? = nil, previous: [UInt8]? = nil,
                rosterHash: [UInt8]? = nil) throws -> Commit {
        let roster = (try? RoomState.apply(ops, to: state?.roster ?? Roster(), author: author.id, genesis: state == nil)) ?? Roster()
        return Commit(roomID: state?.roomID ?? room, epoch: epoch ?? (state.map { $0.epoch + 1 } ?? 0),
                      previousHead: previous ?? state?.head ?? Commit.genesisHead, signer: author.signing, time: 10,
                      operations: ops, rosterHash: rosterHash ?? roster.hash)
    }

    func genesis() throws -> RoomState {
        try RoomState.genesis(try commit(alice, on: nil, [.create(name: "team", creator: alice.card), .add(bob.card)]))
    }

    @Test func genesisMakesTheCreatorAdmin() throws {
        let state = try genesis()
        #expect(state.epoch == 0)
        #expect(state.roster[alice.id]?.admin == true)
        #expect(state.roster[bob.id]?.admin == false)
        #expect(state.name == "team")
    }

    @Test func commitsRoundTripThroughTheirEncoding() throws {
        let c = try commit(alice, on: try genesis(), [.add(carol.card), .promote(bob.id)])
        #expect(try Commit.parse(c.encoded) == c)
        #expect(throws: WireError.self) { try Commit.parse(c.encoded + [0]) }
        #expect(throws: WireError.self) { try Commit.parse(Array(c.encoded.dropLast())) }
        var v2 = c.encoded
        v2[0] = 2
        #expect(throws: WireError.unknownVersion(what: "commit", expected: 1, found: 2)) { try Commit.parse(v2) }
    }

    @Test func epochMustFollow() throws {
        let s = try genesis()
        #expect(throws: LogError.gap(expected: 1, found: 2)) { try s.applying(try commit(alice, on: s, [.add(carol.card)], epoch: 2)) }
        #expect(throws: LogError.stale(epoch: 0, current: 0)) { try s.applying(try commit(alice, on: s, [.add(carol.card)], epoch: 0)) }
    }

    @Test func previousHeadMustMatch() throws {
        let s = try genesis()
        let c = try commit(alice, on: s, [.add(carol.card)], previous: [UInt8](repeating: 7, count: 32))
        #expect(throws: LogError.brokenChain(epoch: 1)) { try s.applying(c) }
    }

    @Test func authorMustBeAMember() throws {
        let s = try genesis()
        #expect(throws: LogError.authorNotMember(mallory.id)) { try s.applying(try commit(mallory, on: s, [.add(carol.card)])) }
    }

    @Test func signatureMustVerify() throws {
        let s = try genesis()
        let good = try commit(alice, on: s, [.add(carol.card)])
        var bytes = good.encoded
        bytes[bytes.count - 1] ^= 1
        #expect(throws: LogError.badSignature(epoch: 1)) { try s.applying(try Commit.parse(bytes)) }
    }

    @Test func onlyAdminsCommitEvenALeave() throws {
        let s = try genesis()
        #expect(throws: LogError.notAdmin(bob.id)) { try s.applying(try commit(bob, on: s, [.add(carol.card)])) }
        // A member asks an admin with a leave request; its own leave commit is refused like any other.
        #expect(throws: LogError.notAdmin(bob.id)) { try s.applying(try commit(bob, on: s, [.leave])) }
    }

    @Test func operationsMustBeValid() throws {
        let s = try genesis()
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.add(bob.card)])) }           // double add
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.remove(carol.id)])) }        // not a member
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.promote(alice.id)])) }       // already admin
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.demote(bob.id)])) }          // not an admin
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.remove(alice.id)])) }        // self-removal is leave
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.create(name: "x", creator: alice.card)])) }
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [])) }
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.leave, .add(carol.card)])) }
    }

    @Test func addedCardsMustBeSelfSigned() throws {
        let s = try genesis()
        var bytes = carol.card.encoded
        bytes[bytes.count - 1] ^= 1
        let forged = try IdentityCard.parse(bytes)
        #expect(throws: LogError.self) { try s.applying(try commit(alice, on: s, [.add(forged)])) }
    }

    @Test func anAdminMustRemain() throws {
        let s = try genesis()
        #expect(throws: LogError.noAdminLeft) { try s.applying(try commit(alice, on: s, [.leave])) }
        #expect(throws: LogError.noAdminLeft) { try s.applying(try commit(alice, on: s, [.demote(alice.id)])) }
        let promoted = try s.applying(try commit(alice, on: s, [.promote(bob.id)]))
        let stepped = try promoted.applying(try commit(alice, on: promoted, [.leave]))
        #expect(stepped.roster.adminCount == 1)
    }

    @Test func rosterHashMustMatch() throws {
        let s = try genesis()
        let c = try commit(alice, on: s, [.add(carol.card)], rosterHash: s.roster.hash)
        #expect(throws: LogError.rosterMismatch(epoch: 1)) { try s.applying(c) }
    }

    @Test func commitsForAnotherRoomAreRefused() throws {
        let s = try genesis()
        let other = try RoomState.genesis(Commit(roomID: RoomID.random(using: SystemRandom()), epoch: 0, previousHead: Commit.genesisHead,
                                                 signer: alice.signing, time: 1, operations: [.create(name: "o", creator: alice.card)],
                                                 rosterHash: try RoomState.apply([.create(name: "o", creator: alice.card)], to: Roster(),
                                                                                 author: alice.id, genesis: true).hash))
        #expect(throws: LogError.wrongRoom(expected: s.roomID, found: other.roomID)) {
            try s.applying(try commit(alice, on: other, [.add(carol.card)]))
        }
    }

    @Test func genesisRules() throws {
        #expect(throws: LogError.self) { try RoomState.genesis(try commit(alice, on: nil, [.add(bob.card)])) }
        #expect(throws: LogError.self) {
            try RoomState.genesis(try commit(mallory, on: nil, [.create(name: "t", creator: alice.card)]))
        }
        #expect(throws: LogError.gap(expected: 0, found: 3)) {
            try RoomState.genesis(try commit(alice, on: nil, [.create(name: "t", creator: alice.card)], epoch: 3))
        }
    }

    @Test func replayChecksTheWholeLogAndTheHeadChains() throws {
        let c0 = try commit(alice, on: nil, [.create(name: "team", creator: alice.card), .add(bob.card)])
        let s0 = try RoomState.genesis(c0)
        let c1 = try commit(alice, on: s0, [.add(carol.card)])
        let s1 = try s0.applying(c1)
        let c2 = try commit(alice, on: s1, [.remove(bob.id)])
        let s2 = try RoomState.replay([c0, c1, c2])
        #expect(s2.epoch == 2)
        #expect(s2.head == BLAKE2b.hash([Commit.headDomain, c1.head, c2.encoded]))
        #expect(s2.roster.sorted.map(\.id).sorted() == [alice.id, carol.id].sorted())
        #expect(throws: LogError.self) { try RoomState.replay([c0, c2]) }
    }

    @Test func fingerprintsAgreeAndChange() throws {
        let s0 = try genesis()
        let s1 = try s0.applying(try commit(alice, on: s0, [.add(carol.card)]))
        #expect(s0.fingerprint.count == 60)
        let digitsOnly = s0.fingerprint.allSatisfy { $0.isNumber }
        #expect(digitsOnly)
        #expect(s0.fingerprint != s1.fingerprint)
        #expect(RoomFingerprint.grouped(s0.fingerprint).split(separator: " ").count == 12)
    }
}
