import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// Every rule of the acceptance decision (docs/PROTOCOL.md §3.3, §3.5, §5.4), one table row each: what the receiver
/// holds, the bundle it gets (real keys, real commits, really sealed and opened), and the decision it must make.
/// The receiver is carol over an in-memory view; no keyring, no SQLite.
struct BundleAcceptanceTests {
    // MARK: - People, the room, bundles

    typealias Person = TestPerson

    /// A bundle as built: its bytes, parsed, and what went into it.
    struct Built {
        let bytes: [UInt8]
        let bundle: Bundle
        let commits: [Commit]
        let key: SenderKeyInfo?
        /// What a keyring records of it once applied.
        var digest: [UInt8] { bundle.seenDigest }
        /// What keyrings recorded before the seen digest: the hash of the whole file.
        var earlierDigest: [UInt8] { BLAKE2b.hash([bytes]) }
    }

    /// The standard room "team": at epoch 0 alice (the only admin) creates it with bob, carol and dave; at epoch 1
    /// she removes dave. carol is the receiver; erin is a contact-to-be; mallory is a stranger.
    final class World {
        static let hour: UInt64 = 3600
        /// The receiver's clock.
        static let clock: UInt64 = 1_800_000_000
        let alice: Person, bob: Person, carol: Person, dave: Person, erin: Person, mallory: Person
        /// 64 people in no room, for a commit that adds more cards than the early recipients check waits for.
        let newcomers: [Person]
        let room: RoomID
        let c0: Commit, c1: Commit
        let s0: RoomState, s1: RoomState
        let random: SystemRandom
        var now: UInt64 { World.clock }

        /// A person whose card was made well before the world's clock.
        static func person(_ handle: String) throws -> Person { try Person(handle, created: 1_700_000_000) }

        init() throws {
            let alice = try Self.person("alice"), bob = try Self.person("bob"), carol = try Self.person("carol"), dave = try Self.person("dave")
            let random = try SystemRandom()
            let room = RoomID.random(using: random)
            let c0 = World.commit(alice, room: room, on: nil,
                                  [.create(name: "team", creator: alice.card), .add(bob.card), .add(carol.card), .add(dave.card)],
                                  time: World.clock - 2 * World.hour)
            let s0 = try RoomState.genesis(c0)
            let c1 = World.commit(alice, room: room, on: s0, [.remove(dave.id)], time: World.clock - World.hour)
            self.alice = alice
            self.bob = bob
            self.carol = carol
            self.dave = dave
            erin = try Self.person("erin")
            mallory = try Self.person("mallory")
            newcomers = try (0..<64).map { try Self.person(String(format: "n%02d", $0)) }
            self.random = random
            self.room = room
            self.c0 = c0
            self.c1 = c1
            self.s0 = s0
            s1 = try s0.applying(c1)
        }

        /// erin's card with its signature's last byte flipped (parsed, never verified).
        func forgedErin() throws -> IdentityCard {
            var bytes = erin.card.encoded
            bytes[bytes.count - 1] ^= 1
            return try IdentityCard.parse(bytes)
        }

        var everyone: [Person] { [alice, bob, carol, dave, erin, mallory] }
        /// The accepted log through epoch 1.
        var log: [Commit] { [c0, c1] }

        /// A commit by `author` on `state` (a genesis when nil), its roster hash computed from the operations as an
        /// honest author would (so that only the rule under test fails).
        static func commit(_ author: Person, room: RoomID, on state: RoomState?, _ ops: [Operation], epoch: UInt64? = nil,
                           previous: [UInt8]? = nil, time: UInt64) -> Commit {
            let roster = (try? RoomState.apply(ops, to: state?.roster ?? Roster(), author: author.id, genesis: state == nil)) ?? Roster()
            return Commit(roomID: room, epoch: epoch ?? state.map { $0.epoch + 1 } ?? 0,
                          previousHead: previous ?? state?.head ?? Commit.genesisHead, signer: author.signing, time: time,
                          operations: ops, rosterHash: roster.hash)
        }

        func commit(_ author: Person, on state: RoomState?, _ ops: [Operation], epoch: UInt64? = nil, previous: [UInt8]? = nil,
                    time: UInt64? = nil, room: RoomID? = nil) -> Commit {
            Self.commit(author, room: room ?? self.room, on: state, ops, epoch: epoch, previous: previous, time: time ?? now - 60)
        }

        /// Alice's next commit on epoch 1: adding erin.
        func addErin(time: UInt64? = nil) -> Commit { commit(alice, on: s1, [.add(erin.card)], time: time) }

        /// The people of `roster` but `sender`: whom an honest sender seals to.
        func rest(of roster: Roster, but sender: Person) -> [Person] {
            everyone.filter { $0.id != sender.id && roster[$0.id] != nil }
        }

        /// Seals a bundle from `sender` for `epoch` to `recipients`, carrying `commits` and (when `key`) a fresh sender
        /// key for `keyEpoch` (default `epoch`). With `signedBy`, the header still names `sender` but another key signs.
        func seal(_ sender: Person, epoch: UInt64, to recipients: [Person], commits: [Commit] = [], key: Bool = true,
                  keyEpoch: UInt64? = nil, room: RoomID? = nil, signedBy forger: Person? = nil) throws -> Built {
            let roomID = room ?? self.room
            var info: SenderKeyInfo? = nil
            let content: SecretBytes
            if key {
                let own = try OwnSenderKey.generate(roomID: roomID, owner: sender.id, epoch: keyEpoch ?? epoch, generation: 0,
                                                    random: random)
                info = own.shared.info
                content = BundleContent.encode(senderKey: own.shared, commits: commits)
            } else {
                content = BundleContent.encode(commits: commits)
            }
            let to = recipients.map { (id: $0.id, key: $0.card.sealingKey) }
            let bytes: [UInt8]
            if let forger {
                bytes = try forge(roomID: roomID, epoch: epoch, sender: sender.id, signer: forger, recipients: to, content: content)
            } else {
                bytes = try BundleSealer.seal(roomID: roomID, epoch: epoch, signer: sender.signing, recipients: to,
                                              content: content, random: random)
            }
            return Built(bytes: bytes, bundle: try Bundle.parse(bytes), commits: commits, key: info)
        }

        /// `BundleSealer.seal`, except that the header names `sender` while `signer` signs: a bundle that opens but
        /// whose signature does not verify under the sender's card.
        private func forge(roomID: RoomID, epoch: UInt64, sender: IdentityID, signer: Person,
                           recipients: [(id: IdentityID, key: SealingPublicKey)], content: borrowing SecretBytes) throws -> [UInt8] {
            let header = Bundle.header(roomID: roomID, epoch: epoch, sender: sender)
            let bundleKey = SymmetricKey.random(using: random)
            let stanzas = try BundleSealer.sealStanzas(recipients, key: bundleKey)
            let stanzaHash = BLAKE2b.hash([stanzas])
            let signature = try BundleSealer.signedMessage(header: header, stanzaHash: stanzaHash, content: content) {
                signer.signing.sign($0)
            }
            let plaintext = content.withUnsafeBytes { Array($0) } + signature
            let payload = XChaCha20Poly1305.seal(plaintext, key: bundleKey, ad: Bundle.adDomain + header + stanzaHash, random: random)
            return header + stanzas + payload
        }

        // What the receiver holds.

        /// Holds nothing but these contacts.
        func stranger(contacts: [Person] = []) -> InMemoryReceiver {
            var r = InMemoryReceiver()
            for p in contacts { r.addContact(p.card) }
            return r
        }

        /// Holds the room through `log` (default: epochs 0 and 1, joined at genesis).
        func member(_ log: [Commit]? = nil, joinedEpoch: UInt64 = 0, left: Bool = false) throws -> InMemoryReceiver {
            var r = InMemoryReceiver()
            try r.hold(log ?? self.log, joinedEpoch: joinedEpoch, left: left)
            return r
        }

        /// A commit so large (70,000 removals of unknown ids) that its bundle is over the waiting limit.
        func hugeCommit(epoch: UInt64) throws -> Commit {
            let ops = try (0..<70_000).map { _ in Operation.remove(try IdentityID(bytes: random.bytes(IdentityID.length))) }
            return Commit(roomID: room, epoch: epoch, previousHead: random.bytes(32), signer: alice.signing, time: now - 60,
                          operations: ops, rosterHash: random.bytes(32))
        }
    }

    // MARK: - The table

    /// What an applied bundle must bring.
    struct Applied {
        var epochs: [UInt64] = []
        var stateEpoch: UInt64? = nil
        var joinedEpoch: UInt64? = nil
        var storesKey = true
        var receiverIsMember = true
    }

    /// A rule failure, by its exact error.
    enum Rejection: Equatable, CustomStringConvertible {
        case bundle(BundleError)
        case log(LogError)
        case other(String)

        init(_ error: any RoomKeyError) {
            switch error {
            case let e as BundleError: self = .bundle(e)
            case let e as LogError: self = .log(e)
            default: self = .other("\(type(of: error)): \(error.message)")
            }
        }

        var description: String {
            switch self {
            case let .bundle(e): "BundleError.\(e)"
            case let .log(e): "LogError.\(e)"
            case let .other(s): s
            }
        }
    }

    /// The decision a case expects. For `pending(.waiting(_), …)` only the case `waiting` is compared, not its text.
    enum Expected {
        case apply(Applied)
        case duplicate
        case pending(BundleError, keep: Bool)
        case rejected(Rejection)
        case fork(ForkEvidence)
        /// For a room the receiver left, commits that add it back (`addsBack`).
        case addsBack
        /// Pending, kept, waiting, with this rank in the pending store.
        case waitingRanked(WaitingRank)

        static func rejected(_ e: BundleError) -> Expected { .rejected(.bundle(e)) }
        static func rejected(_ e: LogError) -> Expected { .rejected(.log(e)) }
        static let waiting = Expected.pending(.waiting(""), keep: true)
    }

    /// One row: what the receiver holds, the bundle, the expected decision.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let holds: @Sendable (World, Built) throws -> InMemoryReceiver
        let bundle: @Sendable (World) throws -> Built
        let expect: @Sendable (World, Built) -> Expected
        /// Set when the decision is known to be wrong (a production bug): the row then records a known issue.
        var knownIssue: String? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = consistency + unknownRoom + heldRoomCommits + forks + senderKeys + nextEpoch + waiting + times

    // Step 1 and 3: seen, consistency.
    static let consistency: [Case] = [
        Case(name: "the same bytes applied before are a duplicate",
             holds: { w, b in var r = try w.member(); r.markSeen(b.digest); return r },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .duplicate }),
        Case(name: "a key bundle applied before the seen digest (recorded by its whole-file hash) is a duplicate",
             holds: { w, b in var r = try w.member(); r.markSeenEarlier(b.earlierDigest, room: w.room); r.holdSenderKey(b.key!); return r },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .duplicate }),
        Case(name: "a key bundle recorded by its whole-file hash whose key retention deleted and forgot is a duplicate, not applied",
             holds: { w, b in var r = try w.member(); r.markSeenEarlier(b.earlierDigest, room: w.room); return r },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .duplicate }),
        Case(name: "a commit bundle applied before the seen digest (recorded by its whole-file hash) is a duplicate",
             holds: { w, b in var r = try w.member(); r.markSeenEarlier(b.earlierDigest, room: w.room); r.holdSenderKey(b.key!); return r },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c1]) },
             expect: { _, _ in .duplicate }),
        Case(name: "a whole-file digest is not a seen digest: recorded in seen_bundle it does not make a duplicate",
             holds: { w, b in var r = try w.member(); r.markSeen(b.earlierDigest); return r },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .apply(Applied()) }),
        Case(name: "a carried commit of another room than the header's is rejected (roomMismatch)",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let other = RoomID.random(using: w.random)
                 let c = w.commit(w.alice, on: nil, [.create(name: "other", creator: w.alice.card), .add(w.carol.card)], room: other)
                 return try w.seal(w.alice, epoch: 0, to: [w.carol], commits: [c])
             },
             expect: { w, b in .rejected(.roomMismatch(header: w.room, commit: b.commits[0].roomID)) }),
        Case(name: "commits that skip an epoch are rejected (commitsOutOfOrder)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.c0, w.addErin()]) },
             expect: { _, _ in .rejected(.commitsOutOfOrder) }),
        Case(name: "commits whose epochs wrap past 2^64 - 1 (max, then 0) are rejected (commitsOutOfOrder)",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let genesis = w.commit(w.alice, on: nil, [.create(name: "team", creator: w.alice.card), .add(w.carol.card)],
                                        time: w.now - 7200 + 5)
                 let top = w.commit(w.alice, on: w.s1, [.add(w.erin.card)], epoch: .max)
                 // The header names the top epoch: at epoch 0 a bundle carries one commit at most (refused unopened).
                 return try w.seal(w.alice, epoch: .max, to: [w.bob, w.carol], commits: [top, genesis], key: false)
             },
             expect: { _, _ in .rejected(.commitsOutOfOrder) }),
        Case(name: "a last commit for another epoch than the header's is rejected (epochMismatch)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol], commits: [w.c1]) },
             expect: { _, _ in .rejected(.epochMismatch(header: 2, content: 1)) }),
        Case(name: "a sender key for another epoch than the header's is rejected (epochMismatch)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol], keyEpoch: 0) },
             expect: { _, _ in .rejected(.epochMismatch(header: 1, content: 0)) }),
        Case(name: "a room this receiver left follows its log and keeps its sender keys, but owes no rotation",
             holds: { w, _ in try w.member(left: true) },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2, storesKey: true, receiverIsMember: false)) }),
        Case(name: "a room this receiver left, a removal of another member: applied, so a rejoin seals to the roster without it",
             holds: { w, _ in try w.member(left: true) },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.carol], commits: [w.commit(w.alice, on: w.s1, [.remove(w.bob.id)])]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2, storesKey: true, receiverIsMember: false)) }),
        Case(name: "a room this receiver left, a bundle that fails a rule (commit of a non-admin): rejected, as for any member",
             holds: { w, _ in try w.member(left: true) },
             bundle: { w in try w.seal(w.bob, epoch: 2, to: [w.alice, w.carol, w.erin], commits: [w.commit(w.bob, on: w.s1, [.add(w.erin.card)])]) },
             expect: { w, _ in .rejected(.notAdmin(w.bob.id)) }),
        Case(name: "a room this receiver left, fork evidence: a fork, marked as for any member (it must not rejoin a branch unmarked)",
             holds: { w, _ in try w.member(left: true) },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)])
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.dave], commits: [other])
             },
             expect: { w, b in .fork(ForkEvidence(epoch: 1, ours: w.c1.head, theirs: b.commits[0].head)) }),
        Case(name: "a room this receiver left, a bundle that removes it and adds it back: addsBack, nothing applied",
             holds: { w, _ in try w.member(left: true) },
             bundle: { w in
                 let out = w.commit(w.alice, on: w.s1, [.remove(w.carol.id)])
                 let back = w.commit(w.alice, on: try w.s1.applying(out), [.add(w.carol.card)])
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol], commits: w.log + [out, back])
             },
             expect: { _, _ in .addsBack }),
        Case(name: "a room this receiver left, a sender key of its epoch: kept, as a member keeps it",
             holds: { w, _ in try w.member(left: true) },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .apply(Applied(storesKey: true, receiverIsMember: false)) }),
    ]

    // Step 4 and 5: a room this receiver does not hold.
    static let unknownRoom: [Case] = [
        Case(name: "unknown room from a non-contact: pending, not kept",
             holds: { w, _ in w.stranger(contacts: [w.bob]) },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: w.log) },
             expect: { w, _ in .pending(.unknownSender(w.alice.id), keep: false) }),
        Case(name: "unknown room from a non-contact whose card a roster here holds, signed by another key: rejected (badSignature)",
             holds: { w, _ in
                 // carol holds a room "pair" with alice in it, and alice is no contact.
                 let other = RoomID.random(using: w.random)
                 var r = InMemoryReceiver()
                 try r.hold([w.commit(w.alice, on: nil, [.create(name: "pair", creator: w.alice.card), .add(w.carol.card)], room: other)])
                 return r
             },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: w.log, signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.alice.id)) }),
        Case(name: "unknown room from a contact, signed by another key: rejected (badSignature)",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: w.log, signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.alice.id)) }),
        Case(name: "unknown room from a contact, log not from genesis: pending, kept, ranked below a held room's members (PROTOCOL 5.4)",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c1]) },
             expect: { _, _ in .waitingRanked(.known) }),
        Case(name: "unknown room from a contact, log not from genesis, over 1 MiB: rejected (tooLargeToWait)",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol], commits: [w.hugeCommit(epoch: 2)]) },
             expect: { _, b in .rejected(.tooLargeToWait(size: b.bytes.count, limit: 1024 * 1024)) }),
        Case(name: "unknown room from a contact, whole log: applied, joined at genesis",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: w.log) },
             expect: { _, _ in .apply(Applied(epochs: [0, 1], stateEpoch: 1, joinedEpoch: 0)) }),
        Case(name: "unknown room from a contact, whole log adding the receiver at epoch 1: joined at 1",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in
                 let other = RoomID.random(using: w.random)
                 let g = w.commit(w.alice, on: nil, [.create(name: "pair", creator: w.alice.card), .add(w.bob.card)], room: other)
                 let add = w.commit(w.alice, on: try RoomState.genesis(g), [.add(w.carol.card)], room: other)
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [g, add], room: other)
             },
             expect: { _, _ in .apply(Applied(epochs: [0, 1], stateEpoch: 1, joinedEpoch: 1)) }),
        Case(name: "unknown room from a contact no longer in the roster: rejected (senderNotMember)",
             holds: { w, _ in w.stranger(contacts: [w.dave]) },
             bundle: { w in try w.seal(w.dave, epoch: 1, to: [w.alice, w.bob, w.carol], commits: w.log) },
             expect: { w, _ in .rejected(.senderNotMember(w.dave.id, epoch: 1)) }),
        Case(name: "unknown room from a contact, sealed to a non-member too: rejected (recipientsMismatch)",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.mallory], commits: w.log) },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [w.mallory.id], missing: [])) }),
        Case(name: "unknown room from a contact, genesis with a forged card sealed to too few: rejected (recipientsMismatch) before any card is checked",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in
                 let g = w.commit(w.alice, on: nil, [.create(name: "team", creator: w.alice.card), .add(w.carol.card), .add(try w.forgedErin())])
                 return try w.seal(w.alice, epoch: 0, to: [w.carol], commits: [g])
             },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [], missing: [w.erin.id])) }),
        Case(name: "unknown room from a contact, genesis at time 0: rejected (badTime)",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in
                 let g = w.commit(w.alice, on: nil, [.create(name: "team", creator: w.alice.card), .add(w.carol.card)], time: 0)
                 return try w.seal(w.alice, epoch: 0, to: [w.carol], commits: [g])
             },
             expect: { _, _ in .rejected(.badTime(epoch: 0, time: 0, reason: "before 2020")) }),
        Case(name: "unknown room from a contact, whole log ending in the sender's own [leave], sealed to the rest: applied",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in
                 let promote = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)])
                 let leave = w.commit(w.alice, on: try w.s1.applying(promote), [.leave])
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol], commits: w.log + [promote, leave], key: false)
             },
             expect: { _, _ in .apply(Applied(epochs: [0, 1, 2, 3], stateEpoch: 3, joinedEpoch: 0, storesKey: false)) }),
        Case(name: "unknown room from a contact, whole log ending in the sender's own [leave] with a key: rejected (keyFromLeaver)",
             holds: { w, _ in w.stranger(contacts: [w.alice]) },
             bundle: { w in
                 let promote = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)])
                 let leave = w.commit(w.alice, on: try w.s1.applying(promote), [.leave])
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol], commits: w.log + [promote, leave])
             },
             expect: { _, _ in .rejected(.keyFromLeaver) }),
    ]

    // Step 7, §3.3: new commits on a held room, only by admins.
    static let heldRoomCommits: [Case] = [
        Case(name: "a non-admin member's commit for the next epoch: rejected (notAdmin), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c = w.commit(w.bob, on: w.s1, [.add(w.erin.card)])
                 return try w.seal(w.bob, epoch: 2, to: [w.alice, w.carol, w.erin], commits: [c])
             },
             expect: { w, _ in .rejected(.notAdmin(w.bob.id)) }),
        Case(name: "a removed member's commit: rejected (authorNotMember)",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c = w.commit(w.dave, on: w.s1, [.add(w.mallory.card)])
                 return try w.seal(w.dave, epoch: 2, to: [w.alice, w.bob, w.carol, w.mallory], commits: [c])
             },
             expect: { w, _ in .rejected(.authorNotMember(w.dave.id)) }),
        Case(name: "an admin's commit for the next epoch: applied with the new state",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2)) }),
        Case(name: "an admin's add with the whole log: only the new commit is applied",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: w.log + [w.addErin()]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2)) }),
        Case(name: "two consecutive admin commits: both applied",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c2 = w.addErin()
                 let c3 = w.commit(w.alice, on: try w.s1.applying(c2), [.promote(w.bob.id)])
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol, w.erin], commits: [c2, c3])
             },
             expect: { _, _ in .apply(Applied(epochs: [2, 3], stateEpoch: 3)) }),
        Case(name: "an admin's commit signed by another key: rejected (badSignature)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()], signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.alice.id)) }),
        Case(name: "an admin's commit sealed without a new member: rejected (recipientsMismatch)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol], commits: [w.addErin()]) },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [], missing: [w.erin.id])) }),
        Case(name: "an admin's commit adding 65 with a forged card, sealed to the old roster: rejected (recipientsMismatch) before any card is checked",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let cards = w.newcomers.map(\.card) + [try w.forgedErin()]
                 return try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol], commits: [w.commit(w.alice, on: w.s1, cards.map { .add($0) })])
             },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [], missing: (w.newcomers.map(\.id) + [w.erin.id]).sorted())) }),
        Case(name: "an admin's own [leave], no sender key, sealed to the new roster: applied",
             holds: { w, _ in try w.member(w.log + [w.commit(w.alice, on: w.s1, [.promote(w.bob.id)])]) },
             bundle: { w in
                 let s2 = try w.s1.applying(w.commit(w.alice, on: w.s1, [.promote(w.bob.id)]))
                 let leave = w.commit(w.alice, on: s2, [.leave])
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol], commits: [leave], key: false)
             },
             expect: { _, _ in .apply(Applied(epochs: [3], stateEpoch: 3, storesKey: false)) }),
    ]

    // §3.5: different commits for held epochs.
    static let forks: [Case] = [
        Case(name: "a non-admin's [leave] for a held epoch (the member freezing the room): rejected (notAdmin), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let leave = w.commit(w.bob, on: w.s0, [.leave])
                 return try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol, w.dave], commits: [leave], key: false)
             },
             expect: { w, _ in .rejected(.notAdmin(w.bob.id)) }),
        Case(name: "an admin's conflicting commit sealed to exactly its roster: fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)])
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.dave], commits: [other])
             },
             expect: { w, b in .fork(ForkEvidence(epoch: 1, ours: w.c1.head, theirs: b.commits[0].head)) }),
        Case(name: "evidence in a room marked forked already (by it or by other evidence): rejected (fork), not marked again",
             holds: { w, _ in var r = try w.member(); r.markForked(w.room); return r },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)])
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.dave], commits: [other])
             },
             expect: { w, b in .rejected(.fork(epoch: 1, ours: w.c1.head, theirs: b.commits[0].head)) }),
        Case(name: "an admin's conflicting commit after the equal genesis, with the whole log: fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)])
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.dave], commits: [w.c0, other])
             },
             expect: { w, b in .fork(ForkEvidence(epoch: 1, ours: w.c1.head, theirs: b.commits[1].head)) }),
        Case(name: "the same conflicting commit sealed to the wrong recipients: rejected (recipientsMismatch), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)])
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [other])
             },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [], missing: [w.dave.id])) }),
        Case(name: "an admin's conflicting commit that does not chain to the held head: rejected (brokenChain), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)], previous: [UInt8](repeating: 7, count: 32))
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.dave], commits: [other])
             },
             expect: { _, _ in .rejected(.brokenChain(epoch: 1)) }),
        Case(name: "an admin's commit for the next epoch on another head of the held epoch: rejected (otherBranch), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let next = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)], previous: [UInt8](repeating: 7, count: 32))
                 return try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.dave], commits: [next])
             },
             expect: { w, _ in .rejected(.otherBranch(epoch: 2, author: w.alice.id)) }),
        Case(name: "a plain member's commit for the next epoch on another head: rejected (brokenChain), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let next = w.commit(w.bob, on: w.s1, [.promote(w.carol.id)], previous: [UInt8](repeating: 7, count: 32))
                 return try w.seal(w.bob, epoch: 2, to: [w.alice, w.carol, w.dave], commits: [next])
             },
             expect: { _, _ in .rejected(.brokenChain(epoch: 2)) }),
        Case(name: "a stranger's commit for the next epoch on another head: rejected (brokenChain), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let next = w.commit(w.mallory, on: w.s1, [.promote(w.carol.id)], previous: [UInt8](repeating: 7, count: 32))
                 return try w.seal(w.mallory, epoch: 2, to: [w.alice, w.bob, w.carol, w.dave], commits: [next])
             },
             expect: { _, _ in .rejected(.brokenChain(epoch: 2)) }),
        Case(name: "an admin's conflicting commit at time 0: rejected (badTime), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let other = w.commit(w.alice, on: w.s0, [.promote(w.bob.id)], time: 0)
                 return try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol, w.dave], commits: [other])
             },
             expect: { _, _ in .rejected(.badTime(epoch: 1, time: 0, reason: "before 2020")) }),
        Case(name: "a stranger's genesis for a held room id: rejected (otherGenesis), not fork",
             holds: { w, _ in try w.member([w.c0]) },
             bundle: { w in
                 let g = w.commit(w.mallory, on: nil, [.create(name: "team", creator: w.mallory.card), .add(w.carol.card)])
                 return try w.seal(w.mallory, epoch: 0, to: [w.carol], commits: [g])
             },
             expect: { w, _ in .rejected(.otherGenesis(held: w.alice.id, carried: w.mallory.id)) }),
        Case(name: "the creator's second genesis for the room: fork at epoch 0",
             holds: { w, _ in try w.member([w.c0]) },
             bundle: { w in
                 let g = w.commit(w.alice, on: nil, [.create(name: "team", creator: w.alice.card), .add(w.carol.card)])
                 return try w.seal(w.alice, epoch: 0, to: [w.carol], commits: [g])
             },
             expect: { w, b in .fork(ForkEvidence(epoch: 0, ours: w.c0.head, theirs: b.commits[0].head)) }),
        Case(name: "the creator's second genesis once the room moved on: rejected (staleConflict), not fork",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let g = w.commit(w.alice, on: nil, [.create(name: "team", creator: w.alice.card), .add(w.carol.card)])
                 return try w.seal(w.alice, epoch: 0, to: [w.carol], commits: [g])
             },
             expect: { w, _ in .rejected(.staleConflict(epoch: 0, current: UInt64(w.log.count - 1))) }),
    ]

    // Steps 7 (no new commit), 8 and 9: sender keys.
    static let senderKeys: [Case] = [
        Case(name: "a member's new key for the current epoch: applied, key stored",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .apply(Applied()) }),
        Case(name: "known commits with a new key: applied, key stored, no commit",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: w.log) },
             expect: { _, _ in .apply(Applied()) }),
        Case(name: "a key already held: rejected (noOp)",
             holds: { w, b in var r = try w.member(); r.holdSenderKey(b.key!); return r },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol]) },
             expect: { _, _ in .rejected(.noOp(epoch: 1)) }),
        Case(name: "no commit and no key: rejected (noOp)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol], key: false) },
             expect: { _, _ in .rejected(.noOp(epoch: 1)) }),
        Case(name: "only known commits and no key (a replay): rejected (noOp)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c1], key: false) },
             expect: { _, _ in .rejected(.noOp(epoch: 1)) }),
        Case(name: "a key from a non-member: rejected (senderNotMember)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.mallory, epoch: 1, to: [w.alice, w.bob, w.carol]) },
             expect: { w, _ in .rejected(.senderNotMember(w.mallory.id, epoch: 1)) }),
        Case(name: "a removed member's key for an epoch after its removal: rejected (senderNotMember)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.dave, epoch: 1, to: [w.alice, w.bob, w.carol]) },
             expect: { w, _ in .rejected(.senderNotMember(w.dave.id, epoch: 1)) }),
        Case(name: "a removed member's late key for an epoch it was in: applied",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.dave, epoch: 0, to: [w.alice, w.bob, w.carol]) },
             expect: { _, _ in .apply(Applied()) }),
        Case(name: "a key sealed to a non-member too: rejected (recipientsMismatch)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol, w.mallory]) },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [w.mallory.id], missing: [])) }),
        Case(name: "a key sealed without a member: rejected (recipientsMismatch)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.carol]) },
             expect: { w, _ in .rejected(.recipientsMismatch(extra: [], missing: [w.alice.id])) }),
        Case(name: "a member's key signed by another key: rejected (badSignature)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol], signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.bob.id)) }),
        Case(name: "a key for an epoch before this receiver joined: rejected (epochUnknown)",
             holds: { w, _ in try w.member(joinedEpoch: 1) },
             bundle: { w in try w.seal(w.bob, epoch: 0, to: [w.alice, w.carol, w.dave]) },
             expect: { _, _ in .rejected(.epochUnknown(0)) }),
    ]

    // Step 7 (first new commit past the next epoch) and Waiting.
    static let nextEpoch: [Case] = [
        Case(name: "a commit two epochs ahead (a gap): pending, kept",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)], epoch: 3, previous: w.random.bytes(32))
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol], commits: [c])
             },
             expect: { _, _ in .waiting }),
        Case(name: "a key for a later epoch: pending, kept",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 2, to: [w.alice, w.carol, w.erin]) },
             expect: { _, _ in .waiting }),
        Case(name: "exactly 64 epochs ahead: pending, kept",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)], epoch: 65, previous: w.random.bytes(32))
                 return try w.seal(w.alice, epoch: 65, to: [w.bob, w.carol], commits: [c])
             },
             expect: { _, _ in .waiting }),
        Case(name: "more than 64 epochs ahead: rejected (tooFarAhead)",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)], epoch: 66, previous: w.random.bytes(32))
                 return try w.seal(w.alice, epoch: 66, to: [w.bob, w.carol], commits: [c])
             },
             expect: { _, _ in .rejected(.tooFarAhead(epoch: 66, current: 1, limit: 64)) }),
    ]

    static let waiting: [Case] = [
        Case(name: "a waiting bundle over maxWaitingSize: rejected (tooLargeToWait)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol], commits: [w.hugeCommit(epoch: 3)]) },
             expect: { _, b in
                 .rejected(.tooLargeToWait(size: b.bytes.count, limit: BundleAcceptance<InMemoryReceiver>.maxWaitingSize(members: 3)))
             }),
        Case(name: "a waiting bundle from a member, signed by another key: rejected (badSignature)",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c = w.commit(w.alice, on: w.s1, [.promote(w.bob.id)], epoch: 3, previous: w.random.bytes(32))
                 return try w.seal(w.bob, epoch: 3, to: [w.alice, w.carol], commits: [c], signedBy: w.mallory)
             },
             expect: { w, _ in .rejected(.badSignature(w.bob.id)) }),
        Case(name: "a waiting bundle from a member of an older roster, signed by another key: rejected (badSignature)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.dave, epoch: 3, to: [w.alice, w.bob, w.carol], signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.dave.id)) }),
        Case(name: "a waiting bundle from a contact, signed by another key: rejected (badSignature)",
             holds: { w, _ in var r = try w.member(); r.addContact(w.erin.card); return r },
             bundle: { w in try w.seal(w.erin, epoch: 3, to: [w.alice, w.bob, w.carol], signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.erin.id)) }),
        Case(name: "a waiting bundle from a member removed more than 64 epochs ago, signed by another key: rejected (badSignature)",
             holds: { w, _ in
                 var log = w.log
                 var state = w.s1
                 for _ in 0..<35 {
                     let c = w.commit(w.alice, on: state, [.promote(w.bob.id)], time: w.now - 60)
                     let promoted = try state.applying(c)
                     let d = w.commit(w.alice, on: promoted, [.demote(w.bob.id)], time: w.now - 60)
                     state = try promoted.applying(d)
                     log += [c, d]
                 }
                 return try w.member(log)
             },
             bundle: { w in try w.seal(w.dave, epoch: 75, to: [w.alice, w.bob, w.carol], signedBy: w.mallory) },
             expect: { w, _ in .rejected(.badSignature(w.dave.id)) }),
        Case(name: "a waiting bundle from a sender whose card is unknown: pending, kept, ranked a stranger's",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.mallory, epoch: 3, to: [w.alice, w.bob, w.carol]) },
             expect: { _, _ in .waitingRanked(.stranger) }),
        Case(name: "a member's waiting key: pending, kept, ranked a member's",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.bob, epoch: 2, to: [w.alice, w.carol]) },
             expect: { _, _ in .waitingRanked(.member) }),
        Case(name: "a waiting bundle from a contact outside the roster: pending, kept, ranked below members'",
             holds: { w, _ in
                 var r = try w.member()
                 r.addContact(w.erin.card)
                 return r
             },
             bundle: { w in try w.seal(w.erin, epoch: 3, to: [w.alice, w.bob, w.carol]) },
             expect: { _, _ in .waitingRanked(.known) }),
        Case(name: "a waiting bundle from a member removed since (dave, epoch 1): pending, kept, ranked below members'",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.dave, epoch: 3, to: [w.alice, w.bob, w.carol]) },
             expect: { _, _ in .waitingRanked(.known) }),
    ]

    // §3.3 time rule, on the next commit (its predecessor is c1, an hour before now).
    static let times: [Case] = [
        Case(name: "a commit more than 24 h ahead of the receiver's clock: rejected (badTime)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.now + 25 * World.hour)]) },
             expect: { w, _ in
                 .rejected(.badTime(epoch: 2, time: w.now + 25 * World.hour, reason: "more than 24 hours ahead of this clock (\(w.now))"))
             }),
        Case(name: "a commit 23 h ahead of the receiver's clock: applied",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.now + 23 * World.hour)]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2)) }),
        Case(name: "a commit more than 24 h before its predecessor: rejected (badTime)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.c1.time - 25 * World.hour)]) },
             expect: { w, _ in
                 .rejected(.badTime(epoch: 2, time: w.c1.time - 25 * World.hour,
                                    reason: "more than 24 hours before its predecessor (\(w.c1.time))"))
             }),
        Case(name: "a commit 23 h before its predecessor: applied",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.c1.time - 23 * World.hour)]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2)) }),
        Case(name: "a room row that keeps its head's time: the next commit is checked against it, the head commit is not read",
             holds: { w, _ in var r = try w.member(); r.commits[.init(w.room, 1)] = nil; return r },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.c1.time - 25 * World.hour)]) },
             expect: { w, _ in
                 .rejected(.badTime(epoch: 2, time: w.c1.time - 25 * World.hour,
                                    reason: "more than 24 hours before its predecessor (\(w.c1.time))"))
             }),
        Case(name: "a room row that keeps its head's time, head commit not held: a commit 23 h before it is applied",
             holds: { w, _ in var r = try w.member(); r.commits[.init(w.room, 1)] = nil; return r },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.c1.time - 23 * World.hour)]) },
             expect: { _, _ in .apply(Applied(epochs: [2], stateEpoch: 2)) }),
        Case(name: "a room row from before the head's time was kept: the time is read from the head commit",
             holds: { w, _ in var r = try w.member(); r.forgetHeadTime(w.room); return r },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.c1.time - 25 * World.hour)]) },
             expect: { w, _ in
                 .rejected(.badTime(epoch: 2, time: w.c1.time - 25 * World.hour,
                                    reason: "more than 24 hours before its predecessor (\(w.c1.time))"))
             }),
        Case(name: "a room row from before the head's time was kept, head commit not held: rejected (epochUnknown)",
             holds: { w, _ in var r = try w.member(); r.forgetHeadTime(w.room); r.commits[.init(w.room, 1)] = nil; return r },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()]) },
             expect: { _, _ in .rejected(.epochUnknown(1)) }),
        Case(name: "a commit at time 0 (before 2020): rejected (badTime)",
             holds: { w, _ in try w.member() },
             bundle: { w in try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: 0)]) },
             expect: { _, _ in .rejected(.badTime(epoch: 2, time: 0, reason: "before 2020")) }),
        Case(name: "the second of two new commits more than 24 h before the first: rejected (badTime)",
             holds: { w, _ in try w.member() },
             bundle: { w in
                 let c2 = w.addErin(time: w.now + 20 * World.hour)
                 let c3 = w.commit(w.alice, on: try w.s1.applying(c2), [.promote(w.bob.id)], time: w.now - 5 * World.hour)
                 return try w.seal(w.alice, epoch: 3, to: [w.bob, w.carol, w.erin], commits: [c2, c3])
             },
             expect: { w, _ in
                 .rejected(.badTime(epoch: 3, time: w.now - 5 * World.hour,
                                    reason: "more than 24 hours before its predecessor (\(w.now + 20 * World.hour))"))
             }),
    ]

    // MARK: - Running the table

    @Test(arguments: BundleAcceptanceTests.cases)
    func decides(_ row: Case) throws {
        let w = try World()
        let built = try row.bundle(w)
        let view = try row.holds(w, built)
        let content = try BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing)
        let decision = try BundleAcceptance(view: view, receiver: w.carol.id, now: w.now)
            .decide(content, digest: built.digest, earlierDigest: { built.earlierDigest }, size: built.bytes.count)
        let expected = row.expect(w, built)
        if let issue = row.knownIssue {
            withKnownIssue(Comment(rawValue: issue)) { check(decision, expected) }
        } else {
            check(decision, expected)
        }
    }

    /// A bundle carries at most header epoch + 1 commits (consecutive, ending at its epoch): more are refused as the
    /// payload is opened, before any is parsed or checked.
    @Test func moreCommitsThanTheEpochAllowsAreRefusedUnparsed() throws {
        let w = try World()
        let built = try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c0, w.c1, w.c1])
        #expect(throws: WireError.oversized(what: "bundle content commit count", limit: 2, found: 3)) {
            _ = try BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing)
        }
        let fits = try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c0, w.c1])
        #expect(try BundleContent(opening: fits.bundle, recipient: w.carol.id, keyPair: w.carol.sealing).commits.count == 2)
    }

    /// Before the payload is opened: only a room not held here from a sender known nowhere here is settled (it waits,
    /// not kept, as `decide` finds it); anything else is opened.
    @Test func onlyAStrangersBundleForAnUnknownRoomIsSettledUnopened() throws {
        let w = try World()
        let built = try w.seal(w.mallory, epoch: 1, to: [w.bob, w.carol], commits: [w.c0, w.c1])
        let before = try BundleAcceptance(view: w.stranger(contacts: [w.alice]), receiver: w.carol.id, now: w.now).decideBeforeOpening(built.bundle)
        guard case let .pending(why, keep, _) = before else { Issue.record("expected pending, got \(String(describing: before))"); return }
        #expect(why == .unknownSender(w.mallory.id) && !keep)
        let content = try BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing)
        let full = try BundleAcceptance(view: w.stranger(contacts: [w.alice]), receiver: w.carol.id, now: w.now)
            .decide(content, digest: built.digest, earlierDigest: { built.earlierDigest }, size: built.bytes.count)
        guard case let .pending(fullWhy, fullKeep, _) = full else { Issue.record("expected pending, got \(full)"); return }
        #expect(fullWhy == why && fullKeep == keep)
        let fromContact = try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c0, w.c1])
        #expect(try BundleAcceptance(view: w.stranger(contacts: [w.alice]), receiver: w.carol.id, now: w.now)
            .decideBeforeOpening(fromContact.bundle) == nil)
        #expect(try BundleAcceptance(view: w.member(), receiver: w.carol.id, now: w.now).decideBeforeOpening(built.bundle) == nil)
        // For a held room, a stranger's bundle more than 64 epochs ahead (the header's epoch is the sender's to choose,
        // and bounds how many commits it may carry) is refused unopened.
        let far = try w.seal(w.mallory, epoch: 1_000_000, to: [w.bob, w.carol])
        let decided = try BundleAcceptance(view: w.member(), receiver: w.carol.id, now: w.now).decideBeforeOpening(far.bundle)
        guard case let .rejected(error)? = decided, case .tooFarAhead = error as? BundleError else {
            Issue.record("expected tooFarAhead, got \(String(describing: decided))")
            return
        }
    }

    /// Every row has a distinct name (they name the parameterized runs).
    @Test func rowNamesAreDistinct() {
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }

    /// A failing view is a storage failure: it is thrown, never turned into a decision.
    @Test func viewFailuresAreThrownNotDecided() throws {
        let w = try World()
        let built = try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol])
        var view = try w.member()
        view.failing = true
        let content = try BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing)
        #expect(throws: InMemoryReceiver.StorageFailure()) {
            _ = try BundleAcceptance(view: view, receiver: w.carol.id, now: w.now)
                .decide(content, digest: built.digest, earlierDigest: { built.earlierDigest }, size: built.bytes.count)
        }
    }

    /// The whole-file hash of keyrings before the seen digest is made only in a room that holds bundles recorded by it:
    /// hashing a large room's bundle a second time is what the seen digest saves.
    @Test func theEarlierDigestIsAskedOnlyInARoomThatHoldsEarlierRecords() throws {
        let w = try World()
        let built = try w.seal(w.bob, epoch: 1, to: [w.alice, w.carol])
        let content = try BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing)
        final class Count: @unchecked Sendable { var value = 0 }
        func decide(_ view: InMemoryReceiver) throws -> (BundleDecision, Int) {
            let asked = Count()
            let decision = try BundleAcceptance(view: view, receiver: w.carol.id, now: w.now)
                .decide(content, digest: built.digest, earlierDigest: { asked.value += 1; return built.earlierDigest }, size: built.bytes.count)
            return (decision, asked.value)
        }
        // No earlier records: a new key applies, and a held key is a no-op, without the whole-file hash.
        var held = try w.member()
        held.holdSenderKey(built.key!)
        for (view, expected) in [(try w.member(), Expected.apply(Applied())), (held, .rejected(.noOp(epoch: 1)))] {
            let (decision, asked) = try decide(view)
            check(decision, expected)
            #expect(asked == 0)
        }
        // Earlier records in another room: not asked either.
        var elsewhere = try w.member()
        elsewhere.markSeenEarlier([1, 2, 3], room: RoomID.random(using: w.random))
        #expect(try decide(elsewhere).1 == 0)
        // Earlier records in this room, not of this bundle: asked once, and the bundle applies.
        var here = try w.member()
        here.markSeenEarlier([1, 2, 3], room: w.room)
        let (decision, asked) = try decide(here)
        check(decision, .apply(Applied()))
        #expect(asked == 1)
        // Seen under the seen digest: a duplicate before anything else is asked.
        here.markSeen(built.digest)
        let (again, askedAgain) = try decide(here)
        check(again, .duplicate)
        #expect(askedAgain == 0)
    }

    func check(_ decision: BundleDecision, _ expected: Expected, sourceLocation: SourceLocation = #_sourceLocation) {
        switch (decision, expected) {
        case let (.apply(a), .apply(x)):
            #expect(a.commits.map(\.epoch) == x.epochs, sourceLocation: sourceLocation)
            #expect(a.state?.epoch == x.stateEpoch, sourceLocation: sourceLocation)
            #expect(a.joinedEpoch == x.joinedEpoch, sourceLocation: sourceLocation)
            #expect(a.storesKey == x.storesKey, sourceLocation: sourceLocation)
            #expect(a.receiverIsMember == x.receiverIsMember, sourceLocation: sourceLocation)
            // Each commit's roster, as the bundle hands them out one at a time, is the one the commit names; the new
            // state is the one the last commit produced.
            var last: (commit: Commit, roster: Roster)?
            #expect(throws: Never.self, sourceLocation: sourceLocation) {
                try a.forEachRoster { commit, roster in
                    #expect(roster.hash == commit.rosterHash, "epoch \(commit.epoch)", sourceLocation: sourceLocation)
                    last = (commit, roster)
                }
            }
            #expect(last?.commit.epoch == a.commits.last?.epoch, sourceLocation: sourceLocation)
            if let last {
                #expect(a.state?.head == last.commit.head, sourceLocation: sourceLocation)
                #expect(a.state?.roster == last.roster, sourceLocation: sourceLocation)
            }
        case (.duplicate, .duplicate), (.addsBack, .addsBack):
            break
        case let (.pending(why, keep, _), .pending(x, xkeep)):
            #expect(keep == xkeep, sourceLocation: sourceLocation)
            if case .waiting = x {
                guard case .waiting = why else {
                    Issue.record("expected pending waiting, got pending \(why)", sourceLocation: sourceLocation)
                    return
                }
            } else {
                #expect(why == x, sourceLocation: sourceLocation)
            }
        case let (.pending(why, keep, rank), .waitingRanked(x)):
            guard case .waiting = why, keep else {
                Issue.record("expected pending waiting, kept, got pending \(why), keep: \(keep)", sourceLocation: sourceLocation)
                return
            }
            #expect(rank == x, sourceLocation: sourceLocation)
        case let (.rejected(error), .rejected(x)):
            #expect(Rejection(error) == x, sourceLocation: sourceLocation)
        case let (.fork(evidence), .fork(x)):
            #expect(evidence == x, sourceLocation: sourceLocation)
        default:
            Issue.record("expected \(expected), decided \(Self.describe(decision))", sourceLocation: sourceLocation)
        }
    }

    static func describe(_ decision: BundleDecision) -> String {
        switch decision {
        case let .apply(a): "apply(epochs: \(a.commits.map(\.epoch)), storesKey: \(a.storesKey))"
        case .duplicate: "duplicate"
        case let .pending(why, keep, _): "pending(\(why), keep: \(keep))"
        case let .rejected(error): "rejected(\(Rejection(error)))"
        case let .fork(f): "fork(epoch: \(f.epoch))"
        case let .addsBack(room): "addsBack(\(room))"
        }
    }
}
