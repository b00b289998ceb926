import Foundation
import Testing
@testable import RoomKey

/// `outbox resend --epoch N` for an epoch from before this keyring joined the room says so (it said "no epoch N",
/// though `room log` lists that epoch: a review), with the same exit code as an epoch it does not hold.
@Suite struct ResendBeforeJoinCLITests {
    @Test func anEpochBeforeJoiningIsNamedAsSuch() throws {
        let w = try RoomWorld()
        let (g, a) = (w.s.path("g"), w.s.path("a"))
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-o", g]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "carol", "-o", a]).code == 0)
        #expect(try w.rk("carol", ["receive", a]).code == 0)
        let before = try w.rk("carol", ["outbox", "resend", "team", "--epoch", "0"])
        #expect(before.stderr.contains("epoch 0 of room \"team\" is from before this keyring joined it (epoch 1)"), "\(before)")
        let later = try w.rk("carol", ["outbox", "resend", "team", "--epoch", "5"])
        #expect(later.stderr.contains("has no epoch 5 here"), "\(later)")
        #expect(before.code == later.code && before.code != 0, "\(before) \(later)")
    }
}
