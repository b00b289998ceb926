import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Findings against the old acceptance rules, each replayed end to end against the built binary: a member freezing a
/// room with a forged `[leave]`, bundles that carry nothing, a stranger filling the keyring, and impossible commit times
/// (docs/PROTOCOL.md §3.3, §3.5, §5.4).
@Suite struct HostileMemberTests {
    /// alice (admin) with bob, carol and dave in room "team" at epoch 0, everyone holding everyone's key.
    static func world() throws -> RoomWorld {
        let w = try RoomWorld()
        let created = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"])
        #expect(created.code == 0, "\(created)")
        try w.exchange()
        return w
    }

    static var clock: UInt64 { UInt64(Date().timeIntervalSince1970) }

    /// The single line of stderr; records an issue when there is not exactly one.
    static func line(_ r: Run, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr is not one line: \(r)", sourceLocation: sourceLocation)
        return lines.first.map(String.init) ?? ""
    }

    /// The number of entries `audit --json` lists.
    static func auditCount(_ w: RoomWorld, _ who: String) throws -> Int {
        let r = try w.rk(who, ["audit", "--json"])
        #expect(r.code == 0, "\(r)")
        return (try r.json()["entries"] as? [Any])?.count ?? -1
    }

    /// The bundle path a committing command printed with `--json`.
    static func bundlePath(_ r: Run, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(r.code == 0, "\(r)", sourceLocation: sourceLocation)
        return try #require(try r.json()["bundle"] as? String, sourceLocation: sourceLocation)
    }

    /// Everything a refused input must leave alone: every row, the room as shown, the audit log and the pending store.
    struct Observed: Equatable {
        let rows: [String]
        let show: String
        let audit: Int
        let pending: Int
    }

    static func observe(_ w: RoomWorld, _ who: String) throws -> Observed {
        let show = try w.rk(who, ["room", "show", "team", "--json"])
        #expect(show.code == 0, "\(show)")
        return Observed(rows: try w.snapshot(who), show: show.stdout, audit: try auditCount(w, who),
                        pending: try w.keyring(who).pendingBundles().count)
    }

    /// A bundle built byte by byte: the header names `sender` (by default the signer), the identity key of keyring
    /// `signer` signs, with a new sender key for `epoch` owned by the header's sender when `withKey`.
    static func seal(_ w: RoomWorld, signer: String, claiming sender: IdentityID? = nil, room: RoomID, epoch: UInt64,
                     commits: [Commit] = [], withKey: Bool = true, to recipients: [IdentityCard], name: String) throws -> String {
        let me = try w.keyring(signer).identity()
        let from = sender ?? me.id
        let content: SecretBytes
        if withKey {
            let own = try OwnSenderKey.generate(roomID: room, owner: from, epoch: epoch, generation: 0, random: try SystemRandom())
            content = BundleContent.encode(senderKey: own.shared, commits: commits)
        } else {
            content = BundleContent.encode(commits: commits)
        }
        let header = Bundle.header(roomID: room, epoch: epoch, sender: from)
        let key = SymmetricKey.random(using: try SystemRandom())
        let stanzas = try BundleSealer.sealStanzas(recipients.map { (id: $0.id, key: $0.sealingKey) }, key: key)
        let stanzaHash = BLAKE2b.hash([stanzas])
        let signature = try BundleSealer.signedMessage(header: header, stanzaHash: stanzaHash, content: content) { me.signing.sign($0) }
        let plaintext = content.withUnsafeBytes { Array($0) } + signature
        let payload = XChaCha20Poly1305.seal(plaintext, key: key, ad: Bundle.adDomain + header + stanzaHash, random: try SystemRandom())
        let path = w.s.path("\(name).roomkey")
        try Data(header + stanzas + payload).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A commit on `state` signed by `who`'s identity key, with the roster hash of `operations` applied by that author.
    static func commit(_ w: RoomWorld, by who: String, on state: RoomState, _ operations: [RoomKeyCore.Operation],
                       time: UInt64 = clock) throws -> (Commit, Roster) {
        let me = try w.keyring(who).identity()
        let roster = try RoomState.apply(operations, to: state.roster, author: me.id, genesis: false)
        let commit = Commit(roomID: state.roomID, epoch: state.epoch + 1, previousHead: state.head, signer: me.signing, time: time,
                            operations: operations, rosterHash: roster.hash)
        return (commit, roster)
    }

    static func cards(_ roster: Roster, minus id: IdentityID) -> [IdentityCard] {
        roster.sorted.filter { $0.id != id }.map(\.card)
    }

    // MARK: 1. A member cannot freeze a room

    @Test func aNonAdminLeaveForTheCurrentEpochIsRejectedAndDoesNotForkTheRoom() throws {
        let w = try Self.world()
        let epoch0 = try w.keyring("carol").room("team").state
        let bobID = try w.keyring("bob").identityCard().id, daveID = try w.keyring("dave").identityCard().id
        // alice removes dave: epoch 1, applied by carol.
        #expect(try w.rk("carol", ["receive", try Self.bundlePath(try w.rk("alice", ["room", "remove", "team", "dave", "--json"]))]).code == 0)
        #expect(try w.show("carol")["epoch"] as? Int == 1)

        // bob, a plain member, signs [leave] for epoch 1 on the head of epoch 0, with the roster hash of epoch 0's roster
        // minus bob, and seals it, signed by his identity, to exactly that roster minus himself: fork evidence under the
        // old rules, now a commit by a non-admin, which is evidence of nothing.
        let (bobLeave, bobRoster) = try Self.commit(w, by: "bob", on: epoch0, [.leave])
        let byBob = try Self.seal(w, signer: "bob", room: epoch0.roomID, epoch: 1, commits: [bobLeave], withKey: false,
                                  to: Self.cards(bobRoster, minus: bobID), name: "bob-leave")
        // dave, already removed at epoch 1, does the same with his own [leave] (the same roster as alice's commit).
        let (daveLeave, daveRoster) = try Self.commit(w, by: "dave", on: epoch0, [.leave])
        #expect(daveRoster.hash == (try w.keyring("carol").log(of: "team").1.last?.rosterHash))
        let byDave = try Self.seal(w, signer: "dave", room: epoch0.roomID, epoch: 1, commits: [daveLeave], withKey: false,
                                   to: Self.cards(daveRoster, minus: daveID), name: "dave-leave")

        for (path, author) in [(byBob, bobID), (byDave, daveID)] {
            let before = try Self.observe(w, "carol")
            let r = try w.rk("carol", ["receive", path])
            #expect(r.code == 2, "\(r)")
            #expect(Self.line(r) == "roomkey: error: \(path): commit author \(author) is not an admin", "\(r)")
            #expect(try w.show("carol")["forked"] as? Bool == false)
            #expect(try Self.observe(w, "carol") == before)
        }
        let message = w.s.path("after-forgeries.msg")
        let sent = try w.rk("carol", ["encrypt", "team", "-o", message], stdin: Data("still here".utf8))
        #expect(sent.code == 0, "\(sent)")
        #expect(try w.rk("alice", ["receive"] + (try w.bundles())).code == 0)
        let read = try w.rk("alice", ["decrypt", message])
        #expect(read.code == 0 && read.stdout.contains("still here"), "\(read)")

        // alice's next commit (epoch 2) applies; the same forged bytes, again, still mark nothing.
        #expect(try w.rk("carol", ["receive", try Self.bundlePath(try w.rk("alice", ["room", "promote", "team", "carol", "--json"]))]).code == 0)
        #expect(try w.show("carol")["epoch"] as? Int == 2)
        for (path, author) in [(byBob, bobID), (byDave, daveID)] {
            let before = try Self.observe(w, "carol")
            let r = try w.rk("carol", ["receive", path])
            #expect(r.code == 2, "\(r)")
            // The room moved past epoch 1: an old conflicting commit is not even looked at as evidence.
            #expect(Self.line(r) == "roomkey: error: \(path): bundle carries a commit for epoch 1 that differs from the accepted one, "
                + "and the room is at epoch 2; ignored as stale", "\(r) \(author)")
            #expect(try w.show("carol")["forked"] as? Bool == false)
            #expect(try Self.observe(w, "carol") == before)
        }
        let again = try w.rk("carol", ["encrypt", "team", "-o", w.s.path("after-epoch-2.msg")], stdin: Data("still here".utf8))
        #expect(again.code == 0, "\(again)")
    }

    /// The one exception the rules keep: an admin's own `[leave]` (another admin remaining) is signed under its card in
    /// the roster before the commit, carries no sender key, and applies everywhere.
    @Test func anAdminsOwnLeaveStillApplies() throws {
        let w = try Self.world()
        #expect(try w.rk("carol", ["receive", try Self.bundlePath(try w.rk("alice", ["room", "promote", "team", "bob", "--json"]))]).code == 0)
        let leave = try Self.bundlePath(try w.rk("alice", ["room", "leave", "team", "--json"]))
        let r = try w.rk("carol", ["receive", leave])
        #expect(r.code == 0, "\(r)")
        let members = (try w.show("carol")["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
        #expect(members.sorted() == ["bob", "carol", "dave"])
        #expect(try w.show("carol")["epoch"] as? Int == 2)
    }

    // MARK: 2. Bundles that carry nothing

    @Test func aBundleWithNoNewCommitAndNoNewKeyIsRejectedAndStoresNothing() throws {
        let w = try Self.world()
        let state = try w.keyring("carol").room("team").state
        let bobID = try w.keyring("bob").identityCard().id
        let current = try #require(try w.keyring("bob").log(of: "team").1.last)
        #expect(current.epoch == state.epoch)
        let roster = Self.cards(state.roster, minus: bobID)
        let onlyCurrent = try Self.seal(w, signer: "bob", room: state.roomID, epoch: state.epoch, commits: [current], withKey: false,
                                        to: roster, name: "only-current")
        let nothing = try Self.seal(w, signer: "bob", room: state.roomID, epoch: state.epoch, withKey: false, to: roster, name: "nothing")
        for path in [onlyCurrent, nothing] {
            let before = try Self.observe(w, "carol")
            for attempt in 1...2 {
                // Not a duplicate the second time: nothing, not even the digest, was stored the first time.
                let r = try w.rk("carol", ["receive", "--json", path])
                #expect(r.code == 2, "attempt \(attempt): \(r)")
                #expect(Self.line(r) == "roomkey: error: \(path): bundle for epoch \(state.epoch) carries no new commit and no new sender key")
                let result = try #require((try r.json()["results"] as? [[String: Any]])?.first)
                #expect(result["status"] as? String == "rejected", "attempt \(attempt): \(r)")
                #expect(try Self.observe(w, "carol") == before, "attempt \(attempt)")
            }
        }
    }

    // MARK: 3. A stranger cannot fill the keyring

    @Test func aStrangersBundleForAnUnknownRoomIsNotKept() throws {
        let w = try Self.world()
        try w.s.person("mallory")
        let mallory = try w.keyring("mallory").identityCard(), carol = try w.keyring("carol").identityCard()
        // A genesis naming carol, and a lone key for epoch 7, each for a room carol does not hold.
        let genesisOps: [RoomKeyCore.Operation] = [.create(name: "lure", creator: mallory), .add(carol)]
        let roomID = RoomID.random(using: try SystemRandom())
        let roster = try RoomState.apply(genesisOps, to: Roster(), author: mallory.id, genesis: true)
        let genesis = Commit(roomID: roomID, epoch: 0, previousHead: Commit.genesisHead,
                             signer: try w.keyring("mallory").identity().signing, time: Self.clock, operations: genesisOps,
                             rosterHash: roster.hash)
        let join = try Self.seal(w, signer: "mallory", room: roomID, epoch: 0, commits: [genesis], to: [carol], name: "lure-genesis")
        let later = try Self.seal(w, signer: "mallory", room: RoomID.random(using: try SystemRandom()), epoch: 7, to: [carol],
                                  name: "lure-later")
        for path in [join, later] {
            let before = try Self.observe(w, "carol")
            let size = w.s.rawBytes(of: "carol").count
            let r = try w.rk("carol", ["receive", path])
            #expect(r.code == 5, "\(r)")
            #expect(r.stdout.hasPrefix("pending  \(path)"), "\(r)")
            #expect(r.stdout.contains("from \(mallory.id), who is not a contact; not kept"), "\(r)")
            #expect(try Self.observe(w, "carol") == before)
            #expect(try w.keyring("carol").pendingBundles().isEmpty)
            #expect(w.s.rawBytes(of: "carol").count - size < 64 * 1024)
        }
    }

    @Test func aBundleClaimingAMemberButSignedByAStrangerIsRejected() throws {
        let w = try Self.world()
        try w.s.person("mallory")
        let state = try w.keyring("carol").room("team").state
        let alice = try w.keyring("alice").identityCard(), carol = try w.keyring("carol").identityCard()
        // Header sender alice, sender key owned by alice, signature by mallory, waiting for epoch 2.
        let path = try Self.seal(w, signer: "mallory", claiming: alice.id, room: state.roomID, epoch: state.epoch + 2,
                                 to: Self.cards(state.roster, minus: alice.id), name: "claims-alice")
        #expect(carol.id != alice.id)
        let before = try Self.observe(w, "carol")
        let r = try w.rk("carol", ["receive", path])
        #expect(r.code == 2, "\(r)")
        #expect(Self.line(r) == "roomkey: error: \(path): bundle signature does not verify under the card of \(alice.id)")
        #expect(try Self.observe(w, "carol") == before)
        #expect(try w.keyring("carol").pendingBundles().isEmpty)
    }

    @Test func aStrangersBundleTooFarAheadIsRejected() throws {
        let w = try Self.world()
        try w.s.person("mallory")
        let state = try w.keyring("carol").room("team").state
        let carol = try w.keyring("carol").identityCard()
        let far = state.epoch + 65
        let path = try Self.seal(w, signer: "mallory", room: state.roomID, epoch: far, to: [carol], name: "too-far")
        let before = try Self.observe(w, "carol")
        let r = try w.rk("carol", ["receive", path])
        #expect(r.code == 2, "\(r)")
        #expect(Self.line(r) == "roomkey: error: \(path): bundle for epoch \(far) is more than 64 epochs ahead of the room (epoch \(state.epoch)); not kept")
        #expect(try Self.observe(w, "carol") == before)
        // The limit itself still waits (kept: its sender's card is unknown here, so it cannot be checked yet).
        let edge = try Self.seal(w, signer: "mallory", room: state.roomID, epoch: state.epoch + 64, to: [carol], name: "edge")
        let kept = try w.rk("carol", ["receive", edge])
        #expect(kept.code == 5, "\(kept)")
        #expect(try w.keyring("carol").pendingBundles().count == 1)
    }

    @Test func aBundleTooLargeToWaitIsRejectedWithoutGrowingTheKeyring() throws {
        let w = try Self.world()
        try w.s.person("mallory")
        let state = try w.keyring("carol").room("team").state
        let carol = try w.keyring("carol").identityCard()
        // Two well-formed commits of 90,000 operations each (about 1.5 MB apiece), waiting for epoch 1.
        let rng = try SystemRandom()
        let signer = try w.keyring("mallory").identity()
        var previous = state.head
        var commits: [Commit] = []
        for epoch in (state.epoch + 2)...(state.epoch + 3) {
            let ops = try (0..<90_000).map { _ in RoomKeyCore.Operation.remove(try IdentityID(bytes: rng.bytes(16))) }
            let c = Commit(roomID: state.roomID, epoch: epoch, previousHead: previous, signer: signer.signing, time: Self.clock,
                           operations: ops, rosterHash: state.roster.hash)
            previous = c.head
            commits.append(c)
        }
        let path = try Self.seal(w, signer: "mallory", room: state.roomID, epoch: state.epoch + 3, commits: commits, to: [carol],
                                 name: "huge")
        let bytes = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(bytes > 3_000_000)
        let before = try Self.observe(w, "carol")
        let size = w.s.rawBytes(of: "carol").count
        let r = try w.rk("carol", ["receive", path])
        #expect(r.code == 2, "\(r)")
        let limit = BundleAcceptance<ReceiverStore>.maxWaitingSize(members: state.roster.count)
        #expect(limit == 1024 * 1024 + 4096 * 4)
        #expect(BundleAcceptance<ReceiverStore>.maxWaitingSize(members: 100_000) == 64 * 1024 * 1024)
        #expect(Self.line(r) == "roomkey: error: \(path): bundle of \(bytes) bytes is larger than the room could need (\(limit)); not kept")
        #expect(try Self.observe(w, "carol") == before)
        #expect(w.s.rawBytes(of: "carol").count - size < 256 * 1024, "the keyring grew by \(w.s.rawBytes(of: "carol").count - size) bytes")
    }

    @Test func aFullPendingStoreNeverBlocksTheNextCommit() throws {
        let w = try Self.world()
        try w.s.person("mallory")
        let state = try w.keyring("carol").room("team").state
        let carolCard = try w.keyring("carol").identityCard()
        func input(_ path: String) throws -> ReceiveInput {
            ReceiveInput(path: path, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        let carol = try w.keyring("carol")
        let first = try Self.seal(w, signer: "mallory", room: state.roomID, epoch: state.epoch + 2, to: [carolCard], name: "wait-2")
        #expect(try carol.receive([try input(first)]) { _ in "" }.map(\.status) == [.pending])
        var config = Configuration()
        config.readonly = true
        let one = try DatabaseQueue(path: w.s.keyring("carol"), configuration: config).read { db in
            try Int.fetchOne(db, sql: "SELECT LENGTH(sealed) FROM pending_bundle")
        }
        // Room for one kept bundle, but a stranger's rows keep an eighth of it: the next one is not kept (rejected), and
        // the first stays.
        carol.pendingByteLimit = try #require(one) * 3 / 2
        let second = try Self.seal(w, signer: "mallory", room: state.roomID, epoch: state.epoch + 3, to: [carolCard], name: "wait-3")
        let over = try carol.receive([try input(second)]) { _ in "" }
        #expect(over.map(\.status) == [.rejected])
        #expect(over.first?.error?.message.contains("is not kept: the waiting bundles that rank above it, or the strangers' share, leave") == true, "\(over)")
        let kept = try carol.pendingBundles()
        #expect(kept.count == 1)
        #expect(kept.first?.bytes == (try input(first)).bytes)
        // alice's real next commit applies whatever the pending store holds, even with no room left at all.
        carol.pendingByteLimit = 1
        let next = try Self.bundlePath(try w.rk("alice", ["room", "promote", "team", "bob", "--json"]))
        let applied = try carol.receive([try input(next)]) { _ in "" }
        #expect(applied.map(\.status) == [.applied], "\(applied)")
        #expect(try carol.room("team").state.epoch == state.epoch + 1)
        #expect(try w.show("carol")["epoch"] as? Int == Int(state.epoch) + 1)
    }

    // MARK: 4. Commit times

    @Test func commitTimesOutsideTheTimeRuleAreRejected() throws {
        let w = try Self.world()
        let state = try w.keyring("carol").room("team").state
        let aliceID = try w.keyring("alice").identityCard().id, bobID = try w.keyring("bob").identityCard().id
        let epoch = state.epoch + 1
        let cases: [(UInt64, String)] = [
            (0, "before 2020"),
            (CommitClock.earliest - 1, "before 2020"),
            (32_503_680_000, "more than 24 hours ahead of this clock"),
            (UInt64.max, "more than 24 hours ahead of this clock"),
            (Self.clock + 2 * 86_400, "more than 24 hours ahead of this clock"),
        ]
        for (index, (time, reason)) in cases.enumerated() {
            let (c, roster) = try Self.commit(w, by: "alice", on: state, [.promote(bobID)], time: time)
            let path = try Self.seal(w, signer: "alice", room: state.roomID, epoch: epoch, commits: [c],
                                     to: Self.cards(roster, minus: aliceID), name: "time-\(index)")
            let before = try Self.observe(w, "carol")
            let r = try w.rk("carol", ["receive", path])
            #expect(r.code == 2, "time \(time): \(r)")
            let line = Self.line(r)
            #expect(line.hasPrefix("roomkey: error: \(path): commit for epoch \(epoch) has time \(time), \(reason)"), "\(r)")
            #expect(try w.show("carol")["epoch"] as? Int == Int(state.epoch))
            #expect(try Self.observe(w, "carol") == before, "time \(time)")
        }
        // An hour ahead is within the rule.
        let (c, roster) = try Self.commit(w, by: "alice", on: state, [.promote(bobID)], time: Self.clock + 3600)
        let path = try Self.seal(w, signer: "alice", room: state.roomID, epoch: epoch, commits: [c],
                                 to: Self.cards(roster, minus: aliceID), name: "time-ok")
        let r = try w.rk("carol", ["receive", path])
        #expect(r.code == 0, "\(r)")
        #expect(try w.show("carol")["epoch"] as? Int == Int(epoch))
    }

    @Test func aCommitFarBeforeItsPredecessorIsRejected() throws {
        let w = try Self.world()
        let state = try w.keyring("carol").room("team").state
        let genesis = try #require(try w.keyring("carol").log(of: "team").1.last)
        let aliceID = try w.keyring("alice").identityCard().id, bobID = try w.keyring("bob").identityCard().id
        let time = genesis.time - 86_401
        let (c, roster) = try Self.commit(w, by: "alice", on: state, [.promote(bobID)], time: time)
        let path = try Self.seal(w, signer: "alice", room: state.roomID, epoch: state.epoch + 1, commits: [c],
                                 to: Self.cards(roster, minus: aliceID), name: "time-behind")
        let before = try Self.observe(w, "carol")
        let r = try w.rk("carol", ["receive", path])
        #expect(r.code == 2, "\(r)")
        #expect(Self.line(r) == "roomkey: error: \(path): commit for epoch \(state.epoch + 1) has time \(time), more than 24 hours before its predecessor (\(genesis.time))")
        #expect(try Self.observe(w, "carol") == before)
    }
}
