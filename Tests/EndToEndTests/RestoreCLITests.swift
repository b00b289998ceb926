import Foundation
import GRDB
import Testing
@testable import RoomKey

/// `restore` checks the whole backup on a staged copy and swaps it in with one rename; a bad backup leaves the
/// working keyring byte for byte as it was. Read-only and full disks say so.
@Suite struct RestoreCLITests {
    /// alice with the room team (bob a member) and a backup of her keyring.
    static func world() throws -> (RoomWorld, String) {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        return (w, backup)
    }

    /// A copy of `backup` at `name` with one byte of the first sealed row of `table` changed.
    static func tampered(_ backup: String, table: String, in s: Sandbox, name: String) throws -> String {
        let copy = s.path(name)
        try FileManager.default.copyItem(atPath: backup, toPath: copy)
        let db = try DatabaseQueue(path: copy)
        try db.write { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT rowid, sealed FROM \(table) LIMIT 1"))
            var sealed: Data = row["sealed"]
            sealed[sealed.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE \(table) SET sealed = ? WHERE rowid = ?", arguments: [sealed, row["rowid"] as Int64])
        }
        try db.close()
        return copy
    }

    /// Files in the folder of `path` whose names start with the staging prefix.
    static func staged(beside path: String) -> [String] {
        let folder = (path as NSString).deletingLastPathComponent
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(".roomkey-tmp-") }
    }

    /// `id` and `room list` still work on alice's keyring, which is still hers.
    static func stillWorks(_ w: RoomWorld, id: String) throws {
        let shown = try w.rk("alice", ["id", "--json"])
        #expect(shown.code == 0, "\(shown)")
        #expect(try shown.json()["id"] as? String == id)
        let rooms = try w.rk("alice", ["room", "list"])
        #expect(rooms.code == 0, "\(rooms)")
        #expect(rooms.stdout.contains("team"))
    }

    @Test func aChangedByteInTheRoomRowLeavesTheKeyringAsItWas() throws {
        let (w, backup) = try Self.world()
        let id = try #require(try w.rk("alice", ["id", "--json"]).json()["id"] as? String)
        let bad = try Self.tampered(backup, table: "room", in: w.s, name: "bad-room.backup")
        // The keyring moves on after the backup, so replacing it would show.
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        let before = w.s.rawBytes(of: "alice")
        let r = try w.rk("alice", ["restore", bad, "--force"])
        #expect(r.code == 2, "\(r)")
        #expect(r.stderr.contains("backup \(bad) is damaged: a row in room fails its integrity check"), "\(r)")
        #expect(w.s.rawBytes(of: "alice") == before)
        #expect(Self.staged(beside: w.s.keyring("alice")).isEmpty)
        try Self.stillWorks(w, id: id)
        #expect(try w.show("alice")["epoch"] as? Int == 1)
    }

    @Test func everySealedTableIsCheckedAndSoIsSQLiteIntegrity() throws {
        let (w, backup) = try Self.world()
        // A room_epoch row is not read by the restore mark: only the whole check finds it.
        let badEpoch = try Self.tampered(backup, table: "room_epoch", in: w.s, name: "bad-epoch.backup")
        // An index entry that no longer matches its row: every sealed row opens, SQLite's check fails.
        let badIndex = w.s.path("bad-index.backup")
        try FileManager.default.copyItem(atPath: backup, toPath: badIndex)
        let (page, pageSize) = try DatabaseQueue(path: badIndex).read { db in
            (try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'room_by_name_tag'") ?? 0,
             try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: badIndex))
        bytes[page * pageSize - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: badIndex))
        let before = w.s.rawBytes(of: "alice")
        for bad in [badEpoch, badIndex] {
            let r = try w.rk("alice", ["restore", bad, "--force"])
            #expect(r.code == 2, "\(r)")
            #expect(r.stderr.contains("is damaged"), "\(r)")
            #expect(w.s.rawBytes(of: "alice") == before)
            #expect(Self.staged(beside: w.s.keyring("alice")).isEmpty)
        }
        let badIndexRun = try w.rk("alice", ["restore", badIndex, "--force"])
        #expect(badIndexRun.stderr.contains("integrity check"), "\(badIndexRun)")
        try Self.stillWorks(w, id: try #require(try w.rk("alice", ["id", "--json"]).json()["id"] as? String))
    }

    @Test func garbageAndTruncatedBackupsChangeNothing() throws {
        let (w, backup) = try Self.world()
        let garbage = w.s.path("garbage.backup")
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) }).write(to: URL(fileURLWithPath: garbage))
        let truncated = w.s.path("truncated.backup")
        try Data(contentsOf: URL(fileURLWithPath: backup)).prefix(5000).write(to: URL(fileURLWithPath: truncated))
        let before = w.s.rawBytes(of: "alice")
        let g = try w.rk("alice", ["restore", garbage, "--force"])
        #expect(g.code == 1, "\(g)")
        #expect(g.stderr.contains("\(garbage) is not a roomkey keyring"), "\(g)")
        let t = try w.rk("alice", ["restore", truncated, "--force"])
        #expect(t.code == 2, "\(t)")
        #expect(t.stderr.contains("backup \(truncated) is damaged"), "\(t)")
        #expect(w.s.rawBytes(of: "alice") == before)
        #expect(Self.staged(beside: w.s.keyring("alice")).isEmpty)
        // The backups themselves are only read.
        #expect(try Data(contentsOf: URL(fileURLWithPath: truncated)) == Data(contentsOf: URL(fileURLWithPath: backup)).prefix(5000))
        try Self.stillWorks(w, id: try #require(try w.rk("alice", ["id", "--json"]).json()["id"] as? String))
    }

    @Test func aFailedRestoreToANewPathLeavesNothing() throws {
        let (w, backup) = try Self.world()
        let bad = try Self.tampered(backup, table: "room", in: w.s, name: "bad.backup")
        let folder = w.s.path("fresh")
        let r = try CLI.run(["restore", bad, "--keyring", folder + "/keyring.sqlite"])
        #expect(r.code == 2, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: folder))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let again = try CLI.run(["restore", bad, "--keyring", folder + "/keyring.sqlite"])
        #expect(again.code == 2, "\(again)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        // A wrong passphrase is exit 3 and leaves nothing either.
        let locked = w.s.path("locked")
        #expect(try CLI.run(["init", "--name", "erin", "--keyring", locked + "/keyring.sqlite"],
                            env: ["ROOMKEY_PASSPHRASE_FILE": w.s.passphraseFile.path]).code == 0)
        #expect(try CLI.run(["backup", "-o", w.s.path("erin.backup"), "--keyring", locked + "/keyring.sqlite"],
                            env: ["ROOMKEY_PASSPHRASE_FILE": w.s.passphraseFile.path]).code == 0)
        let wrong = w.s.path("wrong-passphrase")
        try Data("not it\n".utf8).write(to: URL(fileURLWithPath: wrong))
        let denied = try CLI.run(["restore", w.s.path("erin.backup"), "--keyring", folder + "/keyring.sqlite"],
                                 env: ["ROOMKEY_PASSPHRASE_FILE": wrong])
        #expect(denied.code == 3, "\(denied)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func aGoodRestoreIsMarkedInTheFileItRenames() throws {
        let (w, backup) = try Self.world()
        let target = w.s.path("restored/keyring.sqlite")
        let original = try Data(contentsOf: URL(fileURLWithPath: backup))
        let r = try CLI.run(["restore", backup, "--keyring", target])
        #expect(r.code == 0, "\(r)")
        // One file: the mark is in the main file, no log is left beside it, no staged copy either.
        #expect(!FileManager.default.fileExists(atPath: target + "-wal"))
        #expect(Self.staged(beside: target).isEmpty)
        let db = try DatabaseQueue(path: target, configuration: { var c = Configuration(); c.readonly = true; return c }())
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_entry") } ?? 0 >= 2)
        try db.close()
        let events = (try CLI.run(["audit", "--json", "--keyring", target]).json()["entries"] as? [[String: Any]] ?? [])
            .compactMap { $0["event"] as? String }
        #expect(events.last == "restore")
        #expect(try CLI.run(["audit", "--verify", "--keyring", target]).code == 0)
        // The backup itself is only read.
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup)) == original)
    }

    // MARK: - Read-only and full disks (tmpfs mounts: root only)

    /// Mounts a tmpfs of `size` at a new folder `name` of the sandbox, or returns nil (after saying why) when this
    /// process cannot mount.
    static func tmpfs(_ s: Sandbox, _ name: String, size: String) throws -> String? {
        guard geteuid() == 0 else {
            print("skipping \(name): mounting a tmpfs needs root")
            return nil
        }
        let dir = s.path(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir]) == 0 else {
            print("skipping \(name): mount -t tmpfs failed (no CAP_SYS_ADMIN?)")
            return nil
        }
        return dir
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Fills the file system holding `dir` until it is full.
    static func fill(_ dir: String) {
        let fd = open(dir + "/filler", O_CREAT | O_WRONLY, 0o600)
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)
    }

    @Test func aReadOnlyKeyringStillReadsAndSaysWhyItCannotWrite() throws {
        let (w, backup) = try Self.world()
        guard let mount = try Self.tmpfs(w.s, "ro", size: "2m") else { return }
        defer { Self.run("/bin/umount", [mount]) }
        let path = mount + "/keyring.sqlite"
        try FileManager.default.copyItem(atPath: w.s.keyring("alice"), toPath: path)
        guard Self.run("/bin/mount", ["-o", "remount,ro", mount]) == 0 else {
            print("skipping: remounting the tmpfs read-only failed")
            return
        }
        for args in [["id"], ["contact", "list"], ["room", "list"], ["room", "show", "team"]] {
            let r = try CLI.run(args + ["--keyring", path])
            #expect(r.code == 0, "\(args): \(r)")
        }
        for args in [["room", "create", "other"], ["room", "add", "team", "carol"], ["restore", backup, "--force"]] {
            let r = try CLI.run(args + ["--keyring", path])
            #expect(r.code == 1, "\(args): \(r)")
            #expect(r.stderr.contains("keyring is read-only: \(path)"), "\(args): \(r)")
            #expect(!r.stderr.contains("not a roomkey keyring"), "\(args): \(r)")
        }
    }

    /// An older keyring on a read-only mount cannot be upgraded, and one that another program migrated cannot be
    /// settled: both say the keyring is read-only (exit 1), and neither is taken for a current one.
    @Test func anOlderKeyringOnAReadOnlyMountSaysItIsReadOnly() throws {
        let (w, _) = try Self.world()
        try OldEpochCLITests.rekeyTenuresTheOldWay(try w.keyring("alice"))
        let settle = w.s.path("settle.sqlite")
        try FileManager.default.copyItem(atPath: w.s.keyring("alice"), toPath: settle)
        let raw = try DatabaseQueue(path: settle)
        try KeyringSchema.migrator.migrate(raw)
        try raw.close()
        guard let mount = try Self.tmpfs(w.s, "ro-old", size: "2m") else { return }
        defer { Self.run("/bin/umount", [mount]) }
        try FileManager.default.copyItem(atPath: w.s.keyring("alice"), toPath: mount + "/older.sqlite")
        try FileManager.default.copyItem(atPath: settle, toPath: mount + "/settle.sqlite")
        guard Self.run("/bin/mount", ["-o", "remount,ro", mount]) == 0 else {
            print("skipping: remounting the tmpfs read-only failed")
            return
        }
        for name in ["older", "settle"] {
            let path = mount + "/\(name).sqlite"
            let r = try CLI.run(["room", "list", "--keyring", path])
            #expect(r.code == 1, "\(name): \(r)")
            #expect(r.stderr.contains("keyring is read-only: \(path)"), "\(name): \(r)")
        }
    }

    @Test func aFullDiskSaysSo() throws {
        let (w, _) = try Self.world()
        guard let keyringMount = try Self.tmpfs(w.s, "full", size: "1m") else { return }
        defer { Self.run("/bin/umount", [keyringMount]) }
        let path = keyringMount + "/keyring.sqlite"
        try FileManager.default.copyItem(atPath: w.s.keyring("alice"), toPath: path)
        Self.fill(keyringMount)
        let id = try CLI.run(["id", "--keyring", path])
        #expect(id.code == 0, "\(id)")
        #expect(try CLI.run(["room", "list", "--keyring", path]).stdout.contains("team"))
        let write = try CLI.run(["room", "create", "other", "--keyring", path])
        #expect(write.code == 1, "\(write)")
        #expect(write.stderr.contains("no space left on device while writing the keyring"), "\(write)")

        guard let backupMount = try Self.tmpfs(w.s, "small", size: "64k") else { return }
        defer { Self.run("/bin/umount", [backupMount]) }
        Self.fill(backupMount)
        try FileManager.default.removeItem(atPath: backupMount + "/filler")
        let filler = Data(count: 60 * 1024)
        try filler.write(to: URL(fileURLWithPath: backupMount + "/filler"))
        let backup = try w.rk("alice", ["backup", "-o", backupMount + "/alice.backup"])
        #expect(backup.code == 1, "\(backup)")
        #expect(backup.stderr.contains("no space left on device while writing the backup"), "\(backup)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: backupMount) == ["filler"])
    }
}
