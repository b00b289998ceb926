import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// `restore --force` killed at its last steps leaves a keyring at its old or its new state, which opens (found by a
/// hostile review: killed between deleting the old keyring's log and the rename, the old keyring lost every commit
/// still only in its log; killed after the rename, the restored keyring was refused as an older copy).
@Suite struct RestoreCrashCLITests {
    func crash(_ w: RoomWorld, _ who: String, at step: String, _ args: [String]) throws {
        let r = try w.s.roomkey(who, args, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": step])
        #expect(r.code == SIGKILL, "expected a kill at \(step): \(r)")
    }

    func handles(_ w: RoomWorld, _ who: String) throws -> [String] {
        let members = try #require(try w.show(who)["members"] as? [[String: Any]])
        return members.compactMap { $0["handle"] as? String }.sorted()
    }

    /// A restore that fails or is killed after recording the path's state leaves the old keyring opening, whatever
    /// state files it found: one from before lineages were kept, or one an earlier failed restore left (a review: the
    /// path's file named only the restored copy, or an earlier attempt's, and the old keyring was refused as another copy).
    @Test func aRestoreThatFailsOrIsKilledLeavesTheOldKeyringOpening() throws {
        let w = try RoomWorld.team(["bob"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        // Failed twice after recording: a link at the old keyring's log makes the install refuse.
        let wal = w.s.keyring("alice") + "-wal"
        try? FileManager.default.removeItem(atPath: wal)
        #expect(symlink(w.s.path("nowhere"), wal) == 0)
        for _ in 0..<2 {
            let r = try w.rk("alice", ["restore", backup, "--force"])
            #expect(r.code == 6, "\(r)")
        }
        #expect(unlink(wal) == 0)
        // Meanwhile, a copy of another lineage (the backup restored elsewhere) put at the path is still refused: the
        // failed restores let in only the keyring they replaced (a review: any keyring opened, and took the path).
        let look = w.s.path("look/keyring.sqlite")
        #expect(try w.s.roomkey("alice", ["restore", backup, "--keyring", look]).code == 0)
        // The live keyring's files are kept whole (its log may hold its last commits) and put back after.
        let files = ["", "-wal", "-shm"].map { w.s.keyring("alice") + $0 }
        let live = files.map { FileManager.default.contents(atPath: $0) }
        for file in files.dropFirst() { try? FileManager.default.removeItem(atPath: file) }
        try Data(contentsOf: URL(fileURLWithPath: look)).write(to: URL(fileURLWithPath: files[0]))
        let other = try w.rk("alice", ["room", "list"])
        #expect(other.code == 2 && other.stderr.contains("another copy of this keyring"), "\(other)")
        for (file, data) in zip(files, live) {
            try? FileManager.default.removeItem(atPath: file)
            if let data { #expect(FileManager.default.createFile(atPath: file, contents: data, attributes: [.posixPermissions: 0o600])) }
        }
        let opened = try w.rk("alice", ["room", "list"])
        #expect(opened.code == 0, "\(opened) \(other)")
        // Killed twice after recording, the path's file first written as before lineages were kept.
        do {
            // Closed before the restores below: an open keyring holds its use lock, which a restore waits for.
            let k = try w.keyring("alice")
            let count = try k.read { db in try k.writeCount(db) }
            try Data(k.stateLine(count).utf8).write(to: URL(fileURLWithPath: k.pathStateFilePath(in: w.s.path("state/roomkey"))))
        }
        for _ in 0..<2 { try crash(w, "alice", at: CrashPoint.logDeleted, ["restore", backup, "--force"]) }
        let killed = try w.rk("alice", ["room", "list"])
        #expect(killed.code == 0, "\(killed)")
        #expect(try w.rk("alice", ["audit", "--verify"]).code == 0)
    }

    /// A copy of another lineage refused at the path stays refused after a restore over it that is killed: the restore
    /// names the keyring it replaces only when the path allowed that one (a review: the killed restore let it in, and it
    /// took the path). Over a keyring it cannot read, with no lineage-bearing state for the path, a failed restore leaves
    /// the count alone to check, and that keyring opens (a review: it named the restored copy alone).
    @Test func aRestoreOverARefusedCopyLetsNothingIn() throws {
        let w = try RoomWorld.team(["bob"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let look = w.s.path("look/keyring.sqlite")
        #expect(try w.s.roomkey("alice", ["restore", backup, "--keyring", look]).code == 0)
        for _ in 0..<2 { #expect(try w.s.roomkey("alice", ["room", "rotate", "team", "--keyring", look], env: ["ROOMKEY_OUTBOX": w.shared]).code == 0) }
        let files = ["", "-wal", "-shm"].map { w.s.keyring("alice") + $0 }
        let live = files.map { FileManager.default.contents(atPath: $0) }
        for file in files.dropFirst() { try? FileManager.default.removeItem(atPath: file) }
        try Data(contentsOf: URL(fileURLWithPath: look)).write(to: URL(fileURLWithPath: files[0]))
        #expect(try w.rk("alice", ["room", "list"]).code == 2)
        try crash(w, "alice", at: CrashPoint.logDeleted, ["restore", backup, "--force"])
        let after = try w.rk("alice", ["room", "list"])
        #expect(after.code == 2 && after.stderr.contains("another copy of this keyring"), "\(after)")
        for (file, data) in zip(files, live) {
            try? FileManager.default.removeItem(atPath: file)
            if let data { #expect(FileManager.default.createFile(atPath: file, contents: data, attributes: [.posixPermissions: 0o600])) }
        }
        #expect(try w.rk("alice", ["room", "list"]).code == 0)

        // No state for the path at all, and the keyring unreadable to the restore (a link at its log): refused, then
        // the keyring opens once the link is gone.
        try FileManager.default.removeItem(atPath: w.s.path("state"))
        let wal = files[1]
        try? FileManager.default.removeItem(atPath: wal)
        #expect(symlink(w.s.path("nowhere"), wal) == 0)
        #expect(try w.rk("alice", ["restore", backup, "--force"]).code == 6)
        #expect(unlink(wal) == 0)
        let opened = try w.rk("alice", ["room", "list"])
        #expect(opened.code == 0, "\(opened)")
    }

    @Test func killedAfterTheOldLogIsDeletedTheOldKeyringKeepsItsLastCommit() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        // A command killed right after its commit: the commit is in the keyring's log only.
        try crash(w, "alice", at: CrashPoint.afterCommit, ["room", "remove", "team", "carol"])
        let log = w.s.keyring("alice") + "-wal"
        #expect(((try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int ?? 0) > 0, "the commit is in the log")
        try crash(w, "alice", at: CrashPoint.logDeleted, ["restore", backup, "--force"])
        let show = try w.rk("alice", ["room", "show", "team", "--json"])
        #expect(show.code == 0, "\(show)")
        #expect(try w.show("alice")["epoch"] as? Int == 1)
        #expect(try handles(w, "alice") == ["alice", "bob"])
        #expect(try w.rk("alice", ["audit", "--verify"]).code == 0)
    }

    @Test func killedRightAfterItsRenameTheRestoredKeyringOpens() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        for _ in 0..<3 { #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0) }
        try crash(w, "alice", at: CrashPoint.afterRename, ["restore", backup, "--force"])
        let show = try w.rk("alice", ["room", "show", "team", "--json"])
        #expect(show.code == 0, "the restored keyring is refused: \(show)")
        #expect(try w.rk("alice", ["audit", "--verify"]).code == 0)
    }

    /// A FIFO or device given as the backup is refused before anything is copied (it hung the restore, or copied
    /// /dev/zero without end into a staged file left behind).
    @Test func aBackupThatIsNoRegularFileIsRefused() throws {
        let w = try RoomWorld.team(["bob"])
        let fifo = try SpecialInputCLITests.Fifo(w.s.path("backup.fifo"))
        defer { fifo.stop() }
        let before = try w.snapshot("alice")
        let r = try w.rk("alice", ["restore", fifo.path, "--force"])
        #expect(r.code == 65, "\(r)")
        #expect(r.stderr.contains("is not a regular file"), "\(r.stderr)")
        #expect(try w.snapshot("alice") == before)
        let folder = (w.s.keyring("alice") as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).allSatisfy { !$0.hasPrefix(".roomkey-tmp-") })
    }

    /// A room of alice and bob, and alice's `restore --force` killed before its rename (`before`, if given, runs first);
    /// returns the world and a function listing the staged copies beside alice's keyring (one at least, checked).
    func killedRestore(before: ((RoomWorld) throws -> Void)? = nil) throws -> (RoomWorld, () throws -> [String]) {
        let w = try RoomWorld.team(["bob"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        try before?(w)
        try crash(w, "alice", at: CrashPoint.beforeRename, ["restore", backup, "--force"])
        let folder = (w.s.keyring("alice") as NSString).deletingLastPathComponent
        let leftovers: () throws -> [String] = { try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".roomkey-tmp-") } }
        #expect(try !leftovers().isEmpty, "the killed restore left its staged copy")
        return (w, leftovers)
    }

    /// A staged copy that a killed restore left beside the keyring goes at the next command that writes, here one at a
    /// later clock (it stayed for good).
    @Test func aStagedCopyLeftByAKilledRestoreIsRemoved() throws {
        let (w, leftovers) = try killedRestore()
        let later = UInt64(Date().timeIntervalSince1970) + 3_600
        let r = try w.s.roomkey("alice", ["room", "rotate", "team"], env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_NOW": String(later)])
        #expect(r.code == 0, "\(r)")
        #expect(try leftovers().isEmpty)
    }

    /// The next command that writes removes it at once, not only when the automatic prune is due (a review: it stayed
    /// up to 10 minutes, a file the keyring did not account for).
    @Test func aStagedCopyLeftByAKilledRestoreGoesAtTheNextWrite() throws {
        // The automatic prune has just run.
        let (w, leftovers) = try killedRestore(before: { w throws in
            let r = try w.rk("alice", ["room", "rotate", "team"])
            #expect(r.code == 0)
        })
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        #expect(try leftovers().isEmpty)
    }

    /// Any command that opens the keyring to write removes it, not only those that prune: `room set`, `prune`,
    /// `outbox flush` and read-only commands left it (a crash review), a whole copy of the keyring, keys and all.
    @Test(arguments: [["room", "set", "team", "--rotate-messages", "50"], ["prune"], ["outbox", "flush"], ["room", "list"]])
    func aStagedCopyGoesAtAnyCommand(command: [String]) throws {
        let (w, leftovers) = try killedRestore()
        let r = try w.rk("alice", command)
        #expect(r.code == 0, "\(r)")
        #expect(try leftovers().isEmpty, "\(command)")
    }

    /// Killed just before its rename, right after a backup (the old keyring written no more since): the old keyring
    /// opens (found by a review: the state was set to the copy's count, one above the old keyring's, which was then
    /// refused as an older copy).
    @Test func killedBeforeItsRenameRightAfterABackupTheOldKeyringOpens() throws {
        let w = try RoomWorld.team(["bob"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        try crash(w, "alice", at: CrashPoint.logDeleted, ["restore", backup, "--force"])
        let show = try w.rk("alice", ["room", "show", "team"])
        #expect(show.code == 0, "\(show)")
        let restored = try w.rk("alice", ["restore", backup, "--force"])
        #expect(restored.code == 0, "\(restored)")
        #expect(try w.rk("alice", ["room", "show", "team"]).code == 0)
    }
}

/// Restoring an admin's older backup says that commits made since are not in it (the crash review: alice restored,
/// could not read her own later commit back, made another one for the same epoch, and forked the room for bob).
@Suite struct RestoreAdminWarningCLITests {
    @Test func anAdminsRestoreWarnsOfTheCommitsItLacks() throws {
        let w = try RoomWorld.team(["bob"])
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        let restore = try w.rk("alice", ["restore", backup, "--force"])
        #expect(restore.code == 0, "\(restore)")
        #expect(restore.stderr.contains("is an admin of \"team\" as of the backup") && restore.stderr.contains("outbox resend"), "\(restore.stderr)")
        // A member's restore says nothing of the kind.
        let bobBackup = w.s.path("bob.backup")
        #expect(try w.rk("bob", ["backup", "-o", bobBackup]).code == 0)
        let bob = try w.rk("bob", ["restore", bobBackup, "--force"])
        #expect(bob.code == 0 && !bob.stderr.contains("is an admin of"), "\(bob)")
    }
}
