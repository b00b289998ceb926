import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// `RosterRowPlan` (which form a stored roster takes), the replay row's encoding, and replaying: a whole roster with the
/// commits after it replayed is the roster the log gives, as a `Roster` and as a `RosterView`.
struct RosterRowTests {
    typealias Person = TestPerson

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let epoch: UInt64
        let previous: RosterRowPlan.Previous
        var existing = false
        let commitSize: Int
        let expected: RosterRow
        var testDescription: String { name }
    }

    static func replay(_ base: UInt64, _ baseSize: UInt64, _ commits: UInt32, _ bytes: UInt64) -> RosterRow {
        .replay(RosterReplay(base: base, baseSize: baseSize, commits: commits, commitBytes: bytes))
    }

    static let limit = RosterRowPlan.maxCommits
    static let cases: [Case] = [
        Case(name: "a genesis is stored whole", epoch: 0, previous: .missing, commitSize: 100, expected: .whole),
        Case(name: "a genesis is whole even after a whole row", epoch: 0, previous: .whole(size: 1_000_000), commitSize: 100, expected: .whole),
        Case(name: "no row before: whole", epoch: 5, previous: .missing, commitSize: 100, expected: .whole),
        Case(name: "after a whole row: a replay of one commit on it", epoch: 5, previous: .whole(size: 1_000_000), commitSize: 100,
             expected: replay(4, 1_000_000, 1, 100)),
        Case(name: "an epoch already stored is rewritten whole", epoch: 5, previous: .whole(size: 1_000_000), existing: true,
             commitSize: 100, expected: .whole),
        Case(name: "after a replay: the chain grows by one", epoch: 7, previous: replayPrevious(4, 1_000_000, 2, 300), commitSize: 100,
             expected: replay(4, 1_000_000, 3, 400)),
        Case(name: "a chain at its commit limit ends with a whole row", epoch: 4 + UInt64(limit) + 1,
             previous: replayPrevious(4, 1_000_000, limit, 300), commitSize: 100, expected: .whole),
        Case(name: "one below the commit limit still replays", epoch: 4 + UInt64(limit),
             previous: replayPrevious(4, 1_000_000, limit - 1, 300), commitSize: 100, expected: replay(4, 1_000_000, limit, 400)),
        Case(name: "a 13 MB base's chain goes past the small bases' limit", epoch: 4 + 101,
             previous: replayPrevious(4, 13_000_000, 100, 300), commitSize: 100, expected: replay(4, 13_000_000, 101, 400)),
        Case(name: "a 13 MB base's chain ends at 13 MB / 32 KiB commits", epoch: 4 + 396 + 1,
             previous: replayPrevious(4, 13_000_000, 396, 300), commitSize: 100, expected: .whole),
        Case(name: "one below a 13 MB base's limit still replays", epoch: 4 + 396,
             previous: replayPrevious(4, 13_000_000, 395, 300), commitSize: 100, expected: replay(4, 13_000_000, 396, 400)),
        Case(name: "no chain is longer than a reader accepts", epoch: 4 + UInt64(RosterReplay.maxCommits) + 1,
             previous: replayPrevious(4, 1 << 40, RosterReplay.maxCommits, 300), commitSize: 100, expected: .whole),
        Case(name: "commit bytes up to a quarter of a large base replay", epoch: 5, previous: .whole(size: 4_000_000),
             commitSize: 1_000_000, expected: replay(4, 4_000_000, 1, 1_000_000)),
        Case(name: "commit bytes past a quarter of a large base: whole", epoch: 5, previous: .whole(size: 4_000_000),
             commitSize: 1_000_001, expected: .whole),
        Case(name: "a small base replays up to the fixed byte floor", epoch: 5, previous: .whole(size: 2_000),
             commitSize: RosterRowPlan.minCommitBytes, expected: replay(4, 2_000, 1, UInt64(RosterRowPlan.minCommitBytes))),
        Case(name: "past the floor on a small base: whole", epoch: 5, previous: .whole(size: 2_000),
             commitSize: RosterRowPlan.minCommitBytes + 1, expected: .whole),
        Case(name: "the chain's bytes add up to the limit", epoch: 7, previous: replayPrevious(4, 2_000, 2, 60_000),
             commitSize: 5_536, expected: replay(4, 2_000, 3, 65_536)),
        Case(name: "the chain's bytes one past the limit: whole", epoch: 7, previous: replayPrevious(4, 2_000, 2, 60_000),
             commitSize: 5_537, expected: .whole),
        Case(name: "a replay before that is not of the epoch before: whole", epoch: 9, previous: replayPrevious(4, 1_000_000, 2, 300),
             commitSize: 100, expected: .whole),
        Case(name: "an empty whole row before: whole", epoch: 5, previous: .whole(size: 0), commitSize: 100, expected: .whole),
        Case(name: "byte count overflow: whole", epoch: 7, previous: replayPrevious(4, UInt64.max, 2, UInt64.max - 10), commitSize: 100,
             expected: .whole),
    ]

    static func replayPrevious(_ base: UInt64, _ baseSize: UInt64, _ commits: UInt32, _ bytes: UInt64) -> RosterRowPlan.Previous {
        .replay(RosterReplay(base: base, baseSize: baseSize, commits: commits, commitBytes: bytes))
    }

    @Test(arguments: cases) func plan(_ c: Case) {
        #expect(RosterRowPlan.form(epoch: c.epoch, previous: c.previous, existing: c.existing, commitSize: c.commitSize) == c.expected)
    }

    /// Every replay the plan gives chains from the row before: the same base, one more commit, the epoch after.
    @Test func everyReplayContinuesItsChain() {
        var previous = RosterRowPlan.Previous.whole(size: 500_000)
        var wholeAt: [UInt64] = []
        for epoch in UInt64(1)...200 {
            switch RosterRowPlan.form(epoch: epoch, previous: previous, existing: false, commitSize: 1_000) {
            case .whole:
                wholeAt.append(epoch)
                previous = .whole(size: 500_000)
            case let .replay(r):
                #expect(r.epoch == epoch && r.commits <= RosterRowPlan.maxCommits)
                #expect(r.commitBytes <= RosterRowPlan.commitByteLimit(baseSize: r.baseSize))
                if case let .replay(before) = previous { #expect(r.base == before.base && r.commits == before.commits + 1) }
                previous = .replay(r)
            }
        }
        // With 1,000-byte commits on a 500,000-byte base the commit count binds: a whole row every 33 epochs.
        #expect(wholeAt == stride(from: UInt64(33), through: 200, by: 33).map { $0 })
    }

    @Test func replayRowEncoding() throws {
        let row = RosterReplay(base: 7, baseSize: 1_234_567, commits: 3, commitBytes: 999)
        #expect(row.encoded.count == RosterReplay.length)
        #expect(hexString(row.encoded) == "02" + "0000000000000007" + "000000000012d687" + "00000003" + "00000000000003e7")
        #expect(try RosterReplay.parse(row.encoded) == row)
        #expect(try RosterRow.kind(of: row.encoded) == .replay(row))
        #expect(row.epoch == 10)
        #expect(try RosterRow.kind(of: Roster().encoded) == .whole)
    }

    @Test(arguments: [
        ("trailing byte", RosterReplay(base: 1, baseSize: 2, commits: 3, commitBytes: 4).encoded + [0]),
        ("truncated", Array(RosterReplay(base: 1, baseSize: 2, commits: 3, commitBytes: 4).encoded.dropLast())),
        ("no commit", RosterReplay(base: 1, baseSize: 2, commits: 0, commitBytes: 4).encoded),
        ("more commits than a reader replays", RosterReplay(base: 1, baseSize: 2, commits: RosterReplay.maxCommits + 1, commitBytes: 4).encoded),
        ("epoch past the last", RosterReplay(base: UInt64.max, baseSize: 2, commits: 1, commitBytes: 4).encoded),
        ("unknown version", [3] + Array(RosterReplay(base: 1, baseSize: 2, commits: 3, commitBytes: 4).encoded.dropFirst())),
        ("empty", []),
    ] as [(String, [UInt8])])
    func malformedRowsAreRefused(_ name: String, _ bytes: [UInt8]) {
        #expect(throws: WireError.self, "\(name)") { _ = try RosterRow.kind(of: bytes) }
    }

    /// The roster hash made piece by piece (no storage form kept) is the hash of the storage form, across the 64 KiB
    /// pieces it gathers; with the form kept, the same.
    @Test(arguments: [0, 1, 3, 460, 1_400]) func theHashWithoutTheStorageFormIsTheHashOfIt(members: Int) throws {
        var roster = Roster()
        for k in 0..<members {
            roster.insert(Member(card: try makeTestCard(handle: "m\(k)", created: UInt64(k)), admin: k % 7 == 0))
        }
        let streamed = roster.hash
        let form = roster.encoded
        #expect(streamed == BLAKE2b.hash([Roster.hashDomain, Array(form.dropFirst())]))
        #expect(roster.hash == streamed)
        roster.forgetEncoding()
        #expect(roster.hash == streamed)
    }

    /// A log by alice with every kind of operation; each element the operations of one commit after the genesis.
    func log() throws -> (states: [RoomState], commits: [Commit]) {
        let (alice, bob, carol, dave, erin) = (try Person("alice"), try Person("bob"), try Person("carol"), try Person("dave"), try Person("erin"))
        let epochs: [(Person, [Operation])] = [
            (alice, [.create(name: "team", creator: alice.card), .add(bob.card), .add(carol.card)]),
            (alice, [.add(dave.card)]),
            (alice, [.remove(bob.id), .promote(carol.id)]),
            (carol, [.add(erin.card), .add(bob.card)]),
            (alice, [.demote(carol.id), .promote(dave.id)]),
            (alice, [.leave]),
            (dave, [.remove(erin.id)]),
        ]
        let room = RoomID.random(using: try SystemRandom())
        var states: [RoomState] = [], commits: [Commit] = []
        for (epoch, (author, ops)) in epochs.enumerated() {
            let previous = states.last
            let roster = try RoomState.apply(ops, to: previous?.roster ?? Roster(), author: author.id, genesis: previous == nil)
            let commit = Commit(roomID: room, epoch: UInt64(epoch), previousHead: previous?.head ?? Commit.genesisHead,
                                signer: author.signing, time: 10, operations: ops, rosterHash: roster.hash)
            states.append(try previous?.applying(commit) ?? RoomState.genesis(commit))
            commits.append(commit)
        }
        return (states, commits)
    }

    /// From every base epoch to every later one, replaying gives the roster the log gives (its hash is the commit's).
    @Test func replayingGivesTheRosterOfTheLog() throws {
        let (states, commits) = try log()
        for base in states.indices {
            for epoch in base..<states.count {
                let replayed = try states[base].roster.replaying(Array(commits[(base + 1)..<(epoch + 1)]), from: UInt64(base))
                #expect(replayed == states[epoch].roster, "\(base) -> \(epoch)")
                #expect(replayed.hash == commits[epoch].rosterHash)
                let view = try RosterView(states[base].roster.encoded).replaying(Array(commits[(base + 1)..<(epoch + 1)]), from: UInt64(base))
                let expected = try RosterView(states[epoch].roster.encoded)
                #expect(view.ordered.map(\.id) == expected.ordered.map(\.id) && view.ordered.map(\.admin) == expected.ordered.map(\.admin))
                #expect(view.ids == expected.ids && view.count == expected.count)
                #expect(view.hash == commits[epoch].rosterHash && expected.hash == commits[epoch].rosterHash)
                for member in states[epoch].roster.sorted {
                    #expect(try view.card(of: member.id) == member.card)
                    #expect(try view.handle(of: member.id) == member.card.handle)
                }
                for gone in states[base].roster.sortedIDs where states[epoch].roster[gone] == nil {
                    #expect(!view.contains(gone))
                    #expect(try view.card(of: gone) == nil)
                }
            }
        }
    }

    /// Random membership changes: whenever the rules accept one, replaying its commit gives the roster they give.
    /// The changes come from fixed seeds, so a run that the rules mostly refuse fails every time, never now and then
    /// (unseeded, 60 refusals in a row happened in CI).
    @Test(arguments: UInt64(1)...20) func replayAgreesWithTheRulesOnRandomChanges(seed: UInt64) throws {
        let people = try (0..<8).map { try Person("p\($0)") }
        let room = RoomID.random(using: try SystemRandom())
        var generator = SplitMix64(seed: seed)
        do {
            let creator = people[0]
            var roster = try RoomState.apply([.create(name: "r", creator: creator.card)], to: Roster(), author: creator.id, genesis: true)
            var epoch: UInt64 = 0
            var accepted = 0
            for _ in 0..<60 {
                // In the fixed order of `people`, not the roster's (ordered by ids made from random keys).
                let admins = people.filter { roster[$0.id]?.admin == true }
                guard let author = admins.randomElement(using: &generator)?.id else { break }
                // Mostly changes that fit the roster (an outsider added, a member removed, promoted or demoted),
                // some aimed at anyone, and a few leaves, so both acceptance and refusal are exercised.
                let ops: [Operation] = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                    let kind = Int.random(in: 0..<9, using: &generator)
                    let fitting = people.filter { (roster[$0.id] == nil) == (kind < 3) }
                    let pool = Int.random(in: 0..<5, using: &generator) == 0 || fitting.isEmpty ? people : fitting
                    let someone = pool[Int.random(in: 0..<pool.count, using: &generator)]
                    switch kind {
                    case 0..<3: return .add(someone.card)
                    case 3, 4: return .remove(someone.id)
                    case 5, 6: return .promote(someone.id)
                    case 7: return .demote(someone.id)
                    default: return .leave
                    }
                }
                guard let next = try? RoomState.apply(ops, to: roster, author: author, genesis: false) else { continue }
                let signer = try #require(people.first { $0.id == author })
                let commit = Commit(roomID: room, epoch: epoch + 1, previousHead: Commit.genesisHead, signer: signer.signing,
                                    time: 1, operations: ops, rosterHash: next.hash)
                #expect(try roster.replaying([commit], from: epoch) == next, "\(ops.map(\.verb))")
                #expect(try RosterView(roster.encoded).replaying([commit], from: epoch).ordered.map(\.id) == next.sortedIDs)
                (roster, epoch, accepted) = (next, epoch + 1, accepted + 1)
            }
            #expect(accepted >= 10, "seed \(seed): \(accepted) of 60 changes accepted")
        }
    }

    /// A commit that does not apply where it is replayed is refused, never half-applied.
    @Test func replayRefusesCommitsThatDoNotFit() throws {
        let (states, commits) = try log()
        // Out of order, skipping an epoch, or the genesis again.
        #expect(throws: RosterReplayError.self) { _ = try states[0].roster.replaying([commits[2]], from: 0) }
        #expect(throws: RosterReplayError.self) { _ = try states[1].roster.replaying([commits[1]], from: 1) }
        #expect(throws: RosterReplayError.self) { _ = try Roster().replaying([commits[0]], from: UInt64.max) }
        // Epoch 2 removes bob: on a roster without bob (epoch 2's own), the ids line up but the removal cannot apply.
        #expect(throws: RosterReplayError(epoch: 2)) { _ = try states[2].roster.replaying([commits[2]], from: 1) }
        #expect(throws: RosterReplayError(epoch: 2)) { _ = try RosterView(states[2].roster.encoded).replaying([commits[2]], from: 1) }
        // Epoch 3 adds bob back: on epoch 1's roster (bob still there) the add cannot apply.
        #expect(throws: RosterReplayError(epoch: 3)) { _ = try states[1].roster.replaying([commits[3]], from: 2) }
    }
}


/// SplitMix64 (Steele, Lea and Flood 2014): a small seeded generator, so random tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
