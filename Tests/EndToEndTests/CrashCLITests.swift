import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Processes killed at chosen steps (`ROOMKEY_TEST_CRASH`, test builds only): afterwards the audit log is intact, each
/// room is at its old or its new epoch, no bundle file exists for a change the keyring does not have, and once the
/// outbox is flushed every member converges.
@Suite struct CrashCLITests {
    /// alice (admin) with bob and carol, everyone at epoch 0 with everyone's keys.
    static func world() throws -> RoomWorld { try RoomWorld.team(["bob", "carol"]) }

    func crash(_ w: RoomWorld, _ who: String, at step: String, _ args: [String]) throws -> Run {
        let r = try w.s.roomkey(who, args, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": step])
        #expect(r.code == SIGKILL, "expected a kill at \(step): \(r)")
        return r
    }

    func epoch(_ w: RoomWorld, _ who: String) throws -> Int { try w.show(who)["epoch"] as? Int ?? -1 }

    func auditIntact(_ w: RoomWorld, _ who: String) throws {
        let r = try w.rk(who, ["audit", "--verify"])
        #expect(r.code == 0, "\(who): \(r)")
    }

    /// Everyone who is still a member ends at alice's epoch with the same fingerprint.
    func converged(_ w: RoomWorld, _ who: [String]) throws {
        try w.exchange(who)
        let prints = try who.map { try w.rk($0, ["room", "fingerprint", "team", "--json"]).json()["fingerprint"] as? String }
        #expect(Set(prints).count == 1, "\(prints)")
        #expect(prints.first != nil)
    }

    @Test func removeKilledInsideItsTransactionLeavesNoBundleAndNoChange() throws {
        let w = try Self.world()
        let before = try w.bundles()
        _ = try crash(w, "alice", at: CrashPoint.inTransaction, ["room", "remove", "team", "bob"])
        #expect(try w.bundles() == before, "an orphan bundle was written")
        #expect(try epoch(w, "alice") == 0)
        try auditIntact(w, "alice")
        #expect(try w.rk("alice", ["room", "remove", "team", "bob"]).code == 0)
        try converged(w, ["alice", "carol"])
    }

    @Test func removeKilledAfterItsCommitIsDeliveredByTheNextCommand() throws {
        let w = try Self.world()
        let before = try w.bundles()
        _ = try crash(w, "alice", at: CrashPoint.afterCommit, ["room", "remove", "team", "bob"])
        #expect(try w.bundles() == before, "the bundle is written only by the flush")
        #expect(try epoch(w, "alice") == 1)
        try auditIntact(w, "alice")
        let list = try w.rk("alice", ["outbox", "list", "--json"])
        let entries = try #require(try list.json()["entries"] as? [[String: Any]])
        #expect(entries.contains { $0["delivered"] == nil && $0["epoch"] as? Int == 1 })
        let flush = try w.rk("alice", ["outbox", "flush", "--json"])
        #expect(flush.code == 0, "\(flush)")
        #expect((try flush.json()["written"] as? [String])?.count == 1)
        #expect(try w.bundles().count == before.count + 1)
        try converged(w, ["alice", "carol"])
    }

    @Test func aWriteKilledBeforeItsMarkIsConfirmedNotDuplicated() throws {
        let w = try Self.world()
        let before = try w.bundles()
        _ = try crash(w, "alice", at: CrashPoint.afterWrite, ["room", "rotate", "team"])
        #expect(try w.bundles().count == before.count + 1)
        #expect(try w.rk("alice", ["outbox", "flush"]).code == 0)
        #expect(try w.bundles().count == before.count + 1, "the same file is confirmed, not written twice")
        let entries = try #require(try w.rk("alice", ["outbox", "list", "--json"]).json()["entries"] as? [[String: Any]])
        #expect(entries.allSatisfy { $0["delivered"] != nil })
    }

    @Test func receiveKilledBeforeItsRotationOwesTheKeyToTheNextCommand() throws {
        let w = try Self.world()
        let remove = try w.rk("alice", ["room", "remove", "team", "bob", "--json"])
        let bundle = try #require(try remove.json()["bundle"] as? String)
        let before = try w.bundles()
        _ = try crash(w, "carol", at: CrashPoint.beforeRotation, ["receive", bundle])
        #expect(try epoch(w, "carol") == 1)
        #expect(try w.bundles() == before, "carol's own key for epoch 1 is not out yet")
        try auditIntact(w, "carol")
        // Any later write command pays the debt; `outbox flush` is the explicit one.
        let flush = try w.rk("carol", ["outbox", "flush", "--json"])
        #expect(flush.code == 0, "\(flush)")
        let written = try #require(try flush.json()["written"] as? [String])
        #expect(written.count == 1)
        let got = try w.rk("alice", ["receive", try #require(written.first), "--json"])
        #expect(got.code == 0, "\(got)")
        #expect(got.stdout.contains("\"applied\""))
    }

    @Test func aLostBundleIsResent() throws {
        let w = try Self.world()
        let remove = try w.rk("alice", ["room", "remove", "team", "bob", "--json"])
        let lost = try #require(try remove.json()["bundle"] as? String)
        try FileManager.default.removeItem(atPath: lost)
        let resend = try w.rk("alice", ["outbox", "resend", "team", "--json"])
        #expect(resend.code == 0, "\(resend)")
        let again = try #require((try resend.json()["bundles"] as? [String])?.first)
        #expect(try w.rk("carol", ["receive", again]).code == 0)
        #expect(try epoch(w, "carol") == 1)
        try converged(w, ["alice", "carol"])
    }

    @Test func applyOverManyRoomsKilledInsideItsTransactionChangesNothing() throws {
        let w = try Self.world()
        let script = (1...12).map { "create room\($0) bob carol" }.joined(separator: "\n") + "\n"
        let path = w.s.path("onboard.txt")
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        let before = try w.bundles()
        _ = try crash(w, "alice", at: CrashPoint.inTransaction, ["apply", path])
        #expect(try w.bundles() == before)
        #expect(try w.rk("alice", ["room", "show", "room1"]).code == 4)
        try auditIntact(w, "alice")
        #expect(try w.rk("alice", ["apply", path]).code == 0)
        #expect(try w.bundles().count == before.count + 12)
    }

    @Test func encryptWithARotationKilledBeforeCommitSendsNothing() throws {
        let w = try Self.world()
        #expect(try w.rk("alice", ["room", "set", "team", "--rotate-messages", "1"]).code == 0)
        #expect(try w.rk("alice", ["encrypt", "team", "-o", w.s.path("m1.msg")], stdin: Data("one".utf8)).code == 0)
        let before = try w.bundles()
        let r = try w.s.roomkey("alice", ["encrypt", "team", "-o", w.s.path("m2.msg")], stdin: Data("two".utf8),
                                env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": CrashPoint.beforeCommit])
        #expect(r.code == SIGKILL, "\(r)")
        #expect(try w.bundles() == before)
        #expect(!FileManager.default.fileExists(atPath: w.s.path("m2.msg")))
        try auditIntact(w, "alice")
        // The retry rotates and sends once; bob reads it.
        #expect(try w.rk("alice", ["encrypt", "team", "-o", w.s.path("m2.msg")], stdin: Data("two".utf8)).code == 0)
        #expect(try w.bundles().count == before.count + 1)
        try w.exchange(["alice", "bob"])
        let read = try w.rk("bob", ["decrypt", w.s.path("m2.msg")])
        #expect(read.code == 0, "\(read)")
        #expect(read.stdout == "two")
    }

    @Test(arguments: 1...3)
    func passwdAndPruneKilledAtEitherSideOfEachCommit(_ n: Int) throws {
        for step in [CrashPoint.beforeCommit, CrashPoint.afterAnyCommit] {
            let s = try Sandbox()
            _ = try s.roomkey("alice", ["init", "--name", "alice"], passphrase: true)
            try Data("a brand new passphrase\n".utf8).write(to: URL(fileURLWithPath: s.path("new")))
            let id = try s.roomkey("alice", ["id", "--json"], passphrase: true).json()["id"] as? String
            _ = try s.roomkey("alice", ["passwd", "--new-passphrase-file", s.path("new")], passphrase: true,
                              env: ["ROOMKEY_TEST_CRASH": "\(step)#\(n)"])
            // Exactly one passphrase opens the keyring, and it is the same identity: old state or new, never a mix.
            let old = try s.roomkey("alice", ["id", "--json"], passphrase: true)
            let new = try s.roomkey("alice", ["id", "--json", "--passphrase-file", s.path("new")])
            #expect((old.code == 0) != (new.code == 0), "\(step)#\(n): \(old) \(new)")
            let opened = old.code == 0 ? old : new
            #expect(try opened.json()["id"] as? String == id)
            let file = old.code == 0 ? s.passphraseFile.path : s.path("new")
            _ = try s.roomkey("alice", ["prune", "--older-than", "0s", "--passphrase-file", file],
                              env: ["ROOMKEY_TEST_CRASH": "\(step)#\(n)"])
            let audit = try s.roomkey("alice", ["audit", "--verify", "--passphrase-file", file])
            #expect(audit.code == 0, "\(step)#\(n): \(audit)")
        }
    }

    @Test func anUndeliverableEntryWarnsButBlocksNothingAndIsWrittenLater() throws {
        let w = try Self.world()
        _ = try crash(w, "alice", at: CrashPoint.afterCommit, ["room", "rotate", "team"])
        // The outbox folder is gone (a file stands in its place): the recorded bundle cannot be written for now.
        let moved = w.s.path("shared-moved")
        try FileManager.default.moveItem(atPath: w.shared, toPath: moved)
        try Data().write(to: URL(fileURLWithPath: w.shared))
        let other = w.s.path("other")
        let r = try w.s.roomkey("alice", ["room", "rotate", "team", "--outbox", other, "--json"])
        #expect(r.code == 0, "\(r)")
        #expect(r.stderr.contains("roomkey: warning: the change is recorded but its bundle was not written to \(w.shared)/"))
        #expect(r.stderr.contains("see 'roomkey outbox list'"))
        try FileManager.default.removeItem(atPath: w.shared)
        try FileManager.default.moveItem(atPath: moved, toPath: w.shared)
        let flush = try w.rk("alice", ["outbox", "flush", "--json"])
        #expect(flush.code == 0, "\(flush)")
        #expect((try flush.json()["written"] as? [String])?.count == 1)
    }

    @Test func aBundleFileIsCheckedBeforeTheChangeAndNamedAbsolutely() throws {
        let w = try Self.world()
        let missing = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", "no-such-folder/x.roomkey"])
        #expect(missing.code != 0)
        #expect(try w.rk("alice", ["outbox", "list", "--json"]).json()["entries"] as? [[String: Any]] != nil)
        let undelivered = (try w.rk("alice", ["outbox", "list", "--json"]).json()["entries"] as? [[String: Any]] ?? [])
            .filter { $0["delivered"] == nil }
        #expect(undelivered.isEmpty, "a refused -o must record nothing")
        let relative = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", "rotated.roomkey", "--json"])
        #expect(relative.code == 0, "\(relative)")
        #expect(try relative.json()["bundle"] as? String == w.s.path("rotated.roomkey"))
        // Two recorded bundles of one epoch cannot go to one -o file.
        let several = try w.s.roomkey("alice", ["outbox", "resend", "team", "-o", w.s.path("resent.roomkey")])
        #expect(several.code == 64, "\(several)")
        #expect(!FileManager.default.fileExists(atPath: w.s.path("resent.roomkey")))
    }

    @Test func backupAndRestoreKilledBeforeTheirRenameLeaveEverythingAsItWas() throws {
        let w = try Self.world()
        let backup = w.s.path("alice.backup")
        _ = try crash(w, "alice", at: CrashPoint.beforeRename, ["backup", "-o", backup])
        #expect(!FileManager.default.fileExists(atPath: backup), "no partial backup under the real name")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let keyring = w.s.keyring("alice")
        let before = try Data(contentsOf: URL(fileURLWithPath: keyring))
        _ = try crash(w, "alice", at: CrashPoint.beforeRename, ["restore", backup, "--force"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyring)) == before, "the keyring is byte for byte as it was")
        try auditIntact(w, "alice")
        let restored = try w.rk("alice", ["restore", backup, "--force"])
        #expect(restored.code == 0, "\(restored)")
        try auditIntact(w, "alice")
    }
}
