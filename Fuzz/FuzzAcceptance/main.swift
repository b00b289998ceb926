// Fuzzes the core's acceptance decision (BundleAcceptance.decide) on a fuzzed bundle against a fixed room state.
//
// The receiver is bob. He holds room "garden" at epoch 1 (epoch 0: alice creates it with bob and carol; epoch 1: alice
// promotes bob); alice and dave are his contacts; mallory is a stranger. The first input byte picks a mode:
//   0: the rest is a whole bundle file (mostly stopped by the AEAD, as it must be);
//   1: the rest is the bundle's content plaintext, sealed here by a chosen sender to chosen recipients;
//   2: the rest describes commits (authors, epochs, times, operations, honest or fuzzed chain/roster hash) that are
//      signed here, put in a content with or without a sender key, and sealed: this reaches the log and fork rules.
// bob also holds a room he left, and has seen one bundle (see `view`). Each bundle is decided twice, with and without the
// room row keeping its head commit's time, and both decisions must be the same.
// Whatever the input, decide returns a decision (the view never fails here); an applied decision is checked.
import RoomKeyCore

let now: UInt64 = 1_800_000_000
let alice = Person("alice"), bob = Person("bob"), carol = Person("carol"), dave = Person("dave"), mallory = Person("mallory")
let people = [alice, bob, carol, dave, mallory]
let room = try! RoomID(bytes: Array(seed("room").prefix(16)))
let otherRoom = try! RoomID(bytes: Array(seed("other room").prefix(16)))
let leftRoom = try! RoomID(bytes: Array(seed("left room").prefix(16)))
let rooms = [room, otherRoom, leftRoom]

func signed(_ author: Person, room: RoomID, epoch: UInt64, previous: [UInt8], time: UInt64, _ ops: [Operation],
            on roster: Roster?, rosterHash: [UInt8]? = nil) -> Commit {
    let hash = rosterHash
        ?? (try? RoomState.apply(ops, to: roster ?? Roster(), author: author.id, genesis: roster == nil))?.hash
        ?? [UInt8](repeating: 0, count: 32)
    return Commit(roomID: room, epoch: epoch, previousHead: previous, signer: author.signing, time: time, operations: ops,
                  rosterHash: hash)
}

let c0 = signed(alice, room: room, epoch: 0, previous: Commit.genesisHead, time: now - 7200,
                [.create(name: "garden", creator: alice.card), .add(bob.card), .add(carol.card)], on: nil)
let s0 = try! RoomState.genesis(c0)
let c1 = signed(alice, room: room, epoch: 1, previous: s0.head, time: now - 3600, [.promote(bob.id)], on: s0.roster)
let s1 = try! s0.applying(c1)

/// The receiver's stored state, in memory (a minimal copy of Tests/RoomKeyTestSupport/InMemoryReceiver).
struct View: ReceiverView {
    struct EpochKey: Hashable { let room: RoomID; let epoch: UInt64 }
    var commits: [EpochKey: Commit] = [:]
    var rosters: [EpochKey: Roster] = [:]
    var rooms: [RoomID: HeldRoom] = [:]
    var contacts: [IdentityID: IdentityCard] = [:]
    var seen: Set<[UInt8]> = []
    var earlier: Set<[UInt8]> = []
    var earlierRooms: Set<RoomID> = []
    var keys: Set<[UInt8]> = []

    func seenBundle(_ digest: [UInt8]) throws -> Bool { seen.contains(digest) }
    func holdsEarlierSeen(_ room: RoomID) throws -> Bool { earlierRooms.contains(room) }
    func seenEarlier(_ digest: [UInt8]) throws -> Bool { earlier.contains(digest) }
    func room(_ id: RoomID) throws -> HeldRoom? { rooms[id] }
    func commit(_ room: RoomID, epoch: UInt64) throws -> Commit? { commits[EpochKey(room: room, epoch: epoch)] }
    func roster(_ room: RoomID, epoch: UInt64) throws -> Roster? { rosters[EpochKey(room: room, epoch: epoch)] }
    func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView? {
        try rosters[EpochKey(room: room, epoch: epoch)].map { try RosterView($0.encoded) }
    }
    func contactCard(_ id: IdentityID) throws -> IdentityCard? { contacts[id] }
    func memberSigningKey(_ id: IdentityID) throws -> SigningPublicKey? { rosters.values.lazy.compactMap { $0[id]?.card.signingKey }.first }
    func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool { keys.contains(key.roomID.bytes + key.owner.bytes + key.keyID) }
}

/// The bundle the view records as applied: the one mode 2 builds from these bytes (a sender key from alice, no commit).
let seenBytes: [UInt8] = {
    var input = Takes([0x30, 0x00, 0x00])
    return structured(&input)
}()

let view: View = {
    var v = View()
    for (c, s) in [(c0, s0), (c1, s1)] {
        v.commits[View.EpochKey(room: room, epoch: c.epoch)] = c
        v.rosters[View.EpochKey(room: room, epoch: c.epoch)] = s.roster
    }
    v.rooms[room] = HeldRoom(roomID: room, name: "garden", epoch: 1, head: s1.head, joinedEpoch: 0, left: false)
    v.rooms[leftRoom] = HeldRoom(roomID: leftRoom, name: "old", epoch: 0, head: Commit.genesisHead, joinedEpoch: 0, left: true)
    // One bundle applied before: the one mode 2 builds from these bytes (a sender key from alice, no commit).
    v.seen.insert(try! Bundle.parse(seenBytes).seenDigest)
    // The same bundle also as a keyring before the seen digest recorded it (whole-file hash), in the room it is for.
    v.earlier.insert(BLAKE2b.hash([seenBytes]))
    v.earlierRooms.insert(room)
    v.contacts[alice.id] = alice.card
    v.contacts[dave.id] = dave.card
    // A sender key bob holds already: alice's for epoch 1 made from the fixed seed below.
    let held = SenderKeyInfo.keyID(for: try! SigningKeyPair.fromSeed(secret(seed("sender-key/alice"))).publicKey)
    v.keys.insert(room.bytes + alice.id.bytes + held)
    return v
}()

/// The same view, with the room row keeping its head commit's time (as rows written since `v14-head-time` do): every
/// decision must be the one the view without it makes from the head commit's time.
let viewKeepingTime: View = {
    var v = view
    v.rooms[room] = HeldRoom(roomID: room, name: "garden", epoch: 1, head: s1.head, joinedEpoch: 0, left: false,
                             headTime: s1.headTime)
    return v
}()

func person(_ b: UInt8) -> Person { people[Int(b) % people.count] }

/// A decision as comparable text: what an applied one brings (not `String(describing:)` of its rosters, whose
/// dictionaries list members in an order that differs from one instance to the next), else its description.
func summary(_ d: BundleDecision) -> String {
    guard case let .apply(a) = d else { return String(describing: d) }
    let state = a.state.map { "\($0.epoch) \($0.head) \(String(describing: $0.headTime)) \($0.roster.hash) \($0.roster.sortedIDs)" }
    var commits: [String] = []
    try? a.forEachRoster { commit, roster in commits.append("\(commit.epoch) \(commit.head) \(roster.hash)") }
    return "apply \(a.roomID) \(state ?? "-") \(commits) \(String(describing: a.joinedEpoch)) \(a.storesKey) \(a.receiverIsMember)"
}

/// Seals `content` from `sender` to `recipients` (deterministically).
func seal(_ content: borrowing SecretBytes, sender: Person, room: RoomID, epoch: UInt64, to recipients: [Person]) -> [UInt8] {
    let random = try! SeededRandom(seed: seed("random"))
    return try! BundleSealer.sealForKnownAnswerTests(roomID: room, epoch: epoch, signer: sender.signing,
                                                    recipients: recipients.map { ($0.id, $0.card.sealingKey) },
                                                    content: content, random: random,
                                                    stanzaSeeds: recipients.indices.map { seed("stanza \($0)") })
}

/// Recipients from a bit mask; bob always (else he could not open it), in mask order.
func recipients(_ mask: UInt8, sender: Person) -> [Person] {
    var out = [bob]
    for (i, p) in people.enumerated() where p !== bob && mask & (1 << i) != 0 { out.append(p) }
    if mask & 0x80 != 0 { out.reverse() }
    return out
}

func operation(_ t: inout Takes) -> Operation {
    let tag = t.u8()
    let who = person(t.u8())
    switch tag % 7 {
    case 0: return .create(name: "garden", creator: who.card)
    case 1: return .add(who.card)
    case 2: return .remove(who.id)
    case 3: return .promote(who.id)
    case 4: return .demote(who.id)
    case 5: return .leave
    default:
        // A card with a changed key or handle for the same person is not possible without the key: use a new card.
        return .add(try! IdentityCard(handle: "x\(tag)", signer: who.signing, sealingKey: who.card.sealingKey, created: UInt64(tag)))
    }
}

/// Mode 2: commits described by the input.
func structured(_ t: inout Takes) -> [UInt8] {
    let flags = t.u8()
    let sender = person(t.u8())
    let roomID = flags & 0x41 == 0x41 ? leftRoom : flags & 1 == 0 ? room : otherRoom
    // Where the branch starts: after epoch 1 (next commit 2), after epoch 0 (a rival epoch 1), or a genesis.
    var state: RoomState? = nil
    switch (flags >> 1) % 3 {
    case 0: state = s1
    case 1: state = s0
    default: state = nil
    }
    var epoch = state.map { $0.epoch + 1 } ?? 0
    var head = state?.head ?? Commit.genesisHead
    var roster = state?.roster
    var time = now - 1800
    var commits: [Commit] = []
    for _ in 0..<(Int(t.u8()) % 4) {
        let control = t.u8()
        let author = person(t.u8())
        var ops: [Operation] = []
        for _ in 0..<(Int(t.u8()) % 4) { ops.append(operation(&t)) }
        if control & 1 != 0 { epoch = epoch &+ UInt64(t.u8()) &- 2 }
        if control & 2 != 0 { time = time &+ UInt64(t.u16()) &* 60 &- 2_000_000 }
        if control & 4 != 0 { let h = t.take(32); head = h + [UInt8](repeating: 0, count: 32 - h.count) }
        let hash: [UInt8]? = control & 8 != 0 ? t.take(32) : nil
        let commit = signed(author, room: roomID, epoch: epoch, previous: head,
                            time: time, ops, on: roster, rosterHash: hash.map { $0 + [UInt8](repeating: 0, count: 32 - $0.count) })
        commits.append(commit)
        roster = (try? RoomState.apply(ops, to: roster ?? Roster(), author: author.id, genesis: roster == nil)) ?? roster
        head = commit.head
        epoch = epoch &+ 1
    }
    let bundleEpoch = commits.last?.epoch ?? (flags & 0x40 != 0 ? UInt64(t.u8()) : 1)
    let content: SecretBytes
    if flags & 0x10 != 0 {
        let keySeed = flags & 0x20 != 0 ? seed("sender-key/\(sender.card.handle)") : seed("sender-key/fresh")
        let own = OwnSenderKey.make(roomID: roomID, owner: sender.id, epoch: bundleEpoch, generation: 0,
                                    signing: try! SigningKeyPair.fromSeed(secret(keySeed)),
                                    random: try! SeededRandom(seed: seed("chain")))
        content = BundleContent.encode(senderKey: own.shared, commits: commits)
    } else {
        content = BundleContent.encode(commits: commits)
    }
    let to = recipients(t.u8(), sender: sender)
    return seal(content, sender: flags & 0x80 != 0 ? person(t.u8()) : sender, room: roomID, epoch: bundleEpoch, to: to)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var t = Takes(input(data, size))
    let bytes: [UInt8]
    switch t.u8() % 3 {
    case 0:
        bytes = t.rest()
    case 1:
        let sender = person(t.u8())
        let roomID = rooms[Int(t.u8()) % rooms.count]
        let epoch = UInt64(t.u8())
        let to = recipients(t.u8(), sender: sender)
        bytes = seal(secret(t.rest()), sender: sender, room: roomID, epoch: epoch, to: to)
    default:
        bytes = structured(&t)
    }
    guard let bundle = try? Bundle.parse(bytes),
          let content = try? BundleContent(opening: bundle, recipient: bob.id, keyPair: bob.sealing) else { return 0 }
    let decider = BundleAcceptance(view: view, receiver: bob.id, now: now)
    let decision: BundleDecision
    do {
        decision = try decider.decide(content, digest: bundle.seenDigest, earlierDigest: { BLAKE2b.hash([bytes]) }, size: bytes.count)
    } catch {
        violated("the view never fails, but decide threw \(error)")
    }
    let kept = try? BundleAcceptance(view: viewKeepingTime, receiver: bob.id, now: now)
        .decide(content, digest: bundle.seenDigest, earlierDigest: { BLAKE2b.hash([bytes]) }, size: bytes.count)
    require(kept.map(summary) == summary(decision), "the head's time kept in the row changed the decision")
    #if FUZZ_DIAG
    // swiftc -D FUZZ_DIAG: print each decision (to see which rules a corpus reaches).
    print("decision:", String(describing: decision).prefix(60))
    #endif
    switch decision {
    case let .apply(accepted):
        require(accepted.roomID == bundle.roomID, "applied to another room")
        let signer = people.first { $0.id == bundle.sender }
        require(signer.map { (try? content.verify(signer: $0.signing.publicKey)) != nil } ?? false,
                "applied a bundle its sender did not sign")
        if let state = accepted.state {
            require(state.roster.hash == accepted.commits.last?.rosterHash, "state does not match the last commit")
            for (a, b) in zip(accepted.commits, accepted.commits.dropFirst()) {
                require(b.epoch == a.epoch + 1 && b.previousHead == a.head, "applied commits do not chain")
            }
            // Each roster the bundle hands out to be stored is the one its commit names.
            var rostersMatch = true
            do { try accepted.forEachRoster { commit, roster in rostersMatch = rostersMatch && roster.hash == commit.rosterHash } }
            catch { rostersMatch = false }
            require(rostersMatch, "a stored roster is not the one its commit names")
            if bundle.roomID == room { require(accepted.commits.first?.previousHead == s1.head, "applied past a gap") }
        }
    case .fork(let evidence):
        require(bundle.roomID == room && evidence.epoch <= 1 && evidence.ours != evidence.theirs, "fork evidence is wrong")
    case .duplicate:
        // Only the bytes recorded as applied (by seen digest, and by whole-file hash) are a duplicate.
        require(bytes == seenBytes, "a duplicate of bytes never applied")
    case .pending, .rejected, .addsBack:
        break
    }
    return 0
}
