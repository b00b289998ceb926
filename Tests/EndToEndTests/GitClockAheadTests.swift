import Foundation
import Testing

/// An admin whose clock runs far ahead publishes a commit that every other member refuses ("more than 24 hours
/// ahead"): kept at its path, it stopped every other admin from changing the room until that date, a removal of that
/// admin included (a review). Past 30 days ahead of the judging clock it is replaced like any invalid file.
@Suite struct GitClockAheadTests {
    @Test func aCommitDatedYearsAheadDoesNotHoldTheEpoch() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "carol"] { try w.sync(p) }
        let epoch = try w.state("alice").0
        let ahead = ["ROOMKEY_TEST_NOW": String(UInt64(Date().timeIntervalSince1970) + 10 * 365 * 86_400)]
        let bobs = try w.rk("bob", ["room", "add", "team", "dave"], env: ahead)
        #expect(bobs.code == 0, "\(bobs)")
        _ = try w.rk("carol", ["sync"])
        #expect(try w.state("carol").0 == epoch, "carol refuses a commit ten years ahead")
        let remove = try w.rk("alice", ["room", "remove", "team", "bob"])
        #expect(remove.code == 0, "\(remove)")
        #expect(try w.state("alice").0 == epoch + 1)
        try w.sync("carol")
        #expect(try w.state("carol") == w.state("alice"))
    }
}
