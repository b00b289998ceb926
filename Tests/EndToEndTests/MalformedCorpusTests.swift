import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A corpus of hostile and malformed inputs (`fixtures/corpus`, one file per rejection rule of docs/PROTOCOL.md §3.3,
/// §3.5, §5.1–§5.5), each received by carol's fixture keyring (`fixtures/keyring-v1/carol.sqlite`, room `ops` at
/// epoch 2, admin alice) through the built binary. `index.tsv` names each file's expected status and exit code.
///
/// `writeCorpus` regenerates the files (only with `ROOMKEY_WRITE_CORPUS=1`); `corpusIsReceivedAsIndexed` always runs.
@Suite(.serialized) struct MalformedCorpusTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // EndToEndTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // package root
    static let corpus = root.appendingPathComponent("fixtures/corpus")
    static let keyrings = root.appendingPathComponent("fixtures/keyring-v1")

    /// The receiver's clock: one hour after the fixture's last commit (1796172491), so that nothing in carol's keyring
    /// is past retention and every run sees the same keyring, whenever it runs.
    static let now: UInt64 = 1_796_172_491 + 3600
    /// A valid commit time for epoch 3: one minute after the last commit.
    static let commitTime: UInt64 = 1_796_172_491 + 60

    // MARK: - The check, always run

    struct Entry {
        let file: String
        let status: String
        let exit: Int32
        let rule: String
    }

    static func index() throws -> [Entry] {
        let text = try String(contentsOf: corpus.appendingPathComponent("index.tsv"), encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(f.count == 4, "bad index line: \(line)")
            let exit = try #require(Int32(f.count > 2 ? f[2] : ""), "bad exit code in: \(line)")
            return Entry(file: f[0], status: f[1], exit: exit, rule: f.count > 3 ? f[3] : "")
        }
    }

    /// Every row of every table, to prove that a refused input changed nothing.
    static func rows(_ path: String) throws -> [String] {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: path, configuration: config)
        return try db.read { db in
            // The write counter ticks with every transaction, including the automatic prune a command starts with.
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'write_counter' ORDER BY name")
            return try tables.flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\(table): \($0)" }.sorted()
            }
        }
    }

    @Test func corpusIsReceivedAsIndexed() throws {
        let entries = try Self.index()
        #expect(entries.count >= 20)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path)
            .filter { $0 != "index.tsv" && $0 != "README.md" }
        #expect(Set(files) == Set(entries.map(\.file)), "files in fixtures/corpus and index.tsv differ")
        for entry in entries {
            let s = try Sandbox()
            let keyring = s.keyring("carol")
            try FileManager.default.createDirectory(atPath: s.path("carol"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.keyrings.appendingPathComponent("carol.sqlite").path, toPath: keyring)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyring)
            let outbox = s.path("outbox")
            try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true)
            let env = ["ROOMKEY_KEYRING": keyring, "ROOMKEY_OUTBOX": outbox, "ROOMKEY_TEST_NOW": String(Self.now),
                       "XDG_STATE_HOME": s.path("state")]
            func rk(_ args: [String]) throws -> Run { try CLI.run(args, env: env, cwd: s.root) }
            func state() throws -> (show: String, audit: String, rows: [String]) {
                let show = try rk(["room", "show", "ops", "--json"])
                #expect(show.code == 0, "\(entry.file): \(show)")
                let audit = try rk(["audit", "--json"])
                #expect(audit.code == 0, "\(entry.file): \(audit)")
                return (show.stdout, audit.stdout, try Self.rows(keyring))
            }
            let before = try state()
            let r = try rk(["receive", Self.corpus.appendingPathComponent(entry.file).path, "--json"])
            #expect(r.code == entry.exit, "\(entry.file) (\(entry.rule)): \(r)")
            let results = try r.json()["results"] as? [[String: Any]]
            #expect(results?.count == 1, "\(entry.file): \(r)")
            #expect(results?.first?["status"] as? String == entry.status, "\(entry.file) (\(entry.rule)): \(r)")
            if entry.status != "applied" {
                let after = try state()
                #expect(after.show == before.show, "\(entry.file) changed room show")
                #expect(after.audit == before.audit, "\(entry.file) changed the audit log")
                #expect(after.rows == before.rows, "\(entry.file) changed the keyring")
                #expect(try FileManager.default.contentsOfDirectory(atPath: outbox).isEmpty, "\(entry.file) wrote a bundle")
            }
        }
    }

    // MARK: - The generator, only with ROOMKEY_WRITE_CORPUS=1

    /// What the generator builds bundles from: copies of alice's and carol's fixture keyrings, opened with the library.
    final class Forge {
        let s: Sandbox
        let alice: Keyring
        let carol: Keyring
        let room: StoredRoom
        let log: [Commit]
        let aliceCard: IdentityCard
        let carolCard: IdentityCard
        let strangerSigning: SigningKeyPair
        let strangerCard: IdentityCard

        init() throws {
            s = try Sandbox()
            for who in ["alice", "carol"] {
                try FileManager.default.createDirectory(atPath: s.path(who), withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: keyrings.appendingPathComponent("\(who).sqlite").path, toPath: s.keyring(who))
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: s.keyring(who))
            }
            alice = try Keyring.open(path: s.keyring("alice"), passphrase: {
                var b = Array("correct horse".utf8)
                return SecretBytes(consuming: &b)
            }, random: try SystemRandom())
            carol = try Keyring.open(path: s.keyring("carol"), passphrase: { throw KeyringError.passphraseRequired },
                                     random: try SystemRandom())
            room = try alice.room("ops")
            log = try alice.log(of: "ops").1
            aliceCard = try alice.identityCard()
            carolCard = try carol.identityCard()
            strangerSigning = try SigningKeyPair.generate()
            strangerCard = try IdentityCard(handle: "mallory", signer: strangerSigning, sealingKey: SealingKeyPair.generate().publicKey,
                                            created: now)
        }

        /// Content bytes: an optional fresh sender key of `owner` for `keyEpoch`, then `commits`.
        func content(owner: IdentityID?, keyEpoch: UInt64, roomID: RoomID? = nil, commits: [Commit]) throws -> [UInt8] {
            let secret: SecretBytes
            if let owner {
                let own = try OwnSenderKey.generate(roomID: roomID ?? room.id, owner: owner, epoch: keyEpoch, generation: 9,
                                                    random: try SystemRandom())
                secret = BundleContent.encode(senderKey: own.shared, commits: commits)
            } else {
                secret = BundleContent.encode(commits: commits)
            }
            return secret.withUnsafeBytes { Array($0) }
        }

        /// A bundle built by hand: header, stanzas to `recipients`, and the payload `content || signature`, the
        /// signature made by `signer` (normally the sender's own identity key).
        func bundle(roomID: RoomID? = nil, epoch: UInt64, sender: IdentityID, signer: borrowing SigningKeyPair,
                    recipients: [IdentityCard], content: [UInt8]) throws -> [UInt8] {
            let header = RoomKeyCore.Bundle.header(roomID: roomID ?? room.id, epoch: epoch, sender: sender)
            let key = SymmetricKey.random(using: try SystemRandom())
            let stanzas = try BundleSealer.sealStanzas(recipients.map { (id: $0.id, key: $0.sealingKey) }, key: key)
            let stanzaHash = BLAKE2b.hash([stanzas])
            let signature = signer.sign(BundleSealer.signatureDomain + header + stanzaHash + content)
            let payload = XChaCha20Poly1305.seal(content + signature, key: key, ad: RoomKeyCore.Bundle.adDomain + header + stanzaHash,
                                                 random: try SystemRandom())
            return header + stanzas + payload
        }

        /// A bundle from alice (signed by her), sealed to carol unless told.
        func fromAlice(epoch: UInt64, key: Bool = true, keyEpoch: UInt64? = nil, commits: [Commit] = [],
                       recipients: [IdentityCard]? = nil) throws -> [UInt8] {
            let me = try alice.identity()
            return try bundle(epoch: epoch, sender: me.id, signer: me.signing, recipients: recipients ?? [carolCard],
                              content: content(owner: key ? me.id : nil, keyEpoch: keyEpoch ?? epoch, commits: commits))
        }

        /// A bundle from the stranger, sealed to carol.
        func fromStranger(roomID: RoomID? = nil, epoch: UInt64, key: Bool = true, commits: [Commit] = []) throws -> [UInt8] {
            try bundle(roomID: roomID, epoch: epoch, sender: strangerCard.id, signer: strangerSigning, recipients: [carolCard],
                       content: content(owner: key ? strangerCard.id : nil, keyEpoch: epoch, roomID: roomID, commits: commits))
        }

        /// A commit of epoch 3 on top of the room's head, by `signer`, with the roster hash of `ops` applied by alice.
        func commit(_ ops: [RoomKey.Operation], signer: borrowing SigningKeyPair, epoch: UInt64 = 3, roomID: RoomID? = nil,
                    previousHead: [UInt8]? = nil, time: UInt64 = commitTime, rosterHash: [UInt8]? = nil) throws -> Commit {
            let hash = try rosterHash ?? RoomState.apply(ops, to: room.state.roster, author: aliceCard.id, genesis: false).hash
            return Commit(roomID: roomID ?? room.id, epoch: epoch, previousHead: previousHead ?? room.state.head, signer: signer,
                          time: time, operations: ops, rosterHash: hash)
        }

        func aliceCommit(_ ops: [RoomKey.Operation],
                         epoch: UInt64 = 3, roomID: RoomID? = nil, previousHead: [UInt8]? = nil, time: UInt64 = commitTime,
                         rosterHash: [UInt8]? = nil) throws -> Commit {
            try commit(ops, signer: alice.identity().signing, epoch: epoch, roomID: roomID, previousHead: previousHead, time: time,
                       rosterHash: rosterHash)
        }
    }

    /// A valid alice commit of epoch 3 (promote carol), the base of most log-rule cases.
    static func promoteCarol(_ f: Forge, time: UInt64 = commitTime, previousHead: [UInt8]? = nil,
                             rosterHash: [UInt8]? = nil, roomID: RoomID? = nil, epoch: UInt64 = 3) throws -> Commit {
        try f.aliceCommit([.promote(f.carolCard.id)], epoch: epoch, roomID: roomID, previousHead: previousHead, time: time,
                          rosterHash: rosterHash)
    }

    static func leaveRequest(_ f: Forge) throws -> [UInt8] {
        try LeaveRequest(roomID: f.room.id, epoch: 2, signer: f.alice.identity().signing, time: now).encoded
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["ROOMKEY_WRITE_CORPUS"] == "1"))
    func writeCorpus() throws {
        let f = try Forge()
        #expect(f.room.state.epoch == 2 && f.log.count == 3)
        var cases: [(file: String, status: String, exit: Int, rule: String, bytes: [UInt8])] = []
        func add(_ file: String, _ status: String, _ exit: Int, _ rule: String, _ bytes: [UInt8]) {
            cases.append((file, status, exit, rule, bytes))
        }
        let me = try f.alice.identity()

        // Controls: well-formed bundles, so that every case below differs from an applied one by its one rule.
        let control = try f.fromAlice(epoch: 2)
        add("00-control-new-key.roomkey", "applied", 0, "control: alice's new sender key for epoch 2, sealed to carol", control)
        let good3 = try Self.promoteCarol(f)
        add("01-control-commit.roomkey", "applied", 0, "control: alice commits epoch 3 [promote carol] with her new key",
            try f.fromAlice(epoch: 3, commits: [good3]))

        // §5.1 layout: parse failures are malformed.
        add("10-truncated.roomkey", "malformed", 65, "§5.1 bundle truncated inside its stanzas",
            Array(control.prefix(RoomKeyCore.Bundle.headerLength + 50)))
        var magic = control
        magic[2] = 0x58 // "RKX"
        add("11-bad-magic.roomkey", "malformed", 65, "§5.1 magic is not RKB (or RKL)", magic)
        var version = control
        version[3] = 0x03
        add("12-unknown-bundle-version.roomkey", "malformed", 65, "§5.1 bundle version 3 (unknown; 1 and 2 are defined)", version)
        var count = control
        count.replaceSubrange(RoomKeyCore.Bundle.headerLength..<(RoomKeyCore.Bundle.headerLength + 4), with: [0x00, 0x01, 0x00, 0x00])
        add("13-stanza-count-too-large.roomkey", "malformed", 65, "§5.1 stanza count (65536) does not fit the file", count)
        let stanzaStart = RoomKeyCore.Bundle.headerLength + 4
        let stanza = Array(control[stanzaStart..<(stanzaStart + RoomKeyCore.Bundle.stanzaLength)])
        add("14-duplicate-recipient.roomkey", "malformed", 65, "§5.1 carol's stanza appears twice",
            Array(control[0..<RoomKeyCore.Bundle.headerLength]) + [0, 0, 0, 2] + stanza + stanza
                + Array(control[(stanzaStart + RoomKeyCore.Bundle.stanzaLength)...]))
        add("15-short-payload.roomkey", "malformed", 65, "§5.1 payload shorter than 40 bytes",
            Array(control.prefix(stanzaStart + RoomKeyCore.Bundle.stanzaLength + 39)))

        // §5.2 content: signed and sealed correctly, but the content does not parse: malformed.
        let keyContent = try f.content(owner: me.id, keyEpoch: 2, commits: [])
        add("16-trailing-content-bytes.roomkey", "malformed", 65, "§5.2 content has a byte after the commit list",
            try f.bundle(epoch: 2, sender: me.id, signer: me.signing, recipients: [f.carolCard], content: keyContent + [0]))
        var v2 = keyContent
        v2[0] = 2
        add("17-unknown-content-version.roomkey", "malformed", 65, "§5.2 content version 2",
            try f.bundle(epoch: 2, sender: me.id, signer: me.signing, recipients: [f.carolCard], content: v2))
        var flag = keyContent
        flag[1] = 2
        add("18-bad-key-flag.roomkey", "malformed", 65, "§5.2 has-key flag is 2",
            try f.bundle(epoch: 2, sender: me.id, signer: me.signing, recipients: [f.carolCard], content: flag))
        var shortCount = keyContent
        shortCount.replaceSubrange((shortCount.count - 4)..., with: [0, 0, 0, 1])
        add("19-commit-count-too-large.roomkey", "malformed", 65, "§5.2 commit count 1 with no commit bytes",
            try f.bundle(epoch: 2, sender: me.id, signer: me.signing, recipients: [f.carolCard], content: shortCount))

        // §5.4 open, addressing and signature.
        var flipped = control
        flipped[flipped.count - 10] ^= 0x01
        add("20-flipped-payload-byte.roomkey", "rejected", 2, "§5.4 step 2: payload does not decrypt (one bit flipped)", flipped)
        add("21-not-for-me.roomkey", "not-for-me", 0, "§5.4: no stanza for carol (sealed to a stranger only)",
            try f.fromAlice(epoch: 2, recipients: [f.strangerCard]))
        add("22-bad-bundle-signature.roomkey", "rejected", 2, "§5.4 step 4: alice's bundle signed by another key",
            try f.bundle(epoch: 2, sender: me.id, signer: f.strangerSigning, recipients: [f.carolCard], content: keyContent))
        var flippedStanza = control
        flippedStanza[stanzaStart + 16 + 40] ^= 0x01
        add("23-flipped-stanza-byte.roomkey", "rejected", 2, "§5.4 step 2: carol's stanza does not open (one bit flipped)",
            flippedStanza)

        // §5.4 step 3 consistency.
        let otherRoom = RoomID.random(using: try SystemRandom())
        add("30-commit-room-mismatch.roomkey", "rejected", 2, "§5.4 step 3: header room id differs from the commit's room id",
            try f.fromAlice(epoch: 3, commits: [Self.promoteCarol(f, roomID: otherRoom)]))
        let c5 = try Self.promoteCarol(f, previousHead: good3.head, epoch: 5)
        add("31-commits-not-consecutive.roomkey", "rejected", 2, "§5.4 step 3: commits of epochs 3 and 5",
            try f.fromAlice(epoch: 5, commits: [good3, c5]))
        add("32-header-epoch-not-last-commit.roomkey", "rejected", 2, "§5.4 step 3: header epoch 4, last commit epoch 3",
            try f.fromAlice(epoch: 4, commits: [good3]))
        add("33-key-epoch-not-header.roomkey", "rejected", 2, "§5.4 step 3: carried key for epoch 1 in a bundle for epoch 2",
            try f.fromAlice(epoch: 2, keyEpoch: 1))

        // §3.3 acceptance of commit 3 (sent by alice to carol unless said).
        // By an admin, a commit on another head of epoch 2 is fork evidence (§3.5, unchained), which marks the room.
        let unchained = try f.commit([.promote(f.carolCard.id)], signer: f.carol.identity().signing,
                                     previousHead: [UInt8](repeating: 0, count: 32))
        add("40-broken-chain.roomkey", "rejected", 2,
            "§3.3 rule 3: previous head is not the accepted head (a commit by carol, no admin: not fork evidence, §3.5)",
            try f.fromAlice(epoch: 3, commits: [unchained]))
        let strangerCommit = try f.commit([.promote(f.carolCard.id)], signer: f.strangerSigning)
        add("41-author-not-member.roomkey", "rejected", 2, "§3.3 rule 4: commit signed by a stranger, who sends it",
            try f.fromStranger(epoch: 3, commits: [strangerCommit]))
        let carolCommit = try f.commit([.promote(f.carolCard.id)], signer: f.carol.identity().signing)
        add("42-author-not-admin.roomkey", "rejected", 2, "§3.3 rule 5: commit by carol, a member but not an admin (alice sends it)",
            try f.fromAlice(epoch: 3, commits: [carolCommit]))
        add("43-commit-time-zero.roomkey", "rejected", 2, "§3.3 rule 6: commit time 0 (before 2020)",
            try f.fromAlice(epoch: 3, commits: [Self.promoteCarol(f, time: 0)]))
        add("44-commit-time-year-3000.roomkey", "rejected", 2, "§3.3 rule 6: commit time in the year 3000",
            try f.fromAlice(epoch: 3, commits: [Self.promoteCarol(f, time: 32_503_680_000)]))
        add("45-commit-before-predecessor.roomkey", "rejected", 2, "§3.3 rule 6: commit time more than 24h before commit 2",
            try f.fromAlice(epoch: 3, commits: [Self.promoteCarol(f, time: f.log[2].time - 86_401)]))
        add("46-commit-far-future.roomkey", "rejected", 2, "§3.3 rule 6: commit time 48h past the receiver's clock",
            try f.fromAlice(epoch: 3, commits: [Self.promoteCarol(f, time: Self.now + 2 * 86_400)]))
        let removeStranger = try f.aliceCommit([.remove(f.strangerCard.id)], rosterHash: f.room.state.roster.hash)
        add("47-invalid-operation.roomkey", "rejected", 2, "§3.3 rule 7: remove of a non-member",
            try f.fromAlice(epoch: 3, commits: [removeStranger]))
        let noOps = try f.aliceCommit([], rosterHash: f.room.state.roster.hash)
        add("48-no-operation.roomkey", "rejected", 2, "§3.3 rule 7: commit with no operation",
            try f.fromAlice(epoch: 3, commits: [noOps]))
        add("49-bad-roster-hash.roomkey", "rejected", 2, "§3.3 rule 9: roster hash does not match",
            try f.fromAlice(epoch: 3, commits: [Self.promoteCarol(f, rosterHash: [UInt8](repeating: 0, count: 32))]))
        var badSig = good3.encoded
        badSig[badSig.count - 1] ^= 0x01
        add("50-commit-bad-signature.roomkey", "rejected", 2, "§3.3 rule 4: commit signature does not verify under alice's card",
            try f.fromAlice(epoch: 3, commits: [Commit.parse(badSig)]))
        let leaveAll = try f.aliceCommit([.remove(f.carolCard.id), .demote(me.id)],
                                         rosterHash: { var r = f.room.state.roster; r.remove(f.carolCard.id)
                                             r.setAdmin(me.id, false); return r.hash }())
        add("51-no-admin-left.roomkey", "rejected", 2, "§3.3 rule 8: commit leaves no admin (alice removes carol, demotes herself)",
            try f.fromAlice(epoch: 3, key: true, commits: [leaveAll], recipients: [f.carolCard]))

        // §3.5 replays and forks.
        add("52-replayed-commit.roomkey", "rejected", 2, "§3.5: the stored commit of epoch 2 again, no key (a no-op)",
            try f.fromAlice(epoch: 2, key: false, commits: [f.log[2]]))
        let strangerFork = try f.commit([.remove(f.carolCard.id)], signer: f.strangerSigning, epoch: 2,
                                        previousHead: f.log[1].head)
        add("53-fork-by-stranger.roomkey", "rejected", 2, "§3.5: a different commit of epoch 2 by a stranger: not fork evidence",
            try f.fromStranger(epoch: 2, commits: [strangerFork]))

        // §5.4 steps 7–9: sender, recipients, no-op.
        add("60-extra-recipient.roomkey", "rejected", 2, "§5.4 step 8: an extra stanza for a stranger",
            try f.fromAlice(epoch: 2, recipients: [f.carolCard, f.strangerCard]))
        add("61-sender-not-member.roomkey", "rejected", 2, "§5.4 step 8: a stranger's sender key for epoch 2",
            try f.fromStranger(epoch: 2))
        add("62-epoch-before-joining.roomkey", "rejected", 2, "§5.4 steps 7-8: alice's key for epoch 0, before carol joined (carol holds epoch 0's roster from the whole log, so it fails on recipients)",
            try f.fromAlice(epoch: 0))
        add("63-no-op.roomkey", "rejected", 2, "§5.4 step 9: neither a commit nor a sender key",
            try f.fromAlice(epoch: 2, key: false))

        // §5.4 waiting.
        add("70-too-far-ahead.roomkey", "rejected", 2, "§5.4 waiting: a stranger's bundle for epoch 67 (room at 2, limit 64)",
            try f.fromStranger(epoch: 2 + 65))
        let strangerRoom = RoomID.random(using: try SystemRandom())
        let genesisOps: [RoomKey.Operation] = [.create(name: "den", creator: f.strangerCard), .add(f.carolCard)]
        let genesisRoster = try RoomState.apply(genesisOps, to: Roster(), author: f.strangerCard.id, genesis: true)
        let genesis = Commit(roomID: strangerRoom, epoch: 0, previousHead: Commit.genesisHead, signer: f.strangerSigning,
                             time: Self.commitTime, operations: genesisOps, rosterHash: genesisRoster.hash)
        add("71-unknown-room-from-stranger.roomkey", "pending", 5, "§5.4 step 5: a new room from a non-contact: pending, not kept",
            try f.fromStranger(roomID: strangerRoom, epoch: 0, commits: [genesis]))

        // §5.5 leave requests. carol is not an admin of ops, so a well-formed request is not-for-me (§5.5 rule 1)
        // whatever its signature; only parse failures are malformed.
        var leave = try Self.leaveRequest(f)
        leave[leave.count - 1] ^= 0x01
        add("80-leave-bad-signature.rkleave", "not-for-me", 0,
            "§5.5 rule 1: alice's request with a bad signature, received by carol, who is not an admin", leave)
        let goodLeave = try Self.leaveRequest(f)
        add("81-leave-truncated.rkleave", "malformed", 65, "§5.5 request of 115 bytes", Array(goodLeave.dropLast()))
        var leaveVersion = goodLeave
        leaveVersion[3] = 0x02
        add("82-leave-unknown-version.rkleave", "malformed", 65, "§5.5 request version 2", leaveVersion)
        add("83-leave-trailing-byte.rkleave", "malformed", 65, "§5.5 request of 117 bytes", goodLeave + [0])

        let fm = FileManager.default
        try fm.createDirectory(at: Self.corpus, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: Self.corpus.path) where name != "README.md" {
            try fm.removeItem(at: Self.corpus.appendingPathComponent(name))
        }
        var index = "# file\tstatus\texit code\trule (receiver: fixtures/keyring-v1/carol.sqlite; made by MalformedCorpusTests.writeCorpus)\n"
        for c in cases {
            try Data(c.bytes).write(to: Self.corpus.appendingPathComponent(c.file))
            index += "\(c.file)\t\(c.status)\t\(c.exit)\t\(c.rule)\n"
        }
        try Data(index.utf8).write(to: Self.corpus.appendingPathComponent("index.tsv"))
    }
}
