import Foundation
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

// Known-answer vectors for roomkey's own formats (fixtures/vectors/, see its README): a card, two commits, each kind
// of bundle and two messages, made from fixed seeds and fixed "random" bytes. Each test rebuilds its object byte for
// byte from the inputs in its file, compares every output, then reads the expected bytes back with the production
// parsers and opens or verifies them as a receiver would.
//
// Regenerating (only when a format changes on purpose): `ROOMKEY_WRITE_VECTORS=1 swift test --filter KnownAnswer`
// rewrites the files from the same code, with every byte input made up as BLAKE2b("roomkey-vectors/" || label) (see
// `VectorFile.input`) and the text and number inputs from the defaults below.

/// One vector file: its inputs are read from the file, or made up and written when regenerating.
final class VectorFile {
    static let generating = ProcessInfo.processInfo.environment["ROOMKEY_WRITE_VECTORS"] != nil

    let name: String
    private let header: [String]
    private let fixture: KeyValueFixture?
    private let write: Bool
    private(set) var inputs: [(String, String)] = []
    private(set) var outputs: [(String, String)] = []

    /// The file `fixtures/vectors/<name>`; `header` is its comment when regenerating.
    init(_ name: String, header: [String]) throws {
        self.name = name
        self.header = header
        self.write = Self.generating
        self.fixture = Self.generating ? nil : try KeyValueFixture("vectors/" + name)
    }

    /// A file that is neither read nor written: builds values that another file takes as inputs.
    private init(scratch: Void) {
        name = "scratch"
        header = []
        write = false
        fixture = nil
    }

    static func scratch() -> VectorFile { VectorFile(scratch: ()) }

    private func record(_ key: String, _ value: String, output: Bool) {
        if output { outputs.append((key, value)) } else { inputs.append((key, value)) }
    }

    /// A byte input; when generating, `make()` gives its value.
    func input(_ key: String, _ make: () throws -> [UInt8]) throws -> [UInt8] {
        let value = try fixture.map { try $0.hex(key) } ?? make()
        record(key, hexString(value), output: false)
        return value
    }

    /// A made-up byte input of `count` bytes: when generating, BLAKE2b-`count`("roomkey-vectors/" || label), the label
    /// being `<file name>/<key>` unless given (identities and the room id use one label in every file).
    func input(_ key: String, count: Int, label: String? = nil) throws -> [UInt8] {
        let label = label ?? "\(name)/\(key)"
        let value = try input(key) { BLAKE2b.hash([Array("roomkey-vectors/\(label)".utf8)], length: count) }
        #expect(value.count == count, "\(name): \(key) should be \(count) bytes")
        return value
    }

    /// A text input (UTF-8, as written).
    func text(_ key: String, _ make: String) throws -> String {
        let value = try fixture.map { try $0.string(key) } ?? make
        record(key, value, output: false)
        return value
    }

    /// An unsigned integer input.
    func uint(_ key: String, _ make: UInt64) throws -> UInt64 {
        let value = try fixture.map { try $0.uint64(key) } ?? make
        record(key, String(value), output: false)
        return value
    }

    /// An expected value: compared with the file, or recorded when generating.
    func expect(_ key: String, _ value: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        try expect(key, text: hexString(value), sourceLocation: sourceLocation)
    }

    /// An expected text value.
    func expect(_ key: String, text value: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if let fixture { #expect(try fixture.string(key) == value, "\(name): \(key)", sourceLocation: sourceLocation) }
        record(key, value, output: true)
    }

    /// An expected multi-line text, one key per line: `key.1`, `key.2`, ...
    func expect(_ key: String, lines value: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lines = value.split(separator: "\n").map(String.init)
        if let fixture {
            let stored = (1...).lazy.map { fixture.values["\(key).\($0)"] }.prefix { $0 != nil }.compactMap { $0 }
            #expect(Array(stored) == lines, "\(name): \(key)", sourceLocation: sourceLocation)
        }
        for (i, line) in lines.enumerated() { record("\(key).\(i + 1)", line, output: true) }
    }

    /// The bytes of input or output `key` (from the file, or the value just recorded when generating).
    func expected(_ key: String) throws -> [UInt8] {
        if let fixture { return try fixture.hex(key) }
        guard let v = (inputs + outputs).first(where: { $0.0 == key }), let bytes = hexDecode(v.1) else {
            throw FixtureError.missingKey(file: name, key: key)
        }
        return bytes
    }

    /// The text of input or output `key`.
    func expectedText(_ key: String) throws -> String {
        if let fixture { return try fixture.string(key) }
        guard let v = (inputs + outputs).first(where: { $0.0 == key }) else { throw FixtureError.missingKey(file: name, key: key) }
        return v.1
    }

    /// Checks that the file holds nothing the test did not use, and writes it when generating.
    func finish() throws {
        let used = inputs.map(\.0) + outputs.map(\.0)
        #expect(Set(used).count == used.count, "\(name): a key is used twice")
        if let fixture { #expect(Set(fixture.values.keys) == Set(used), "\(name): keys differ from the test's") }
        guard write else { return }
        var text = header.map { $0.isEmpty ? "#" : "# " + $0 }.joined(separator: "\n") + "\n"
        text += "#\n# Format: key = value; bytes in lowercase hex, text as UTF-8, integers in decimal.\n"
        text += "\n# Inputs\n" + inputs.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
        text += "\n# Expected\n" + outputs.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: fixtureURL("vectors/" + name))
    }
}

/// Hands out fixed bytes, one draw at a time, in the order the production code draws them; a draw of another length
/// than the tape's next one, or one past its end, is recorded as a failure (and filled with zeros).
final class TapeRandom: RandomSource {
    private var draws: [[UInt8]]
    private(set) var failed = false

    init(_ draws: [[UInt8]]) { self.draws = draws }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let next = draws.first, next.count == buffer.count else {
            failed = true
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            return
        }
        draws.removeFirst()
        buffer.copyBytes(from: next)
    }

    /// True when every draw was made, with the right lengths.
    var finished: Bool { !failed && draws.isEmpty }
}

/// An identity made from fixed seeds: `<who>.handle`, `<who>.signing_seed`, `<who>.sealing_seed`, `<who>.created`.
final class VectorIdentity {
    let signing: SigningKeyPair
    let sealing: SealingKeyPair
    let card: IdentityCard
    var id: IdentityID { card.id }

    static let defaults: [String: (handle: String, created: UInt64)] = [
        "alice": ("alice", 1_767_225_600), // 2026-01-01T00:00:00Z
        "bob": ("bob", 1_767_312_000),
        "zoe": ("zoë", 1_767_398_400), // U+00EB: a handle with a two-byte character
    ]

    init(_ f: VectorFile, _ who: String) throws {
        let d = Self.defaults[who]!
        let handle = try f.text("\(who).handle", d.handle)
        let signingSeed = try f.input("\(who).signing_seed", count: 32, label: "\(who).signing_seed")
        let sealingSeed = try f.input("\(who).sealing_seed", count: 32, label: "\(who).sealing_seed")
        let created = try f.uint("\(who).created", d.created)
        signing = try SigningKeyPair.fromSeed(makeSecret(signingSeed))
        sealing = try SealingKeyPair.fromSeed(makeSecret(sealingSeed))
        card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: created)
    }
}

@Suite(.serialized)
struct KnownAnswerTests {
    // MARK: builders (shared by the checks and by the files that take another vector's output as input)

    /// The genesis commit: alice creates "garden" and adds bob.
    @discardableResult
    static func genesis(_ f: VectorFile) throws -> Commit {
        let alice = try VectorIdentity(f, "alice")
        let bob = try VectorIdentity(f, "bob")
        let room = try RoomID(bytes: f.input("room_id", count: 16, label: "room_id"))
        let name = try f.text("room_name", "garden")
        let time = try f.uint("time", 1_767_484_800)
        let ops: [RoomKeyCore.Operation] = [.create(name: name, creator: alice.card), .add(bob.card)]
        let roster = try RoomState.apply(ops, to: Roster(), author: alice.id, genesis: true)
        try f.expect("alice.card", alice.card.encoded)
        try f.expect("bob.card", bob.card.encoded)
        try f.expect("roster_hash", roster.hash)
        let commit = Commit(roomID: room, epoch: 0, previousHead: Commit.genesisHead, signer: alice.signing, time: time,
                            operations: ops, rosterHash: roster.hash)
        try f.expect("commit", commit.encoded)
        try f.expect("head", commit.head)
        return commit
    }

    /// Epoch 1: alice adds zoë and promotes bob.
    @discardableResult
    static func addCommit(_ f: VectorFile) throws -> Commit {
        let log0 = try Commit.parse(f.input("log.0") { try genesis(.scratch()).encoded })
        let state = try RoomState.genesis(log0)
        let alice = try VectorIdentity(f, "alice")
        let zoe = try VectorIdentity(f, "zoe")
        #expect(state.roster[alice.id]?.card == alice.card)
        let bob = try #require(state.roster.sorted.first { $0.card.handle == "bob" })
        let time = try f.uint("time", 1_767_571_200)
        let ops: [RoomKeyCore.Operation] = [.add(zoe.card), .promote(bob.id)]
        let roster = try RoomState.apply(ops, to: state.roster, author: alice.id, genesis: false)
        try f.expect("zoe.card", zoe.card.encoded)
        try f.expect("roster_hash", roster.hash)
        let commit = Commit(roomID: state.roomID, epoch: state.epoch + 1, previousHead: state.head, signer: alice.signing,
                        time: time, operations: ops, rosterHash: roster.hash)
        try f.expect("commit", commit.encoded)
        try f.expect("head", commit.head)
        return commit
    }

    /// Epoch 2: alice leaves (her bundle for it carries no sender key).
    @discardableResult
    static func leaveCommit(_ f: VectorFile, state: RoomState, alice: borrowing SigningKeyPair) throws -> Commit {
        let time = try f.uint("time", 1_767_657_600)
        let author = IdentityID(signingKey: alice.publicKey)
        let roster = try RoomState.apply([.leave], to: state.roster, author: author, genesis: false)
        try f.expect("roster_hash", roster.hash)
        let commit = Commit(roomID: state.roomID, epoch: state.epoch + 1, previousHead: state.head, signer: alice,
                            time: time, operations: [.leave], rosterHash: roster.hash)
        try f.expect("commit", commit.encoded)
        try f.expect("head", commit.head)
        return commit
    }

    /// The log through epoch `epoch`, read as inputs `log.0`, `log.1`, ...
    static func log(_ f: VectorFile, through epoch: Int) throws -> [Commit] {
        let makers: [() throws -> [UInt8]] = [{ try genesis(.scratch()).encoded }, { try addCommit(.scratch()).encoded }]
        return try (0...epoch).map { i in try Commit.parse(f.input("log.\(i)", makers[i])) }
    }

    /// Builds a bundle from `sender` to everyone else in `roster`, carrying `commits` and, when `keyGeneration` is set,
    /// a new sender key; checks it, then opens it as each recipient and verifies it.
    static func bundle(_ f: VectorFile, roomID: RoomID, epoch: UInt64, roster: Roster, sender: VectorIdentity,
                       recipients: [VectorIdentity], commits: [Commit], keyGeneration: UInt32?) throws {
        let byID = Dictionary(uniqueKeysWithValues: recipients.map { ($0.id, $0) })
        let stanzaIDs = roster.sortedIDs.filter { $0 != sender.id }
        #expect(Set(stanzaIDs) == Set(byID.keys))
        for id in stanzaIDs { #expect(roster[id]?.card == byID[id]?.card) }
        let targets = stanzaIDs.map { (id: $0, key: roster[$0]!.card.sealingKey) }

        var tape: [[UInt8]] = []
        var ownInfo: SenderKeyInfo? = nil
        var signingSeed: [UInt8] = []
        if let generation = keyGeneration {
            #expect(try f.uint("sender_key.generation", UInt64(generation)) == UInt64(generation))
            signingSeed = try f.input("sender_key.signing_seed", count: 32)
            tape.append(try f.input("sender_key.chain_key", count: 32))
        }
        tape.append(try f.input("bundle_key", count: 32))
        tape.append(try f.input("payload_nonce", count: 24))
        var seeds: [[UInt8]] = []
        for (i, id) in stanzaIDs.enumerated() {
            seeds.append(try f.input("stanza.\(i).ephemeral_seed", count: 32))
            try f.expect("stanza.\(i).recipient", text: byID[id]!.card.handle)
        }
        let random = TapeRandom(tape)
        let content = try Self.content(f, roomID: roomID, epoch: epoch, sender: sender.id, commits: commits,
                                       keyGeneration: keyGeneration, signingSeed: signingSeed, random: random, info: &ownInfo)
        try f.expect("content", bytesOf(content))
        let bytes = try BundleSealer.sealForKnownAnswerTests(roomID: roomID, epoch: epoch, signer: sender.signing,
                                                             recipients: targets, content: content, random: random,
                                                             stanzaSeeds: seeds)
        #expect(random.finished, "\(f.name): the random draws differ from the tape")
        try f.expect("bundle", bytes)

        // Read the expected bundle back and open it as each recipient, with the production code.
        let parsed = try Bundle.parse(try f.expected("bundle"))
        // What a receiving keyring records of it (PROTOCOL.md §5.4 step 1), before its keyed tag.
        try f.expect("seen_digest", parsed.seenDigest)
        #expect(parsed.roomID == roomID && parsed.epoch == epoch && parsed.sender == sender.id)
        #expect(parsed.recipients == stanzaIDs)
        for id in stanzaIDs {
            let recipient = byID[id]!
            // crypto_box_seal_open opens the deterministic stanza and gives the bundle key.
            let sealed = try #require(parsed.sealedKey(for: id))
            #expect(bytesOf(try recipient.sealing.open(sealed)) == tape[tape.count - 2])
            let opened = try BundleContent(opening: parsed, recipient: id, keyPair: recipient.sealing)
            try opened.verify(signer: sender.signing.publicKey)
            #expect(opened.commits == commits)
            #expect(bytesOf(opened.content) == bytesOf(content))
            #expect(opened.senderKeyInfo == ownInfo)
            if keyGeneration == nil { #expect(opened.senderKeyInfo == nil) }
        }
        // Someone without a stanza cannot open it, and another signer does not verify.
        let stranger = try SealingKeyPair.fromSeed(makeSecret([UInt8](repeating: 7, count: 32)))
        #expect(throws: CryptoError.self) { _ = try BundleContent(opening: parsed, recipient: sender.id, keyPair: stranger) }
        if let first = stanzaIDs.first {
            let opened = try BundleContent(opening: parsed, recipient: first, keyPair: byID[first]!.sealing)
            #expect(throws: CryptoError.self) { try opened.verify(signer: byID[first]!.signing.publicKey) }
        }
    }

    /// The bundle content: `commits` and, when `keyGeneration` is set, a new sender key made from `signingSeed` and
    /// a chain key drawn from `random` (its description goes to `info`).
    static func content(_ f: VectorFile, roomID: RoomID, epoch: UInt64, sender: IdentityID, commits: [Commit],
                        keyGeneration: UInt32?, signingSeed: [UInt8], random: TapeRandom,
                        info: inout SenderKeyInfo?) throws -> SecretBytes {
        guard let generation = keyGeneration else { return BundleContent.encode(commits: commits) }
        let key = OwnSenderKey.make(roomID: roomID, owner: sender, epoch: epoch, generation: generation,
                                    signing: try SigningKeyPair.fromSeed(makeSecret(signingSeed)), random: random)
        try f.expect("sender_key.signing_public_key", key.signing.publicKey.bytes)
        try f.expect("sender_key.key_id", key.shared.info.keyID)
        info = key.shared.info
        return BundleContent.encode(senderKey: key.shared, commits: commits)
    }

    // MARK: the vectors

    @Test func card() throws {
        let f = try VectorFile("card-v1.txt", header: [
            "roomkey known-answer vector: an identity card, version 1 (PROTOCOL.md §1.3).",
            "The identity key is crypto_sign_seed_keypair(signing_seed), the sealing key crypto_box_seed_keypair(sealing_seed).",
            "Expected: the public keys, the identity id (§1.1), the binary card and its text form.",
        ])
        let alice = try VectorIdentity(f, "alice")
        try f.expect("alice.signing_public_key", alice.signing.publicKey.bytes)
        try f.expect("alice.sealing_public_key", alice.sealing.publicKey.bytes)
        try f.expect("alice.id", alice.id.bytes)
        try f.expect("card", alice.card.encoded)
        try f.expect("card_text", text: alice.card.text)

        let parsed = try IdentityCard.parse(f.expected("card"))
        try parsed.verify()
        #expect(parsed == alice.card)
        #expect(parsed.handle == "alice" && parsed.created == 1_767_225_600)
        #expect(parsed.id.bytes == (try f.expected("alice.id")))
        let fromText = try IdentityCard.verified(text: alice.card.text)
        #expect(fromText.encoded == (try f.expected("card")))
        #expect(throws: CryptoError.self) { try IdentityCard.parse(flippingBit(try f.expected("card"), at: 10)).verify() }
        try f.finish()
    }

    @Test func genesisCommit() throws {
        let f = try VectorFile("commit-genesis.txt", header: [
            "roomkey known-answer vector: a genesis commit, version 1 (PROTOCOL.md §3.2).",
            "alice creates the room room_name with room_id at time and adds bob: operations [create(room_name, alice's card), add(bob's card)].",
            "Identities as in card-v1.txt. Expected: both cards, the roster hash (§3.4), the commit and the head after it.",
        ])
        let commit = try Self.genesis(f)
        let parsed = try Commit.parse(f.expected("commit"))
        #expect(parsed == commit)
        let state = try RoomState.genesis(parsed)
        #expect(state.head == (try f.expected("head")))
        #expect(state.roster.hash == (try f.expected("roster_hash")))
        #expect(state.name == "garden" && state.epoch == 0 && state.roster.count == 2 && state.roster.adminCount == 1)
        try f.finish()
    }

    @Test func addMemberCommit() throws {
        let f = try VectorFile("commit-add.txt", header: [
            "roomkey known-answer vector: a commit at epoch 1, version 1 (PROTOCOL.md §3.2).",
            "After the genesis commit log.0 (commit-genesis.txt), alice adds zoë and promotes bob: operations [add(zoë's card), promote(bob)].",
            "Expected: zoë's card, the roster hash, the commit and the head after it.",
        ])
        let commit = try Self.addCommit(f)
        let parsed = try Commit.parse(f.expected("commit"))
        #expect(parsed == commit)
        let before = try RoomState.genesis(try Commit.parse(f.expected("log.0")))
        let state = try before.applying(parsed)
        #expect(state.epoch == 1)
        #expect(state.head == (try f.expected("head")))
        #expect(state.roster.hash == (try f.expected("roster_hash")))
        #expect(state.roster.count == 3 && state.roster.adminCount == 2)
        try f.finish()
    }

    @Test func genesisBundle() throws {
        let f = try VectorFile("bundle-genesis.txt", header: [
            "roomkey known-answer vector: the genesis bundle, version 1 (PROTOCOL.md §5): commits and a sender key.",
            "alice sends the whole log (the genesis commit log.0) with her new sender key for epoch 0, generation 0,",
            "sealed to the roster minus herself (bob). The random draws, in order: sender_key.chain_key (32),",
            "bundle_key (32), payload_nonce (24). The sender key's signing key is crypto_sign_seed_keypair(sender_key.signing_seed).",
            "Stanza i's sealed box is crypto_box_seal(bundle_key, recipient) with its ephemeral key pair",
            "crypto_box_seed_keypair(stanza.i.ephemeral_seed), so nonce = BLAKE2b-192(epk || recipient pk).",
            "Expected: the sender key's public key and id, the content (§5.2, it holds the chain key) and the bundle.",
        ])
        let log = try Self.log(f, through: 0)
        let state = try RoomState.replay(log)
        let alice = try VectorIdentity(f, "alice")
        let bob = try VectorIdentity(f, "bob")
        try Self.bundle(f, roomID: state.roomID, epoch: state.epoch, roster: state.roster, sender: alice, recipients: [bob],
                        commits: log, keyGeneration: 0)
        try f.finish()
    }

    @Test func senderKeyBundle() throws {
        let f = try VectorFile("bundle-sender-key.txt", header: [
            "roomkey known-answer vector: a bundle with a sender key and no commit, version 1 (PROTOCOL.md §5).",
            "After applying log.0 and log.1 (commit-add.txt), bob sends his new sender key for epoch 1, generation 0,",
            "sealed to the roster minus himself (alice and zoë, in increasing id order).",
            "Random draws and stanza seeds as in bundle-genesis.txt.",
        ])
        let log = try Self.log(f, through: 1)
        let state = try RoomState.replay(log)
        let alice = try VectorIdentity(f, "alice")
        let bob = try VectorIdentity(f, "bob")
        let zoe = try VectorIdentity(f, "zoe")
        try Self.bundle(f, roomID: state.roomID, epoch: state.epoch, roster: state.roster, sender: bob, recipients: [alice, zoe],
                        commits: [], keyGeneration: 0)
        try f.finish()
    }

    @Test func commitWithoutKeyBundle() throws {
        let f = try VectorFile("bundle-commit-nokey.txt", header: [
            "roomkey known-answer vector: a bundle with a commit and no sender key, version 1 (PROTOCOL.md §5).",
            "After log.0 and log.1, alice (an admin) commits [leave] at epoch 2 and time; the bundle carries that commit",
            "alone and no sender key, sealed to the new roster (bob and zoë, in increasing id order).",
            "The random draws, in order: bundle_key (32), payload_nonce (24); stanza seeds as in bundle-genesis.txt.",
            "Expected: the roster hash, the leave commit and its head, the content and the bundle.",
        ])
        let log = try Self.log(f, through: 1)
        let state = try RoomState.replay(log)
        let alice = try VectorIdentity(f, "alice")
        let bob = try VectorIdentity(f, "bob")
        let zoe = try VectorIdentity(f, "zoe")
        let leave = try Self.leaveCommit(f, state: state, alice: alice.signing)
        let next = try state.applying(try Commit.parse(f.expected("commit")))
        #expect(next.head == (try f.expected("head")) && next.roster[alice.id] == nil && next.roster.adminCount == 1)
        try Self.bundle(f, roomID: state.roomID, epoch: next.epoch, roster: next.roster, sender: alice, recipients: [bob, zoe],
                        commits: [leave], keyGeneration: nil)
        try f.finish()
    }

    @Test func messages() throws {
        let f = try VectorFile("message-v1.txt", header: [
            "roomkey known-answer vector: two room messages, version 1, binary and armored (PROTOCOL.md, Room messages).",
            "alice's sender key of bundle-genesis.txt (room room_id, epoch 0, generation 0, signing key",
            "crypto_sign_seed_keypair(sender_key.signing_seed), chain key sender_key.chain_key at iteration 0) encrypts",
            "message.0.plaintext then message.1.plaintext (iterations 0 and 1). The random draws, in order:",
            "sender_key.chain_key (32), message.0.nonce (24), message.1.nonce (24).",
            "Expected per message: its message key (the ratchet's KDF output), the binary message, and the armored",
            "text, one line per key message.i.armored.1, .2, ... (joined with line breaks, plus a final one).",
        ])
        let alice = try VectorIdentity(f, "alice")
        let room = try RoomID(bytes: f.input("room_id", count: 16, label: "room_id"))
        let epoch = try f.uint("epoch", 0)
        let generation = try f.uint("sender_key.generation", 0)
        // The same sender key as bundle-genesis.txt's.
        let signingSeed = try f.input("sender_key.signing_seed", count: 32, label: "bundle-genesis.txt/sender_key.signing_seed")
        let chainKey = try f.input("sender_key.chain_key", count: 32, label: "bundle-genesis.txt/sender_key.chain_key")
        let texts = ["Hello, garden!", "Second message: zoë joins at epoch 1."]
        var plaintexts: [[UInt8]] = []
        var tape = [chainKey]
        for i in 0..<2 {
            plaintexts.append(try f.input("message.\(i).plaintext") { Array(texts[i].utf8) })
            tape.append(try f.input("message.\(i).nonce", count: 24))
        }
        let random = TapeRandom(tape)
        let own = OwnSenderKey.make(roomID: room, owner: alice.id, epoch: epoch, generation: UInt32(generation),
                                    signing: try SigningKeyPair.fromSeed(makeSecret(signingSeed)), random: random)
        try f.expect("sender_key.key_id", own.shared.info.keyID)
        var decryptor = MessageDecryptor(key: own.shared)
        var encryptor = MessageEncryptor(key: own, random: random)
        var chain = try makeKey(chainKey)
        for i in 0..<2 {
            try f.expect("message.\(i).message_key", bytesOf(chain.derive(subkey: SenderChain.messageKeyID, context: SenderChain.context)))
            chain = chain.derive(subkey: SenderChain.chainKeyID, context: SenderChain.context)
            let message = try encryptor.encrypt(plaintexts[i])
            try f.expect("message.\(i).binary", message.bytes)
            try f.expect("message.\(i).armored", lines: MessageArmor.encode(message.bytes))
        }
        #expect(random.finished, "message-v1.txt: the random draws differ from the tape")

        // Read the expected messages back, binary and armored, and decrypt them in order.
        for i in 0..<2 {
            let binary = try f.expected("message.\(i).binary")
            let parsed = try RoomMessage.parse(binary)
            #expect(parsed.iteration == UInt32(i) && parsed.roomID == room && parsed.sender == alice.id && parsed.epoch == epoch)
            let armored = (1...).lazy.map { try? f.expectedText("message.\(i).armored.\($0)") }.prefix { $0 != nil }
                .compactMap { $0 }.joined(separator: "\n") + "\n"
            #expect(armored == MessageArmor.encode(binary))
            #expect(try MessageArmor.read(Array(armored.utf8)).bytes == binary)
            #expect(bytesOf(try decryptor.decrypt(parsed)) == plaintexts[i])
        }
        try f.finish()
    }

    /// The message vector's key is the one the genesis bundle carries: bob opens the bundle and decrypts the messages.
    @Test func messagesOpenWithTheBundledKey() throws {
        if VectorFile.generating { return }
        let bundleFile = try KeyValueFixture("vectors/bundle-genesis.txt")
        let messageFile = try KeyValueFixture("vectors/message-v1.txt")
        let bob = try SealingKeyPair.fromSeed(makeSecret(bundleFile.hex("bob.sealing_seed")))
        let bobID = IdentityID(signingKey: try SigningKeyPair.fromSeed(makeSecret(bundleFile.hex("bob.signing_seed"))).publicKey)
        let alice = try SigningKeyPair.fromSeed(makeSecret(bundleFile.hex("alice.signing_seed"))).publicKey
        let bundle = try Bundle.parse(bundleFile.hex("bundle"))
        let content = try BundleContent(opening: bundle, recipient: bobID, keyPair: bob)
        try content.verify(signer: alice)
        #expect(content.senderKeyInfo?.keyID == (try messageFile.hex("sender_key.key_id")))
        var decryptor: MessageDecryptor
        switch content.senderKey {
        case let .some(key): decryptor = MessageDecryptor(key: key)
        case .none: Issue.record("the genesis bundle carries no sender key"); return
        }
        for i in 0..<2 {
            let message = try RoomMessage.parse(messageFile.hex("message.\(i).binary"))
            #expect(bytesOf(try decryptor.decrypt(message)) == (try messageFile.hex("message.\(i).plaintext")))
        }
    }

    /// The deterministic sealed box is libsodium's `crypto_box_seal` construction: the production open path opens it.
    @Test func deterministicSealOpensWithCryptoBoxSealOpen() throws {
        let recipient = try SealingKeyPair.fromSeed(makeSecret(counting(32)))
        let restored = try SealingKeyPair(secretKey: recipient.exportSecretKey())
        #expect(restored.publicKey == recipient.publicKey)
        let seed = counting(32, from: 100)
        let ephemeral = try SealingKeyPair.fromSeed(makeSecret(seed))
        for length in [0, 1, 32, 1000] {
            let message = counting(length, from: 7)
            let box = try message.withUnsafeBytes { try recipient.publicKey.sealForKnownAnswerTests($0, ephemeralSeed: seed) }
            #expect(box.count == length + SealingPublicKey.sealOverhead)
            #expect(Array(box[0..<32]) == ephemeral.publicKey.bytes)
            #expect(try message.withUnsafeBytes { try recipient.publicKey.sealForKnownAnswerTests($0, ephemeralSeed: seed) } == box)
            #expect(bytesOf(try recipient.open(box)) == message)
            #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try ephemeral.open(box) }
            #expect(throws: CryptoError.sealedBoxOpenFailed) { _ = try recipient.open(flippingBit(box, at: box.count - 1)) }
        }
        // The batch form writes the same boxes into the stanza layout.
        let other = try SealingKeyPair.fromSeed(makeSecret(counting(32, from: 50)))
        let secret = makeSecret(counting(32, from: 9))
        var out = [UInt8](repeating: 0xAA, count: 4 + 2 * 100)
        let seeds = [seed, counting(32, from: 200)]
        try BatchSeal.sealForKnownAnswerTests(secret, keys: recipient.publicKey.bytes + other.publicKey.bytes,
                                              ephemeralSeeds: seeds, into: &out, offset: 4, stride: 100)
        let first = try counting(32, from: 9).withUnsafeBytes { try recipient.publicKey.sealForKnownAnswerTests($0, ephemeralSeed: seed) }
        #expect(Array(out[4..<84]) == first)
        #expect(bytesOf(try other.open(Array(out[104..<184]))) == counting(32, from: 9))
        #expect(out[0..<4].allSatisfy { $0 == 0xAA } && out[84..<104].allSatisfy { $0 == 0xAA })
        #expect(throws: CryptoError.self) {
            try BatchSeal.sealForKnownAnswerTests(secret, keys: recipient.publicKey.bytes, ephemeralSeeds: seeds, into: &out,
                                                  offset: 4, stride: 100)
        }
    }
}
