import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A member who rotates without end, each key with a message far along its chain: what a receiver stores per key stays
/// small (found by a hostile review: each superseded key kept its 2,000 skipped message keys until retention), and an
/// honest member who rotates at every message loses none of them to the bound (found by the next review).
@Suite struct RotationFloodCLITests {
    /// `owner`'s sender keys in carol's keyring, and the keyring's size with its journal.
    static func held(_ w: RoomWorld, _ who: String, owner: IdentityID) throws -> (keys: Int, bytes: Int) {
        let k = try w.keyring(who)
        let keys = try k.read { db in try k.senderKeyInfos(db, k.findRoom(db, "team").id).filter { $0.owner == owner }.count }
        let bytes = [w.s.keyring(who), w.s.keyring(who) + "-wal"].reduce(0) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0)
        }
        return (keys, bytes)
    }

    @Test func aReceiverKeepsABoundedTailOfAFloodersKeys() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange()
        let state = try w.keyring("carol").room("team").state
        let bob = try w.keyring("bob").identity()
        let recipients = state.roster.sorted.filter { $0.id != bob.id }.map { (id: $0.id, key: $0.card.sealingKey) }
        let flood = GenerationHead.maxKept + 100
        let keys = w.s.path("flood"), messages = w.s.path("flood-messages")
        for dir in [keys, messages] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var messagePaths: [String] = []
        for g in 1...flood {
            let own = try OwnSenderKey.generate(roomID: state.roomID, owner: bob.id, epoch: state.epoch, generation: UInt32(g),
                                                random: SystemRandom())
            let bytes = try BundleSealer.seal(roomID: state.roomID, epoch: state.epoch, signer: bob.signing, recipients: recipients,
                                              content: BundleContent.encode(senderKey: own.shared, commits: []), random: SystemRandom())
            try Data(bytes).write(to: URL(fileURLWithPath: "\(keys)/k" + String(1_000 + g) + ".roomkey"))
            // A message at the chain's last reachable iteration: decrypting it keeps every skipped message key.
            var encryptor = MessageEncryptor(key: own, random: try SystemRandom())
            var last: RoomMessage?
            for _ in 0...SenderChain.maxSkipped { last = try encryptor.encrypt([1]) }
            let path = "\(messages)/m" + String(1_000 + g) + ".msg"
            try Data(try #require(last).bytes).write(to: URL(fileURLWithPath: path))
            messagePaths.append(path)
        }
        let before = try Self.held(w, "carol", owner: bob.id)
        let r = try w.rk("carol", ["receive", "-q", keys])
        #expect(r.code == 0, "\(r.stderr.prefix(300))")
        let out = w.s.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let d = try w.rk("carol", ["decrypt", "--json", "-o", out] + messagePaths)
        // Every message opens: a superseded key beyond the newest 64 keeps no more than 64 skipped message keys.
        #expect(d.code == 0, "\(d.stderr.prefix(300))")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any])
        let results = try #require(doc["results"] as? [[String: Any]])
        #expect(results.compactMap { $0["generation"] as? Int } == Array(1...flood))
        let after = try Self.held(w, "carol", owner: bob.id)
        #expect(before.keys == 1)
        #expect(after.keys == flood + 1)
        // The current key and the newest 64 superseded ones keep up to 2,000 skipped message keys (36 bytes each); every
        // older one at most 64. Before the bound each of the 165 kept 2,000 (about 12.5 MB).
        let full = (GenerationHead.maxKept + 1) * (SenderChain.maxSkipped * 36 + 4_096) * 13 / 10
        let bound = full + (flood - GenerationHead.maxKept) * (SenderChain.maxSkippedSuperseded * 36 + 4_096) * 2
        #expect(after.bytes - before.bytes < bound, "\(after.bytes - before.bytes) bytes for \(flood) keys")
    }

    /// A room whose policy rotates at every message: a member who was away reads all of them, however many keys were
    /// superseded before it decrypts.
    @Test func everyMessageOpensWhenTheRoomRotatesAtEachOne() throws {
        let w = try RoomWorld.team(["bob"])
        #expect(try w.rk("alice", ["room", "set", "team", "--rotate-messages", "1"]).code == 0)
        let count = GenerationHead.maxKept + 6
        var messages: [String] = []
        for i in 0..<count {
            let path = w.s.path("m\(1_000 + i).msg")
            #expect(try w.rk("alice", ["encrypt", "team", "-q", "-o", path], stdin: Data("message \(i)".utf8)).code == 0)
            messages.append(path)
        }
        #expect(try w.rk("bob", ["receive", "-q", w.shared]).code == 0)
        let out = w.s.path("read")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let d = try w.rk("bob", ["decrypt", "-q", "-o", out] + messages)
        #expect(d.code == 0, "\(d.stderr.prefix(400))")
    }

    /// Messages of a key superseded since, read out of order (a folder in name order: m1, m10, m100, ...): each opens,
    /// as before the bound (found by a review of 3b0cb40, which capped every superseded key at 64 skipped keys).
    @Test func lateMessagesOfAKeySupersededSinceOpenInAnyOrder() throws {
        let w = try RoomWorld.team(["bob"])
        #expect(try w.rk("alice", ["room", "set", "team", "--rotate-messages", "100"]).code == 0)
        let folder = w.s.path("late")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 1...101 {
            #expect(try w.rk("alice", ["encrypt", "team", "-q", "-o", "\(folder)/m\(i).msg"], stdin: Data("message \(i)".utf8)).code == 0)
        }
        // bob gets alice's next generation first, then reads the folder in name order.
        #expect(try w.rk("bob", ["receive", "-q", w.shared]).code == 0)
        let out = w.s.path("late-read")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let d = try w.rk("bob", ["decrypt", "-q", folder, "-o", out])
        #expect(d.code == 0, "\(d.stderr.prefix(400))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 101)
    }
}
