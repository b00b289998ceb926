import Foundation
import Testing

/// `outbox resend` by a member who did not make the epoch's commit: its own bundles of that epoch carry keys alone, so
/// a keyring that lost the commit (an admin restored from a backup) could not catch up from them (a review: the restored
/// admin's `receive` of a member's resend stayed pending, and its next commit forked the room). `--with-commit` adds the
/// commit; the recorded bundles still go byte for byte (the review of the first fix: a key re-sealed from the ratchet
/// as it stood skipped the messages already sent, and the others got exit 2 for a resend they already had).
@Suite struct MemberResendCLITests {
    @Test func aMembersResendBringsARestoredAdminBackToTheEpoch() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try w.exchange(["bob", "carol"])
        #expect(try w.show("carol")["epoch"] as? Int == 1)
        // carol writes under her epoch 1 key before anyone resends anything.
        let early = w.s.path("early.msg")
        #expect(try w.rk("carol", ["encrypt", "team", "-o", early], stdin: Data("early".utf8)).code == 0)
        #expect(try w.rk("alice", ["restore", backup, "--force"]).code == 0)
        #expect(try w.show("alice")["epoch"] as? Int == 0)

        // Without the commit, a member's resend is its own bundles again, byte for byte: duplicates for bob.
        let plain = try w.rk("carol", ["outbox", "resend", "team", "--epoch", "1", "--json"])
        #expect(plain.code == 0, "\(plain)")
        let plainFiles = try #require(try plain.json()["bundles"] as? [String])
        let bob = try w.rk("bob", ["receive", "--json"] + plainFiles)
        #expect(bob.code == 0, "\(bob)")
        #expect(((try bob.json()["results"] as? [[String: Any]]) ?? []).allSatisfy { $0["status"] as? String == "duplicate" }, "\(bob)")

        let resend = try w.rk("carol", ["outbox", "resend", "team", "--epoch", "1", "--with-commit", "--json"])
        #expect(resend.code == 0, "\(resend)")
        let files = try #require(try resend.json()["bundles"] as? [String])
        #expect(files.count == plainFiles.count + 1, "\(resend)")
        let received = try w.rk("alice", ["receive"] + files)
        #expect(received.code == 0, "\(received)")
        let shown = try w.show("alice")
        #expect(shown["epoch"] as? Int == 1, "\(shown)")
        let handles = (shown["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
        #expect(handles.sorted() == ["alice", "bob", "carol"])
        // carol's key came from message 0: what she wrote before the resend reads, and so does what she writes after.
        let read = try w.rk("alice", ["decrypt", early])
        #expect(read.code == 0 && read.stdout == "early", "\(read)")
        let late = w.s.path("late.msg")
        #expect(try w.rk("carol", ["encrypt", "team", "-o", late], stdin: Data("late".utf8)).code == 0)
        let readLate = try w.rk("alice", ["decrypt", late])
        #expect(readLate.code == 0 && readLate.stdout == "late", "\(readLate)")
        // Caught up, the admin's next commit follows the others' log instead of forking it.
        let add = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        #expect(add.code == 0, "\(add)")
        let bundle = try #require(try add.json()["bundle"] as? String)
        let next = try w.rk("bob", ["receive", bundle])
        #expect(next.code == 0, "\(next)")
        #expect(try w.show("bob")["epoch"] as? Int == 2)
    }

    /// alice's room "team" with bob and carol, made and received at `t0` (now), each command run at a clock it is given.
    static func clockedTeam() throws -> (RoomWorld, UInt64, (String, UInt64, [String]) throws -> Run) {
        let w = try RoomWorld()
        let t0 = UInt64(Date().timeIntervalSince1970)
        let at = { (who: String, t: UInt64, args: [String]) throws -> Run in
            try w.s.roomkey(who, args, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_NOW": String(t)])
        }
        #expect(try at("alice", t0, ["room", "create", "team", "--member", "bob", "--member", "carol", "-o", w.s.path("g")]).code == 0)
        #expect(try at("bob", t0, ["receive", w.s.path("g")]).code == 0)
        return (w, t0, at)
    }

    /// An admin's own commit whose recorded bundle is gone (30 days) while a later rotation of the epoch is kept is still
    /// resent, first: the resend was that rotation alone, and a member who lost the commit could only keep it waiting
    /// (a review).
    @Test func anAdminsResendCarriesItsCommitAfterItsRecordIsPruned() throws {
        let (w, t0, at) = try Self.clockedTeam()
        let day: UInt64 = 86_400
        #expect(try at("alice", t0 + day, ["room", "remove", "team", "carol", "-o", w.s.path("lost")]).code == 0)
        #expect(try at("alice", t0 + 25 * day, ["room", "rotate", "team", "-o", w.s.path("rot")]).code == 0)
        let resend = try at("alice", t0 + 35 * day, ["outbox", "resend", "team", "--json"])
        #expect(resend.code == 0, "\(resend)")
        let files = try #require(try resend.json()["bundles"] as? [String])
        #expect(files.count == 2, "\(resend)")
        // The commit first, then the rotation byte for byte.
        #expect(try Data(contentsOf: URL(fileURLWithPath: files[1])) == Data(contentsOf: URL(fileURLWithPath: w.s.path("rot"))))
        let bob = try at("bob", t0 + 35 * day, ["receive"] + files)
        #expect(bob.code == 0, "\(bob)")
        #expect(try w.show("bob")["epoch"] as? Int == 1)
    }
}

/// A member's delivered sender-key bundles go from its outbox once their epoch's keys are past the room's retention,
/// not after 30 days: each commit of a large room added one as large as the roster (a review: 774 KB a commit for
/// 652 members on version 2 cards, 206 MB after 265 commits).
@Suite struct OutboxKeyExpiryCLITests {
    @Test func aSupersededSenderKeyLeavesTheOutboxAfterTheRetention() throws {
        let (w, t0, at) = try MemberResendCLITests.clockedTeam()
        let hour: UInt64 = 3_600
        #expect(try at("alice", t0 + hour, ["room", "remove", "team", "carol", "-o", w.s.path("r")]).code == 0)
        #expect(try at("bob", t0 + hour, ["receive", w.s.path("r")]).code == 0)
        func keyEpochs(_ t: UInt64) throws -> [Int] {
            #expect(try at("bob", t, ["prune"]).code == 0)
            let list = try at("bob", t, ["outbox", "list", "--json"])
            let entries = (try list.json()["entries"] as? [[String: Any]]) ?? []
            return entries.filter { $0["kind"] as? String == "sender-key" }.compactMap { $0["epoch"] as? Int }.sorted()
        }
        #expect(try keyEpochs(t0 + 2 * hour) == [0, 1])
        // Epoch 0 ended at t0 + 1 h; the default retention is 72 h.
        #expect(try keyEpochs(t0 + 72 * hour) == [0, 1])
        #expect(try keyEpochs(t0 + 74 * hour) == [1])
        // alice's commit bundles stay.
        let alice = try at("alice", t0 + 74 * hour, ["outbox", "list", "--json"])
        let kinds = ((try alice.json()["entries"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.filter { $0 == "commit" }.count == 2, "\(alice)")
    }
}
