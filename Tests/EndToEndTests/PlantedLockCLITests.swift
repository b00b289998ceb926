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
        #expect(r.stderr == "roomkey: error: \(lock) is not a regular file, so it cannot lock the keyring; nothing was changed\n"
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
