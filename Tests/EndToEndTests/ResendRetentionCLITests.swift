import Foundation
import Testing

/// `outbox resend` of an epoch that ended longer ago than the room's retention hands out no key of it again (a review:
/// a member who never held that key got it, past the window that was to make those messages unreadable); its commit
/// alone goes with `--with-commit`, and the current epoch is resent as before.
@Suite struct ResendRetentionCLITests {
    @Test func anEpochPastTheRetentionIsNotResentWithItsKeys() throws {
        let t: UInt64 = 1_800_000_000
        let w = try RoomWorld.team(["bob", "carol"], now: t)
        #expect(try w.run("bob", ["room", "set", "team", "--retention", "1h"], now: t).code == 0)
        #expect(try w.run("alice", ["room", "promote", "team", "carol"], now: t + 60).code == 0)
        try w.exchange(["alice", "bob", "carol"], now: t + 60)
        // Within the hour, epoch 0 is resent as before.
        let within = try w.run("bob", ["outbox", "resend", "team", "--epoch", "0", "--json"], now: t + 1_800)
        #expect(within.code == 0, "\(within)")
        let late = try w.run("bob", ["outbox", "resend", "team", "--epoch", "0"], now: t + 60 + 3_600)
        #expect(late.code == 6 && late.stderr.contains("ended longer ago than the room's retention"), "\(late)")
        let commit = try w.run("bob", ["outbox", "resend", "team", "--epoch", "0", "--with-commit", "--json"], now: t + 60 + 3_600)
        #expect(commit.code == 0, "\(commit)")
        #expect((try commit.json()["bundles"] as? [String])?.count == 1, "\(commit)")
        let current = try w.run("bob", ["outbox", "resend", "team", "--epoch", "1"], now: t + 60 + 3_600)
        #expect(current.code == 0, "\(current)")
    }
}
