import Foundation
import Testing

/// Something other than a regular file at a lock's name beside the keyring (a link, a FIFO, a folder, planted by
/// someone who can write to the keyring's folder) is refused, never followed or waited on: before, a link at
/// `keyring.sqlite.lock` made every command go on unlocked, so a `restore --force` could replace a keyring in use.
@Suite struct PlantedLockCLITests {
    enum Plant: String, CaseIterable { case link, danglingLink, fifo, folder }

    static func plant(_ kind: Plant, at path: String, sandbox s: Sandbox) throws {
        switch kind {
        case .link:
            let target = s.path("elsewhere.lock")
            try Data().write(to: URL(fileURLWithPath: target))
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        case .danglingLink: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: s.path("made-by-link"))
        case .fifo: #expect(mkfifo(path, 0o600) == 0)
        case .folder: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
    }

    @Test(arguments: Plant.allCases)
    func aPlantedKeyringLockIsRefused(kind: Plant) throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.person("bob")
        let lock = s.keyring("alice") + ".lock"
        try FileManager.default.removeItem(atPath: lock)
        try Self.plant(kind, at: lock, sandbox: s)
        let before = s.rawBytes(of: "alice")
        let card = try s.roomkey("bob", ["id", "export"]).stdout
        let r = try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8))
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr == "roomkey: error: \(lock) is not a regular file of yours, so it cannot lock the keyring; nothing was changed\n"
                    + "roomkey: hint: remove \(lock) if no roomkey is running; it is made again\n", "\(r.stderr)")
        #expect(s.rawBytes(of: "alice") == before)
        #expect(!FileManager.default.fileExists(atPath: s.path("made-by-link")))
        // Once it is removed, the lock is made again and the command goes ahead.
        try FileManager.default.removeItem(atPath: lock)
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        var st = stat()
        #expect(lstat(lock, &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
    }

    @Test func aPlantedDecryptLockIsRefused() throws {
        let w = try RoomWorld.team(["bob"])
        let message = w.s.path("m.roomkey")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data("hi\n".utf8)).code == 0)
        let lock = w.s.keyring("bob") + ".decrypt.lock"
        try? FileManager.default.removeItem(atPath: lock)
        try Self.plant(.fifo, at: lock, sandbox: w.s)
        let r = try w.rk("bob", ["decrypt", message])
        #expect(r.code == 6 && r.stdout.isEmpty && r.stderr.contains("\(lock) is not a regular file"), "\(r)")
        try FileManager.default.removeItem(atPath: lock)
        #expect(try w.rk("bob", ["decrypt", message]).stdout == "hi\n")
    }
}

/// SQLite's companions of the keyring (`-wal`, `-shm`, `-journal`) are opened by name without a check: a FIFO at
/// `-journal` hung every command for ever, and a log made by someone else got every page written (a hostile review).
/// Anything but this user's singly linked regular file there is refused before SQLite opens anything.
@Suite struct PlantedCompanionCLITests {
    @Test(.timeLimit(.minutes(5)), arguments: ["-journal", "-wal", "-shm"])
    func aFIFOAtACompanionIsRefusedAtOnce(suffix: String) throws {
        let s = try Sandbox()
        try s.person("alice")
        let companion = s.keyring("alice") + suffix
        try? FileManager.default.removeItem(atPath: companion)
        #expect(mkfifo(companion, 0o600) == 0)
        let r = try s.roomkey("alice", ["id"])
        #expect(r.code == 6 && r.stderr.contains("\(companion) is not a regular file of yours"), "\(r)")
        try FileManager.default.removeItem(atPath: companion)
        #expect(try s.roomkey("alice", ["id"]).code == 0)
    }

    @Test func aSecondLinkToTheLogIsRefused() throws {
        let s = try Sandbox()
        try s.person("alice")
        let wal = s.keyring("alice") + "-wal"
        try? FileManager.default.removeItem(atPath: wal)
        #expect(FileManager.default.createFile(atPath: wal, contents: nil, attributes: [.posixPermissions: 0o600]))
        #expect(link(wal, s.path("copy-of-the-log")) == 0)
        let r = try s.roomkey("alice", ["room", "list"])
        #expect(r.code == 6 && r.stderr.contains("\(wal) is not a regular file of yours"), "\(r)")
    }

    /// Another user's lock file (one this user cannot open, or can but does not own) is refused, not skipped: going on
    /// unlocked let a restore replace a keyring in use. Needs root, to make a file of another user.
    @Test(.enabled(if: geteuid() == 0, "needs root to make another user's file"), arguments: [0o644, 0o666])
    func anotherUsersLockFileIsRefused(mode: Int) throws {
        let s = try Sandbox()
        try s.person("alice")
        let lock = s.keyring("alice") + ".lock"
        try? FileManager.default.removeItem(atPath: lock)
        #expect(FileManager.default.createFile(atPath: lock, contents: nil, attributes: [.posixPermissions: mode]))
        #expect(chown(lock, 65534, 65534) == 0)
        let r = try s.roomkey("alice", ["id"])
        #expect(r.code == 6 && r.stderr.contains("\(lock) is not a regular file of yours"), "\(r)")
    }
}
