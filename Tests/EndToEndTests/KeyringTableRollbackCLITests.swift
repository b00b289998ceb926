import Foundation
import GRDB
import Testing

/// More tables whose rows a decision rests on, checked against their digest before it (hostile reviews): a
/// `member_tenure` row put back from before a removal made decrypt believe the removed member again; deleted
/// `contact_key_history` rows made `offboard` leave a contact's old key in the room; a published `staged_intent`
/// put back made `sync` sign and push it again, re-adding a removed member.
@Suite struct KeyringTableRollbackCLITests {
    static func rows(_ path: String, _ sql: String) throws -> [Row] {
        let db = try DatabaseQueue(path: path)
        defer { try? db.close() }
        return try db.read { db in try Row.fetchAll(db, sql: sql) }
    }

    static func write(_ path: String, _ sql: String, _ arguments: [StatementArguments]) throws {
        let db = try DatabaseQueue(path: path)
        try db.write { db in for a in arguments { try db.execute(sql: sql, arguments: a) } }
        try db.close()
    }

    @Test func anOlderTenureRowIsRefusedByDecrypt() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "-o", w.s.path("g")]).code == 0)
        for p in ["bob", "carol"] { #expect(try w.rk(p, ["receive", w.s.path("g")]).code == 0) }
        let before = try Self.rows(w.s.keyring("carol"), "SELECT member_tag, sealed FROM member_tenure")
        #expect(try w.rk("alice", ["room", "remove", "team", "bob", "-o", w.s.path("r")]).code == 0)
        #expect(try w.rk("carol", ["receive", w.s.path("r")]).code == 0)
        #expect(try w.rk("bob", ["encrypt", "team", "-o", w.s.path("m")], stdin: Data("removed but talking\n".utf8)).code == 0)
        #expect(try w.rk("carol", ["decrypt", w.s.path("m")]).code == 2)
        try Self.write(w.s.keyring("carol"), "UPDATE member_tenure SET sealed = ? WHERE member_tag = ?",
                       before.map { [$0["sealed"] as Data, $0["member_tag"] as Data] })
        let r = try w.rk("carol", ["decrypt", w.s.path("m")])
        #expect(r.code == 2 && r.stdout.isEmpty && r.stderr.contains("rows of member_tenure were added, deleted or changed"), "\(r)")
    }

    @Test func deletedKeyHistoryIsRefusedByOffboard() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "-q"]).code == 0)
        // carol's key changes; alice takes the new card and accepts it: the old key stays in the room, in carol's history.
        try FileManager.default.removeItem(atPath: w.s.keyring("carol"))
        let card = try w.s.person("carol")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        #expect(try w.rk("alice", ["contact", "accept", "carol"]).code == 0)
        try Self.write(w.s.keyring("alice"), "DELETE FROM contact_key_history", [[]])
        let r = try w.rk("alice", ["offboard", "carol"])
        #expect(r.code == 2 && r.stderr.contains("rows of contact_key_history were added, deleted or changed"), "\(r)")
    }

    /// A remote's older row put back (a URL the user moved away from) is refused, as a deleted identity row is.
    /// The audit head deleted (and the entries with it) is refused by the next writing command, as an edit: it failed
    /// with SQLite's "UNIQUE constraint failed" (exit 1), and with the entries gone too the chain began again at 1 (a review).
    @Test(arguments: [["DELETE FROM audit_head"], ["DELETE FROM audit_head", "DELETE FROM audit_entry"]])
    func aDeletedAuditHeadIsRefusedByTheNextChange(_ statements: [String]) throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        for sql in statements { try Self.write(w.s.keyring("alice"), sql, [[]]) }
        let r = try w.rk("alice", ["room", "set", "team", "--retention", "48h"])
        #expect(r.code == 2 && r.stderr.contains("rows of audit_head were added, deleted or changed"), "\(statements): \(r)")
        #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("roomkey: error:") }.count == 1, "\(r.stderr)")
    }

    /// The roster row of the room's epoch deleted: receive stops on the edit, and does not reject the valid bundle as
    /// "for an epoch before this keyring joined" (a review: that blamed its sender, and the bundle was not kept).
    @Test func aDeletedRosterRowIsAnEditNotARejectedBundle() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-o", w.s.path("g")]).code == 0)
        #expect(try w.rk("bob", ["receive", w.s.path("g")]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "carol", "-o", w.s.path("a")]).code == 0)
        try Self.write(w.s.keyring("bob"), "DELETE FROM room_epoch", [[]])
        let r = try w.rk("bob", ["receive", w.s.path("a")])
        #expect(r.code == 2 && r.stderr.contains("keyring was edited: the roster of epoch 0 of room team is missing from room_epoch"), "\(r)")
        #expect(!r.stderr.contains("before this keyring joined"), "\(r)")
    }

    @Test func anOlderRemoteRowOrADeletedIdentityIsRefused() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["remote", "add", "origin", w.s.path("old.git")]).code == 0)
        let old = try #require(try Self.rows(w.s.keyring("alice"), "SELECT name_tag, seq, sealed FROM remote").first)
        #expect(try w.rk("alice", ["remote", "remove", "origin"]).code == 0)
        #expect(try w.rk("alice", ["remote", "add", "origin", w.s.path("new.git")]).code == 0)
        try Self.write(w.s.keyring("alice"), "UPDATE remote SET sealed = ? WHERE name_tag = ?", [[old["sealed"] as Data, old["name_tag"] as Data]])
        let r = try w.rk("alice", ["remote", "list"])
        #expect(r.code == 2 && r.stderr.contains("rows of remote were added, deleted or changed"), "\(r)")
        try Self.write(w.s.keyring("bob"), "DELETE FROM identity", [[]])
        let id = try w.rk("bob", ["id"])
        #expect(id.code == 2 && id.stderr.contains("rows of identity were added, deleted or changed"), "\(id)")
    }

    /// A deleted commit row is refused where a decision rests on the log: it read as "no such commit", so an old leave
    /// request of a member added back since was taken again and removed the member (a hostile review).
    @Test func aDeletedCommitRowIsRefusedByALeaveDecision() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "-o", w.s.path("g")]).code == 0)
        for p in ["bob", "carol"] { #expect(try w.rk(p, ["receive", w.s.path("g")]).code == 0) }
        #expect(try w.rk("bob", ["room", "leave", "team", "-o", w.s.path("leave")]).code == 0)
        #expect(try w.rk("alice", ["receive", w.s.path("leave")]).code == 0)
        let before = Set(try Self.rows(w.s.keyring("alice"), "SELECT commit_tag FROM room_commit").map { $0["commit_tag"] as Data })
        #expect(try w.rk("alice", ["room", "add", "team", "bob"]).code == 0)
        let readd = try #require(try Self.rows(w.s.keyring("alice"), "SELECT commit_tag FROM room_commit")
            .map { $0["commit_tag"] as Data }.first { !before.contains($0) })
        // Enough commits after it that the current roster no longer reads it.
        for _ in 0..<16 {
            #expect(try w.rk("alice", ["room", "promote", "team", "carol"]).code == 0)
            #expect(try w.rk("alice", ["room", "demote", "team", "carol"]).code == 0)
        }
        try Self.write(w.s.keyring("alice"), "DELETE FROM room_commit WHERE commit_tag = ?", [[readd]])
        let r = try w.rk("alice", ["receive", w.s.path("leave")])
        #expect(r.code == 2 && r.stderr.contains("rows of room_commit were added, deleted or changed"), "\(r)")
    }

    /// The last audit entries deleted and an older head put back: `audit` showed a whole chain without them.
    @Test func aShortenedAuditLogIsRefused() throws {
        let w = try RoomWorld()
        let path = w.s.keyring("alice")
        let head = try #require(try Self.rows(path, "SELECT sealed FROM audit_head").first)
        let last = try #require(try Self.rows(path, "SELECT max(seq) AS seq FROM audit_entry").first?["seq"] as Int64?)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        try Self.write(path, "DELETE FROM audit_entry WHERE seq > ?", [[last]])
        try Self.write(path, "UPDATE audit_head SET sealed = ?", [[head["sealed"] as Data]])
        let r = try w.rk("alice", ["audit"])
        #expect(r.code == 2 && r.stdout.isEmpty && r.stderr.contains("rows of audit_"), "\(r)")
    }
}

/// A staged change put back after it was published and undone is refused by the next sync, not pushed again.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed"))
struct StagedRollbackCLITests {
    @Test func aStagedIntentPutBackIsRefused() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "--no-sync"]).code == 0)
        let saved = try KeyringTableRollbackCLITests.rows(w.s.keyring("alice"), "SELECT intent_tag, room_tag, seq, sealed FROM staged_intent")
        #expect(saved.count == 1)
        try w.sync("alice")
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        try KeyringTableRollbackCLITests.write(w.s.keyring("alice"), "INSERT INTO staged_intent (intent_tag, room_tag, seq, sealed) VALUES (?, ?, ?, ?)",
                                               saved.map { [$0["intent_tag"] as Data, $0["room_tag"] as Data, $0["seq"] as Int64, $0["sealed"] as Data] })
        let r = try w.rk("alice", ["sync"])
        #expect(r.code == 2 && r.stderr.contains("rows of staged_intent were added, deleted or changed"), "\(r)")
        let members = (try w.show("alice")["members"] as? [[String: Any]])?.compactMap { $0["handle"] as? String } ?? []
        #expect(!members.contains("dave"), "\(members)")
    }
}

/// A message whose sender key is not held is judged by the whole of Receiving step 5 before step 6: a sender removed
/// since is rejected (2), not pending (5), even when the same commit added it back (a review: only the message's
/// epoch and the current one were read, so the re-added member's old-stay message waited for a key).
@Suite struct RemovedSenderWithoutKeyCLITests {
    @Test func aRemovedAndReaddedSendersOldStayMessageIsRejectedWithoutItsKey() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "-o", w.s.path("g")]).code == 0)
        for p in ["bob", "carol"] { #expect(try w.rk(p, ["receive", w.s.path("g")]).code == 0) }
        // bob's next generation, which carol never receives.
        #expect(try w.rk("bob", ["room", "rotate", "team", "-o", w.s.path("rot")]).code == 0)
        let script = Data("remove team bob\nadd team bob\n".utf8)
        let applied = try w.rk("alice", ["apply", "-", "--json"], stdin: script)
        #expect(applied.code == 0, "\(applied)")
        let bundle = try #require((try applied.json()["rooms"] as? [[String: Any]])?.first?["bundle"] as? String)
        #expect(try w.rk("carol", ["receive", bundle]).code == 0)
        #expect(try w.rk("bob", ["encrypt", "team", "-o", w.s.path("m")], stdin: Data("old stay\n".utf8)).code == 0)
        let r = try w.rk("carol", ["decrypt", w.s.path("m")])
        #expect(r.code == 2 && r.stdout.isEmpty && r.stderr.contains("is not a member of room \"team\" at epoch 1"), "\(r)")
    }
}
