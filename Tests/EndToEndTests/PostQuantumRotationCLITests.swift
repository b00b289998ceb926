import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A sender key that went out in a version 1 stanza is not kept once the room could be fully post-quantum (a hostile
/// review: a room showed "post-quantum: yes (required)" while every new message used a key that an X25519 break opens).
@Suite struct PostQuantumRotationCLITests {
    typealias Mixed = PostQuantumCLITests.Mixed

    /// alice makes `team` with bob (v2) and carol (v1), everyone receives, and carol's upgraded card reaches alice.
    static func upgradedCarol() throws -> Mixed {
        let (m, up) = try teamThenCarolUpgrades()
        let w = m.w
        let add = try w.rk("alice", ["contact", "add", "-", "--json"], stdin: Data(up.stdout.utf8))
        #expect(add.code == 0 && add.stdout.contains("upgraded"), "\(add)")
        return m
    }

    /// alice makes `team` with bob (v2) and carol (v1), everyone receives, then carol runs `id upgrade` (its result).
    static func teamThenCarolUpgrades() throws -> (Mixed, Run) {
        let m = try Mixed()
        #expect(try m.w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try m.w.exchange(["alice", "bob", "carol"])
        let up = try m.w.rk("carol", ["id", "upgrade"])
        #expect(up.code == 0, "\(up)")
        return (m, up)
    }

    /// `encrypt --json` as `who` in team: the generation used and the bundles the command wrote (a rotation owed is
    /// made first, by the command's own settling of the outbox or by `encrypt` itself).
    static func encrypt(_ w: RoomWorld, _ who: String, _ text: String) throws -> (generation: Int, bundles: [String]) {
        let had = Set(try w.bundles())
        let r = try w.rk(who, ["encrypt", "team", "-o", w.s.path("\(text).msg"), "--json"], stdin: Data(text.utf8))
        #expect(r.code == 0, "\(r)")
        return (try #require(try r.json()["generation"] as? Int), try w.bundles().filter { !had.contains($0) })
    }

    @Test func aContactsUpgradeStartsANewKeyBeforeTheNextMessage() throws {
        let w = try Self.upgradedCarol().w
        let (generation, bundles) = try Self.encrypt(w, "alice", "after-upgrade")
        #expect(generation == 1 && bundles.count == 1)
        let (_, kinds) = try PostQuantumCLITests.stanzaKinds(try #require(bundles.first))
        #expect(kinds.count == 2 && kinds.values.allSatisfy { $0 == .xwing }, "\(kinds)")
        // The next message keeps that key.
        #expect(try Self.encrypt(w, "alice", "again").generation == 1)
        try w.exchange(["alice", "bob", "carol"])
        #expect(try w.rk("carol", ["decrypt", w.s.path("again.msg")]).stdout.contains("again"))
    }

    /// A member's version 2 card added by someone who did not have that member as a contact (status `added`, not
    /// `upgraded`) starts a new key too: the current one went to the member's version 1 roster card (a review).
    @Test func aFirstVersion2CardOfAMemberStartsANewKey() throws {
        let (m, up) = try Self.teamThenCarolUpgrades()
        let w = m.w
        // bob does not keep carol as a contact: his key goes to her version 1 roster card.
        _ = try w.rk("bob", ["contact", "remove", "carol"])
        #expect(try Self.encrypt(w, "bob", "before").generation == 0)
        let add = try w.rk("bob", ["contact", "add", "-", "--json"], stdin: Data(up.stdout.utf8))
        #expect(add.code == 0 && add.stdout.contains("\"added\""), "\(add)")
        let (generation, bundles) = try Self.encrypt(w, "bob", "after")
        #expect(generation == 1 && bundles.count == 1, "\(bundles)")
        let (_, kinds) = try PostQuantumCLITests.stanzaKinds(try #require(bundles.first))
        #expect(kinds.values.allSatisfy { $0 == .xwing }, "\(kinds)")
    }

    @Test func turningOnRequirePQStartsANewKeyBeforeTheNextMessage() throws {
        let w = try Mixed(classical: []).w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.exchange(["alice", "bob"])
        #expect(try Self.encrypt(w, "alice", "before").generation == 0)
        #expect(try w.rk("alice", ["room", "set", "team", "--require-pq"]).code == 0)
        let (generation, bundles) = try Self.encrypt(w, "alice", "required")
        #expect(generation == 1 && bundles.count == 1)
        // Setting it again changes nothing: the key made under the requirement is kept.
        #expect(try w.rk("alice", ["room", "set", "team", "--require-pq"]).code == 0)
        #expect(try Self.encrypt(w, "alice", "still").generation == 1)
    }

    @Test func resendUnderRequirePQMakesTheBundleAgainWithoutVersion1Stanzas() throws {
        let w = try Self.upgradedCarol().w
        #expect(try w.rk("alice", ["room", "set", "team", "--require-pq"]).code == 0)
        let had = Set(try w.bundles())
        let resend = try w.rk("alice", ["outbox", "resend", "team", "--epoch", "0"])
        #expect(resend.code == 0, "\(resend)")
        let made = try w.bundles().filter { !had.contains($0) }
        #expect(!made.isEmpty)
        for path in made {
            let (_, kinds) = try PostQuantumCLITests.stanzaKinds(path)
            #expect(kinds.values.allSatisfy { $0 == .xwing }, "\(path): \(kinds)")
        }
    }

    @Test func applyRefusesAVersion1MemberOnItsLine() throws {
        let w = try Mixed(classical: ["carol"]).w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--require-pq"]).code == 0)
        let before = try w.snapshot("alice")
        let script = w.s.path("script.txt")
        try Data("rotate team\nadd team carol\n".utf8).write(to: URL(fileURLWithPath: script))
        let r = try w.rk("alice", ["apply", script])
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr.contains("line 2:") && r.stderr.contains("carol"), "\(r)")
        #expect(try w.snapshot("alice") == before)
        // The hint names the room in a command that can be run as it is.
        let add = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(add.code == 6 && add.stderr.contains("'roomkey room set team --no-require-pq'"), "\(add)")
    }
}

/// The same through a git remote: sync does not republish a sender-key file of this member that holds a version 1
/// stanza once the room requires post-quantum stanzas, and publishes the new key instead.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct PostQuantumSyncCLITests {
    @Test func syncDoesNotRepublishAVersion1KeyFileUnderRequirePQ() throws {
        let w = try GitWorld(["alice", "bob"])
        _ = try w.s.person("carol")
        try w.keyring("carol").makeClassicalIdentityForTests()
        let carolCard = try w.rk("carol", ["id", "export"]).stdout
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(carolCard.utf8)).code == 0)
        #expect(try w.rk("carol", ["contact", "add", "-"], stdin: Data((w.cards["alice"] ?? "").utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.addRemote(["alice", "bob", "carol"])
        try w.sync("alice")
        for p in ["bob", "carol"] { try w.sync(p) }
        // alice's generation 1 goes out while carol is on a version 1 card.
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        try w.sync("alice")
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let alice = try w.keyring("alice").identityCard().id.hex
        let prefix = "rooms/\(room)/keys/0/\(alice)-"
        #expect(try w.remoteFiles().contains(prefix + "1.roomkey"))
        // carol upgrades, alice learns it and requires post-quantum stanzas; the remote loses generation 1's file.
        let up = try w.rk("carol", ["id", "upgrade"])
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(up.stdout.utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "set", "team", "--require-pq"]).code == 0)
        try w.tamper([prefix + "1.roomkey": nil])
        try w.sync("alice")
        let files = try w.remoteFiles()
        #expect(!files.contains(prefix + "1.roomkey"), "\(files)")
        #expect(files.contains(prefix + "2.roomkey"), "\(files)")
        // carol reads alice's next message under the new key.
        try w.sync("carol")
        let msg = w.s.path("pq.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", msg], stdin: Data("pq only".utf8)).code == 0)
        #expect(try w.rk("carol", ["decrypt", msg]).stdout.contains("pq only"))
    }
}
