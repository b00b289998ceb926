import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// `MemberTenure`: the epochs a member belonged to a room agree with the rosters the log produces, and the decision a
/// message needs (member then, and since) is the one the rosters give.
struct MemberTenureTests {
    typealias Person = TestPerson

    let alice: Person, bob: Person, carol: Person, dave: Person

    init() throws {
        alice = try Person("alice")
        bob = try Person("bob")
        carol = try Person("carol")
        dave = try Person("dave")
    }

    /// A log by alice: each element the operations of one commit, the first one the genesis (create is prepended).
    func log(_ epochs: [[Operation]]) throws -> (states: [RoomState], commits: [Commit]) {
        let room = RoomID.random(using: try SystemRandom())
        var states: [RoomState] = []
        var commits: [Commit] = []
        for (epoch, ops) in epochs.enumerated() {
            let previous = states.last
            let all = previous == nil ? [.create(name: "team", creator: alice.card)] + ops : ops
            let roster = try RoomState.apply(all, to: previous?.roster ?? Roster(), author: alice.id, genesis: previous == nil)
            let commit = Commit(roomID: room, epoch: UInt64(epoch), previousHead: previous?.head ?? Commit.genesisHead,
                                signer: alice.signing, time: 10, operations: all, rosterHash: roster.hash)
            states.append(try previous?.applying(commit) ?? RoomState.genesis(commit))
            commits.append(commit)
        }
        return (states, commits)
    }

    /// Every member's tenure after `commits`.
    func tenures(_ commits: [Commit]) -> [IdentityID: MemberTenure] {
        var all: [IdentityID: MemberTenure] = [:]
        for commit in commits {
            for (member, changes) in MemberTenure.changes(of: commit) {
                all[member, default: MemberTenure(member: member)].apply(changes, at: commit.epoch)
            }
        }
        return all
    }

    @Test func staysMatchTheRosterOfEveryEpoch() throws {
        let (states, commits) = try log([
            [.add(bob.card), .add(carol.card)],
            [.remove(carol.id)],
            [.promote(bob.id)],
            [.add(carol.card), .add(dave.card)],
            [.remove(dave.id), .demote(bob.id)],
            [.remove(carol.id), .add(carol.card)],  // out and back in the same commit: still a member
        ])
        let tenures = tenures(commits)
        for state in states {
            for person in [alice, bob, carol, dave] {
                let stay = tenures[person.id]?.stay(at: state.epoch)
                #expect((stay != nil) == (state.roster[person.id] != nil), "\(person.card.handle) at epoch \(state.epoch)")
                #expect(stay.map(\.handle) == state.roster[person.id]?.card.handle)
            }
        }
        #expect(tenures[carol.id]?.stays.map(\.joined) == [0, 3, 5])
        #expect(tenures[carol.id]?.stays.map(\.left) == [1, 5, nil])
        #expect(tenures[dave.id]?.stays.map(\.left) == [4])
        // Applying a commit a second time (or an older one) changes nothing.
        var again = try #require(tenures[carol.id])
        for commit in commits { again.apply(MemberTenure.changes(of: commit)[carol.id] ?? [], at: commit.epoch) }
        #expect(again == tenures[carol.id])
    }

    @Test func addedAndRemovedByOneCommitWasNeverAMember() throws {
        let tenures = tenures(try log([[.add(bob.card)], [.add(carol.card), .remove(carol.id)]]).commits)
        #expect(tenures[carol.id]?.stays.isEmpty == true)
        #expect(tenures[carol.id]?.stay(at: 1) == nil)
    }

    @Test func theSenderDecisionIsTheOneTheRostersGive() throws {
        let (states, commits) = try log([
            [.add(bob.card), .add(carol.card)],  // 0
            [.promote(bob.id)],                  // 1
            [.remove(carol.id)],                 // 2
            [.add(carol.card)],                  // 3
            [.demote(bob.id)],                   // 4
        ])
        let tenures = tenures(commits)
        let current = states.last?.epoch ?? 0
        for person in [alice, bob, carol, dave] {
            let tenure = tenures[person.id] ?? MemberTenure(member: person.id)
            for epoch in 0...current {
                // The walk the rosters would do: every epoch from the message's to the current one.
                let firstAbsent = (epoch...current).first { states[Int($0)].roster[person.id] == nil }
                let strict = Result { () throws(MessageError) in
                    try tenure.senderHandle(at: epoch, current: current, everyEpoch: true, room: "team")
                }
                if let firstAbsent {
                    #expect(throws: MessageError.senderNotMember(person.id, epoch: firstAbsent, room: "team")) { try strict.get() }
                } else {
                    #expect(try strict.get() == person.card.handle)
                }
                // Without `everyEpoch`: the message's epoch, then the current one.
                let loose = Result { () throws(MessageError) in
                    try tenure.senderHandle(at: epoch, current: current, everyEpoch: false, room: "team")
                }
                let looseAbsent = [epoch, current].first { states[Int($0)].roster[person.id] == nil }
                if let looseAbsent {
                    #expect(throws: MessageError.senderNotMember(person.id, epoch: looseAbsent, room: "team")) { try loose.get() }
                } else {
                    #expect(try loose.get() == person.card.handle)
                }
            }
        }
        // carol's message from her first stay: removed at 2, so refused even though she is back.
        #expect(throws: MessageError.senderNotMember(carol.id, epoch: 2, room: "team")) {
            try tenures[carol.id]?.senderHandle(at: 1, current: current, everyEpoch: true, room: "team")
        }
    }

    /// Out and back in by one commit is a new stay (PROTOCOL, Receiving step 5): messages of the old stay are cut off,
    /// though the member is in the roster of every epoch (a review found the two sentences of the spec disagreed).
    @Test func outAndBackInByOneCommitCutsOffTheOldStay() throws {
        let (states, commits) = try log([[.add(bob.card)], [.remove(bob.id), .add(bob.card)]])
        #expect(states.allSatisfy { $0.roster[bob.id] != nil })
        let tenure = try #require(tenures(commits)[bob.id])
        #expect(throws: MessageError.senderNotMember(bob.id, epoch: 1, room: "team")) {
            try tenure.senderHandle(at: 0, current: 1, everyEpoch: true, room: "team")
        }
        #expect(try tenure.senderHandle(at: 1, current: 1, everyEpoch: true, room: "team") == "bob")
    }

    @Test func storageFormRoundTripsAndIsChecked() throws {
        let tenure = try #require(tenures(try log([[.add(bob.card)], [.remove(bob.id)], [.add(bob.card)]]).commits)[bob.id])
        let bytes = tenure.encoded
        #expect(try MemberTenure.parse(bytes) == tenure)
        #expect(throws: WireError.self) { try MemberTenure.parse(bytes + [0]) }
        #expect(throws: WireError.self) { try MemberTenure.parse(Array(bytes.dropLast())) }
        var version = bytes
        version[0] = 2
        #expect(throws: WireError.self) { try MemberTenure.parse(version) }
        // Stays out of order: the second stay's joined epoch (offset 1 + 16 + 2 + 8 + 8 + 1 + 3) set before the first one's end.
        var disordered = bytes
        disordered[1 + 16 + 2 + 8 + 8 + 1 + 3 + 7] = 0
        #expect(throws: WireError.self) { try MemberTenure.parse(disordered) }
        // An open stay that is not the last one.
        var open = bytes
        for i in (1 + 16 + 2 + 8)..<(1 + 16 + 2 + 16) { open[i] = 0xFF }
        #expect(throws: WireError.self) { try MemberTenure.parse(open) }
    }
}
