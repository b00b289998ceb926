import Foundation
import Testing

/// A sender key whose retention window has ended opens no message, though the prune that deletes it runs at most every
/// ten minutes (a hostile review: it still decrypted for up to 600 s), alone and in a batch.
@Suite struct ExpiredKeyCLITests {
    @Test func aKeyPastItsWindowOpensNothingBeforeThePruneRuns() throws {
        let t: UInt64 = 1_800_000_000
        let w = try RoomWorld.team(["bob"], now: t)
        #expect(try w.run("alice", ["room", "set", "team", "--retention", "0s"], now: t).code == 0)
        let old = try w.send("bob", Array("old".utf8), now: t)
        let batchOld = try w.send("bob", Array("old too".utf8), now: t)
        // bob rotates at t + 100; alice receives the new key (that receive prunes, and the old key is not superseded yet).
        #expect(try w.run("bob", ["room", "rotate", "team"], now: t + 100).code == 0)
        try w.exchange(["alice"], now: t + 100)
        // At t + 400 the automatic prune does not run (it ran 300 s ago), but the old key's window (0 s) has ended.
        let (single, plain) = try w.receiveMessage("alice", old, now: t + 400)
        #expect(single.code == 4 && single.stderr.contains("retention"), "\(single)")
        #expect(plain == nil)
        let batch = try w.run("alice", ["decrypt", "--json", "--suffix", ".out", batchOld], now: t + 400)
        #expect(batch.code == 4, "\(batch)")
        let result = try #require((try batch.json()["results"] as? [[String: Any]])?.first)
        #expect((result["error"] as? String)?.contains("retention") == true, "\(batch)")
        // A message under the current key still opens.
        let fresh = try w.send("bob", Array("new".utf8), now: t + 400)
        let (ok, text) = try w.receiveMessage("alice", fresh, now: t + 400)
        #expect(ok.code == 0 && text == Array("new".utf8), "\(ok)")
    }
}
