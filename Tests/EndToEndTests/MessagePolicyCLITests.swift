import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Retention of superseded keys and the rotation policy, with an injected clock (`ROOMKEY_TEST_NOW`).
@Suite struct MessagePolicyCLITests {
    static let t0: UInt64 = 2_000_000_000
    static let hour: UInt64 = 3_600

    @Test func retentionDeletesSupersededKeysOnTime() throws {
        let t0 = Self.t0, hour = Self.hour, window = 72 * hour
        let w = try RoomWorld.team(["bob", "carol"], now: t0)
        #expect(try w.run("bob", ["room", "show", "team", "--json"], now: t0).json()["retention_seconds"] as? Int == 259_200)
        let g0 = try (0..<2).map { try w.send("alice", Array("generation 0, \($0)".utf8), now: t0) }
        // alice rotates at t0+1h: generation 0 is superseded for bob when he receives the new key.
        #expect(try w.run("alice", ["room", "rotate", "team"], now: t0 + hour).code == 0)
        try w.exchange(["alice", "bob", "carol"], now: t0 + hour)
        let g1 = try (0..<2).map { try w.send("alice", Array("generation 1, \($0)".utf8), now: t0 + hour) }
        // alice adds dave at t0+2h: epoch 0 is superseded.
        #expect(try w.run("alice", ["room", "add", "team", "dave"], now: t0 + 2 * hour).code == 0)
        try w.exchange(["alice", "bob", "carol", "dave"], now: t0 + 2 * hour)

        // One second before generation 0 expires it still decrypts.
        #expect(try w.receiveMessage("bob", g0[0], now: t0 + hour + window - 1).1 == Array("generation 0, 0".utf8))
        // Then prune deletes exactly that key, and its message gets exit 4 saying why.
        let pruned = try w.run("bob", ["prune", "--json"], now: t0 + hour + window)
        #expect(pruned.code == 0, "\(pruned)")
        #expect(try pruned.json()["deleted_sender_keys"] as? Int == 1)
        let (late, none) = try w.receiveMessage("bob", g0[1], now: t0 + hour + window)
        #expect(late.code == 4, "\(late)")
        #expect(late.stderr.contains("retention deleted its key"))
        #expect(none == nil)
        #expect(try w.receiveMessage("bob", g1[0], now: t0 + hour + window).1 == Array("generation 1, 0".utf8))
        // Epoch 0 expires 72h after t0+2h; decrypt itself prunes first (no prune command in between).
        let (gone, _) = try w.receiveMessage("bob", g1[1], now: t0 + 2 * hour + window)
        #expect(gone.code == 4 && gone.stderr.contains("retention deleted its key"), "\(gone)")
        #expect(try w.run("bob", ["prune", "--json"], now: t0 + 2 * hour + window).json()["deleted_sender_keys"] as? Int == 0)
        let keys = try w.keyring("bob").senderKeys(of: "team")
        #expect(keys.allSatisfy { $0.epoch == 1 })
        // carol, who ran nothing meanwhile, loses the same keys at her next command.
        let carolPrune = try w.run("carol", ["prune", "--json"], now: t0 + 2 * hour + window)
        #expect(try carolPrune.json()["deleted_sender_keys"] as? Int ?? 0 >= 3, "\(carolPrune)")
    }

    @Test func aShorterRetentionAppliesAtOnceAndOlderThanOverrides() throws {
        let t0 = Self.t0, hour = Self.hour
        let w = try RoomWorld.team(["bob"], now: t0)
        let m = try w.send("alice", Array("old generation".utf8), now: t0)
        #expect(try w.run("alice", ["room", "rotate", "team"], now: t0).code == 0)
        try w.exchange(["bob"], now: t0)
        let set = try w.run("bob", ["room", "set", "team", "--retention", "30m", "--json"], now: t0 + hour)
        #expect(set.code == 0, "\(set)")
        #expect(try set.json()["retention_seconds"] as? Int == 1_800)
        #expect(try set.json()["deleted_sender_keys"] as? Int == 1)
        #expect(try w.run("bob", ["room", "show", "team", "--json"], now: t0).json()["retention_seconds"] as? Int == 1_800)
        #expect(try w.run("bob", ["room", "show", "team"], now: t0).stdout.contains("retention:   30m"))
        #expect(try w.receiveMessage("bob", m, now: t0 + hour).0.code == 4)
        // alice keeps 72h, but prune --older-than 0s deletes every superseded key (her own old generation).
        #expect(try w.run("alice", ["prune", "--json"], now: t0 + hour).json()["deleted_sender_keys"] as? Int == 0)
        let now = try w.run("alice", ["prune", "--older-than", "0s", "--json"], now: t0 + hour)
        #expect(try now.json()["deleted_sender_keys"] as? Int == 1, "\(now)")
        let bad = try w.run("alice", ["prune", "--older-than", "soon"])
        #expect(bad.code == 64 && bad.stderr.contains("write a duration like 72h"), "\(bad)")
        #expect(try w.run("alice", ["room", "set", "team"]).code == 64)
        #expect(try w.run("alice", ["room", "set", "team", "--rotate-messages", "0"]).code == 64)
    }

    @Test func rotationPolicyByMessagesAndByAge() throws {
        let t0 = Self.t0, hour = Self.hour
        let w = try RoomWorld.team(["bob"], now: t0)
        let set = try w.run("alice", ["room", "set", "team", "--rotate-messages", "3", "--rotate-after", "1h", "--json"], now: t0)
        #expect(try set.json()["rotate_messages"] as? Int == 3)
        #expect(try set.json()["rotate_after_seconds"] as? Int == 3_600)
        let bundlesBefore = try w.bundles().count
        let first = try (0..<3).map { try w.send("alice", Array("m\($0)".utf8), now: t0) }
        #expect(try w.bundles().count == bundlesBefore)
        // The 4th message needs a new generation first: its bundle goes to the outbox, and encrypt says so.
        let out = w.s.path("fourth.bin")
        let fourth = try w.run("alice", ["encrypt", "team", "-o", out], stdin: Data("m3".utf8), now: t0)
        #expect(fourth.code == 0, "\(fourth)")
        #expect(fourth.stderr.contains("made a new sender key for room team first"))
        #expect(try w.bundles().count == bundlesBefore + 1)
        #expect(try w.receiveMessage("bob", out, now: t0).0.code == 5)
        try w.exchange(["bob"], now: t0)
        #expect(try w.receiveMessage("bob", out, now: t0).1 == Array("m3".utf8))
        for (i, path) in first.enumerated() { #expect(try w.receiveMessage("bob", path, now: t0).1 == Array("m\(i)".utf8)) }
        // By age: the generation made at t0 is used until t0+1h, then replaced.
        let young = try w.run("alice", ["encrypt", "team", "--json"], stdin: Data("young".utf8), now: t0 + hour - 1).json()
        #expect(young["generation"] as? Int == 1 && young["bundle"] == nil)
        let old = try w.run("alice", ["encrypt", "team", "--json"], stdin: Data("old".utf8), now: t0 + hour).json()
        #expect(old["generation"] as? Int == 2 && old["iteration"] as? Int == 0)
        #expect((old["bundle"] as? String)?.hasPrefix(w.shared) == true)
        // An output that cannot be written (a missing folder) is refused before anything changes: no rotation, no
        // iteration used. (A write that fails after the commit burns its iteration: the ratchet step commits first.)
        #expect(try w.run("alice", ["room", "set", "team", "--rotate-messages", "1"], now: t0 + hour).code == 0)
        let bundles = try w.bundles().count
        let failed = try w.run("alice", ["encrypt", "team", "-o", w.s.path("no/such/folder/m.bin")], stdin: Data("lost".utf8), now: t0 + hour)
        #expect(failed.code == 1, "\(failed)")
        #expect(try w.bundles().count == bundles)
        let next = try w.run("alice", ["encrypt", "team", "--json"], stdin: Data("kept".utf8), now: t0 + hour).json()
        #expect(next["generation"] as? Int == 3 && next["iteration"] as? Int == 0)
    }

}
