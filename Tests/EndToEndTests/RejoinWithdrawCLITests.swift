import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// `room rejoin` withdraws the room's leave requests without leaving a file nothing accounts for (a crash review): a
/// request not written yet (its `room leave` was killed) is never written, the file of one written already is removed
/// while it is still there as written, and one no longer there as written is named as possibly on its way.
@Suite struct RejoinWithdrawCLITests {
    /// A room `team` of alice (admin), bob and carol, everyone up to date; the files in the shared folder then.
    static func team() throws -> (RoomWorld, Set<String>) {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        return (w, Set(try w.bundles()))
    }

    @Test func aWrittenRequestStillThereIsRemoved() throws {
        let (w, before) = try Self.team()
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        let request = try #require(try w.bundles().first { !before.contains($0) })
        let r = try w.rk("carol", ["room", "rejoin", "team", "--json"])
        #expect(r.code == 0, "\(r)")
        let doc = try r.json()
        #expect(doc["withdrawn"] as? Int == 1 && doc["removed"] as? [String] == [request] && doc["still_out"] as? [String] == [], "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: request))
        #expect(Set(try w.bundles()) == before, "no file of carol's is left in the outbox folder")
    }

    @Test func aRequestNotWrittenYetIsNeverWritten() throws {
        let (w, before) = try Self.team()
        let killed = try w.s.roomkey("carol", ["room", "leave", "team"], env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": CrashPoint.afterCommit])
        #expect(killed.code == SIGKILL, "\(killed)")
        #expect(Set(try w.bundles()) == before)
        let r = try w.rk("carol", ["room", "rejoin", "team", "--json"])
        #expect(r.code == 0, "\(r)")
        let doc = try r.json()
        #expect(doc["withdrawn"] as? Int == 1 && doc["removed"] as? [String] == [] && doc["still_out"] as? [String] == [], "\(r.stdout)")
        #expect(Set(try w.bundles()) == before, "the withdrawn request was written")
        // The next command that settles the outbox sends carol's new sender key, and no leave request.
        #expect(try w.rk("carol", ["outbox", "flush"]).code == 0)
        for file in try w.bundles() where !before.contains(file) {
            #expect(!LeaveRequest.looksLike(Array(try Data(contentsOf: URL(fileURLWithPath: file)))), "\(file) is a leave request")
        }
    }

    @Test func aRequestNoLongerThereAsWrittenIsNamed() throws {
        let (w, _) = try Self.team()
        let file = w.s.path("leave.roomkey")
        #expect(try w.rk("carol", ["room", "leave", "team", "-o", file]).code == 0)
        try Data("changed".utf8).write(to: URL(fileURLWithPath: file))
        let r = try w.rk("carol", ["room", "rejoin", "team", "--json"])
        #expect(r.code == 0, "\(r)")
        #expect(try r.json()["still_out"] as? [String] == [file], "\(r.stdout)")
        #expect(r.stderr.contains("roomkey: warning: the leave request written to \(file) is no longer there as written"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: file) == Data("changed".utf8), "a file that is not the request is left alone")
    }
}
