import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Four people (alice admin, bob, carol, dave) with keyrings in one sandbox, exchanging bundles through one folder.
final class RoomWorld {
    let s: Sandbox
    let shared: String
    let people = ["alice", "bob", "carol", "dave"]

    convenience init() throws {
        let s = try Sandbox()
        var cards: [String: String] = [:]
        for p in ["alice", "bob", "carol", "dave"] { cards[p] = try s.person(p) }
        try self.init(sandbox: s, cards: cards)
    }

    /// A world of people whose keyrings `sandbox` already holds, with their exported `cards`.
    init(sandbox: Sandbox, cards: [String: String]) throws {
        s = sandbox
        shared = s.path("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        let all = ["bob", "carol", "dave"].compactMap { cards[$0] }.joined(separator: "\n")
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(all.utf8)).code == 0)
        for p in ["bob", "carol", "dave"] {
            #expect(try s.roomkey(p, ["contact", "add", "-"], stdin: Data((cards["alice"] ?? "").utf8)).code == 0)
        }
    }

    /// alice's room "team" of `members`, its genesis (file `g`) received by each of them, and `admin` promoted (file
    /// `p`) as received by `promotedTo` only: two admins who can then take one epoch apart.
    func twoAdminTeam(members: [String], admin: String, promotedTo: [String]) throws {
        #expect(try rk("alice", ["room", "create", "team", "-o", s.path("g")] + members.flatMap { ["--member", $0] }).code == 0)
        for p in members { #expect(try rk(p, ["receive", s.path("g")]).code == 0) }
        #expect(try rk("alice", ["room", "promote", "team", admin, "-o", s.path("p")]).code == 0)
        for p in promotedTo { #expect(try rk(p, ["receive", s.path("p")]).code == 0) }
    }

    /// Runs roomkey as `who` with the shared folder as outbox.
    func rk(_ who: String, _ args: [String], stdin: Data? = nil) throws -> Run {
        try s.roomkey(who, args, stdin: stdin, env: ["ROOMKEY_OUTBOX": shared])
    }

    /// Every bundle in the shared folder.
    func bundles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: shared).sorted().map { shared + "/" + $0 }
    }

    /// Everyone in `who` receives every bundle, in shuffled order, until no one writes anything new.
    func exchange(_ who: [String]? = nil) throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let before = try bundles().count
            for p in (who ?? people).shuffled(using: &rng) {
                let r = try rk(p, ["receive", "--json"] + (try bundles()).shuffled(using: &rng))
                #expect(r.code == 0, "receive as \(p): \(r)")
            }
            if try bundles().count == before { return }
        }
    }

    /// `room show --json` as `who`.
    func show(_ who: String, room: String = "team") throws -> [String: Any] {
        try rk(who, ["room", "show", room, "--json"]).json()
    }

    /// Opens `who`'s keyring through the library (no passphrase), for building hostile inputs.
    func keyring(_ who: String) throws -> Keyring {
        try Keyring.open(path: s.keyring(who), passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
    }

    /// Every row of every table of `who`'s keyring, to prove that a refused input changed nothing.
    func snapshot(_ who: String) throws -> [String] {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: s.keyring(who), configuration: config)
        return try db.read { db in
            // The write counter ticks with every transaction, including the automatic prune a command starts with.
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'write_counter' ORDER BY name")
            return try tables.flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\(table): \($0)" }.sorted()
            }
        }
    }

    /// Writes a bundle built with the library by `who`, sealed to `recipients`, carrying `commits` and optionally a new key.
    func forge(_ who: String, room: String = "team", epoch: UInt64? = nil, commits: [Commit] = [], withKey: Bool = true,
               recipients: (StoredRoom, IdentityID) -> [Member]) throws -> String {
        let keyring = try keyring(who)
        let me = try keyring.identity()
        let stored = try keyring.room(room)
        let targets = recipients(stored, me.id).map { (id: $0.id, key: $0.card.sealingKey) }
        let ep = epoch ?? stored.state.epoch
        let content: SecretBytes
        if withKey {
            let own = try OwnSenderKey.generate(roomID: stored.id, owner: me.id, epoch: ep, generation: 9, random: SystemRandom())
            content = BundleContent.encode(senderKey: own.shared, commits: commits)
        } else {
            content = BundleContent.encode(commits: commits)
        }
        let bytes = try BundleSealer.seal(roomID: stored.id, epoch: ep, signer: me.signing, recipients: targets, content: content,
                                          random: SystemRandom())
        let path = s.path("forged-\(UUID().uuidString).roomkey")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
