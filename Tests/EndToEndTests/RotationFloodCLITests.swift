import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A member who rotates without end, each key with a message far along its chain: a receiver's store stays bounded
/// (found by a hostile review: each superseded key, with its 2,000 skipped message keys, was kept until retention).
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
        let flood = GenerationHead.maxKept + 40
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
        // The newest keys' messages open; those of keys deleted to make room say that their key was deleted. bob's
        // first key and flood keys 1 to 39 were superseded before the newest 64 (flood keys 40 to 103).
        #expect(d.code == 4, "\(d.stderr.prefix(300))")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any])
        let results = try #require(doc["results"] as? [[String: Any]])
        let opened = results.compactMap { $0["generation"] as? Int }
        #expect(opened == Array((flood - GenerationHead.maxKept)...flood))
        let failed = results.filter { $0["status"] as? String != "ok" }
        #expect(failed.count == flood - GenerationHead.maxKept - 1)
        #expect(failed.allSatisfy { ($0["error"] as? String ?? "").contains("retention deleted its key") })
        let after = try Self.held(w, "carol", owner: bob.id)
        #expect(before.keys == 1)
        #expect(after.keys == GenerationHead.maxKept + 1)
        // Each kept key carries 2,000 skipped message keys (36 bytes each); a key deleted carries none.
        let bound = (GenerationHead.maxKept + 1) * (SenderChain.maxSkipped * 36 + 4_096) * 2
        #expect(after.bytes - before.bytes < bound, "\(after.bytes - before.bytes) bytes for \(flood) keys")
    }
}
