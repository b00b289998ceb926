import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Rooms end to end: four keyrings, one shared folder, bundles received in shuffled order.
@Suite struct RoomCLITests {
    /// alice creates the room with bob and carol, adds dave, removes carol; everyone exchanges everything.
    static func standardWorld() throws -> RoomWorld {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "carol"]).code == 0)
        try w.exchange()
        return w
    }

    @Test func membersAgreeAndTheRemovedMemberStaysBehind() throws {
        let w = try Self.standardWorld()
        let views = try ["alice", "bob", "dave"].map { try w.show($0) }
        for v in views {
            #expect(v["epoch"] as? Int == 2)
            #expect(v["head"] as? String == views[0]["head"] as? String)
            #expect(v["fingerprint"] as? String == views[0]["fingerprint"] as? String)
            #expect(v["forked"] as? Bool == false)
            let members = (v["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }.sorted()
            #expect(members == ["alice", "bob", "dave"])
        }
        let fingerprints = try ["alice", "bob", "dave"].map { try w.rk($0, ["room", "fingerprint", "team", "--json"]).json()["fingerprint"] as? String }
        #expect(Set(fingerprints).count == 1)
        #expect(fingerprints[0]?.count == 60)
        let carol = try w.show("carol")
        #expect(carol["epoch"] as? Int == 1)
        #expect(carol["head"] as? String != views[0]["head"] as? String)
        // Everyone holds sender keys of the others for the final epoch.
        let keys = try w.keyring("bob").senderKeys(of: "team").filter { $0.epoch == 2 }.map(\.owner)
        let ids = try ["alice", "dave"].map { try w.keyring($0).identityCard().id }
        #expect(Set(ids).isSubset(of: Set(keys)))
    }

    @Test func receiveReportsStatusesAndDuplicates() throws {
        let w = try RoomWorld()
        let create = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"]).json()
        let bundle = try #require(create["bundle"] as? String)
        let first = try w.rk("bob", ["receive", bundle, "--json"]).json()["results"] as? [[String: Any]]
        #expect(first?.first?["status"] as? String == "applied")
        let again = try w.rk("bob", ["receive", bundle, "--json"])
        #expect(again.code == 0)
        #expect((try again.json()["results"] as? [[String: Any]])?.first?["status"] as? String == "duplicate")
        let carol = try w.rk("carol", ["receive", bundle])
        #expect(carol.code == 0)
        #expect(carol.stdout.hasPrefix("not-for-me  \(bundle)"))
    }

    @Test func aCommitWaitsForItsPredecessor() throws {
        let w = try RoomWorld()
        let b0 = try #require(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"]).json()["bundle"] as? String)
        let b1 = try #require(try w.rk("alice", ["room", "add", "team", "carol", "--json"]).json()["bundle"] as? String)
        let b2 = try #require(try w.rk("alice", ["room", "promote", "team", "bob", "--json"]).json()["bundle"] as? String)
        let early = try w.rk("bob", ["receive", b2, "--json"])
        #expect(early.code == 5)
        #expect((try early.json()["results"] as? [[String: Any]])?.first?["status"] as? String == "pending")
        let rest = try w.rk("bob", ["receive", b1, b0, "--json"])
        #expect(rest.code == 0, "\(rest)")
        #expect(try w.show("bob")["epoch"] as? Int == 2)
        let admins = (try w.show("bob")["members"] as? [[String: Any]] ?? []).filter { $0["admin"] as? Bool == true }.count
        #expect(admins == 2)
    }

    @Test func removedMemberGetsNothingAndCannotSendForLaterEpochs() throws {
        let w = try Self.standardWorld()
        let carolID = try w.keyring("carol").identityCard().id
        let later = try w.forge("carol", epoch: 2) { room, me in room.state.roster.sorted.filter { $0.id != me } }
        let before = try w.snapshot("bob")
        let r = try w.rk("bob", ["receive", later])
        #expect(r.code == 2, "\(r)")
        #expect(r.stderr.contains("bundle sender \(carolID.hex) is not a member at epoch 2"))
        #expect(try w.snapshot("bob") == before)
    }

    @Test func hostileBundlesAreRejectedAndChangeNothing() throws {
        let w = try Self.standardWorld()
        let mallory = try freshCard("mallory")
        let others = { (room: StoredRoom, me: IdentityID) in room.state.roster.sorted.filter { $0.id != me } }

        // A commit by a non-admin (bob adds mallory), correctly signed and sealed.
        let bob = try w.keyring("bob"), bobID = try bob.identityCard().id
        let room = try bob.room("team")
        let ops: [RoomKey.Operation] = [.add(mallory)]
        let roster = try RoomState.apply(ops, to: room.state.roster, author: bobID, genesis: false)
        let bobCommit = try Commit(roomID: room.id, epoch: 3, previousHead: room.state.head, signer: bob.identity().signing, time: 1,
                                   operations: ops, rosterHash: roster.hash)
        let nonAdmin = try w.forge("bob", epoch: 3, commits: [bobCommit]) { _, me in
            roster.sorted.filter { $0.id != me }
        }
        // A commit and bundle signed by someone outside the room.
        try w.s.person("mallory")
        let malloryRing = try w.keyring("mallory")
        let mCommit = try Commit(roomID: room.id, epoch: 3, previousHead: room.state.head, signer: malloryRing.identity().signing,
                                 time: 1, operations: [.remove(bobID)], rosterHash: room.state.roster.hash)
        let outsiderBundle = try sealAsOutsider(malloryRing, room: room, commit: mCommit, path: w.s.path("outsider.roomkey"))
        // alice's key, but one stanza too many (mallory) or one too few (dave).
        let extra = try w.forge("alice") { room, me in others(room, me) + [Member(card: mallory, admin: false)] }
        let missing = try w.forge("alice") { room, me in others(room, me).filter { $0.card.handle != "dave" } }
        // alice's own, already-applied commit of epoch 1, in a new bundle after epoch 2.
        let old = try #require(try w.keyring("alice").log(of: "team").1.first { $0.epoch == 1 })
        let replay = try w.forge("alice", epoch: 1, commits: [old], withKey: false) { room, me in others(room, me) }

        for (name, path, who) in [("non-admin commit", nonAdmin, "alice"), ("outsider", outsiderBundle, "bob"),
                                  ("extra stanza", extra, "bob"), ("missing stanza", missing, "bob"), ("replayed commit", replay, "bob")] {
            let before = try w.snapshot(who)
            let r = try w.rk(who, ["receive", path, "--json"])
            #expect(r.code == 2, "\(name): \(r)")
            #expect((try r.json()["results"] as? [[String: Any]])?.first?["status"] as? String == "rejected", "\(name)")
            #expect(try w.snapshot(who) == before, "\(name) changed the keyring")
        }
    }

    @Test func aForkIsDetectedAndStopsDistribution() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange()
        // Copy alice's keyring, then make two different commits for epoch 1 from the two copies.
        try FileManager.default.copyItem(atPath: w.s.path("alice"), toPath: w.s.path("alice2"))
        let b1 = try #require(try w.rk("alice", ["room", "add", "team", "dave", "--json"]).json()["bundle"] as? String)
        // alice2 is the same identity on another machine: its own state folder (else it is a rolled-back alice).
        let b1x = try #require(try w.s.roomkey("alice2", ["room", "remove", "team", "carol", "-o", w.s.path("fork.roomkey"), "--json"],
                                                env: ["ROOMKEY_OUTBOX": w.shared, "XDG_STATE_HOME": w.s.path("alice2-state")])
            .json()["bundle"] as? String)
        #expect(try w.rk("bob", ["receive", b1]).code == 0)
        let r = try w.rk("bob", ["receive", b1x])
        #expect(r.code == 2, "\(r)")
        #expect(r.stderr.contains("fork at epoch 1: accepted head "))
        let show = try w.show("bob")
        #expect(show["forked"] as? Bool == true)
        #expect(show["epoch"] as? Int == 1)
        let rotate = try w.rk("bob", ["room", "rotate", "team"])
        #expect(rotate.code == 2)
        #expect(rotate.stderr.contains("is forked"))
    }

    @Test func bitFlipsAndTruncationAreRefused() throws {
        let w = try RoomWorld()
        let path = try #require(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--json"])
            .json()["bundle"] as? String)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let bundle = try Bundle.parse(bytes)
        let bobID = try w.keyring("bob").identityCard().id
        let stanza = Bundle.headerLength + 4 + (bundle.recipients.firstIndex(of: bobID) ?? 0) * Bundle.stanzaLength + 40
        let regions = [("header", 10), ("stanza", stanza), ("payload", bytes.count - 200), ("signature", bytes.count - 20)]
        let before = try w.snapshot("bob")
        for (region, index) in regions {
            var flipped = bytes
            flipped[index] ^= 0x04
            let file = w.s.path("flip-\(region).roomkey")
            try Data(flipped).write(to: URL(fileURLWithPath: file))
            let r = try w.rk("bob", ["receive", file])
            #expect(r.code == 2 || r.code == 65, "\(region): \(r)")
            #expect(try w.snapshot("bob") == before, "\(region) flip changed the keyring")
        }
        let truncated = w.s.path("truncated.roomkey")
        try Data(bytes.prefix(Bundle.headerLength + 50)).write(to: URL(fileURLWithPath: truncated))
        let t = try w.rk("bob", ["receive", truncated])
        #expect(t.code == 65, "\(t)")
        #expect(t.stderr.contains("truncated"))
        #expect(try w.snapshot("bob") == before)
        #expect(try w.rk("bob", ["receive", path]).code == 0)
    }
}

/// A fresh identity card, outside any keyring.
func freshCard(_ handle: String) throws -> IdentityCard {
    let signing = try SigningKeyPair.generate()
    return try IdentityCard(handle: handle, signer: signing, sealingKey: SealingKeyPair.generate().publicKey, created: 1)
}

/// A bundle from an outsider's keyring, sealed to the room's members.
func sealAsOutsider(_ keyring: Keyring, room: StoredRoom, commit: Commit, path: String) throws -> String {
    let me = try keyring.identity()
    let targets = room.state.roster.sorted.map { (id: $0.id, key: $0.card.sealingKey) }
    let bytes = try BundleSealer.seal(roomID: room.id, epoch: commit.epoch, signer: me.signing, recipients: targets,
                                      content: BundleContent.encode(commits: [commit]), random: SystemRandom())
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
