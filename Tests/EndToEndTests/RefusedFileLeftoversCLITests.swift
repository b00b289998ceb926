import Foundation
import Testing

/// A file refused as a keyring or a backup is judged by its header and size before anything is made or copied beside
/// it (a hostile review): `restore` copied a 3 GB sparse file into the keyring's folder, blocks and all, before it
/// said "not a roomkey keyring", and a command given `--keyring report.txt` left `report.txt.lock` behind. The restores
/// run under a file-size limit of 512 KiB (`ulimit -f 1024`): a copy of the input would stop there with another error.
@Suite struct RefusedFileLeftoversCLITests {
    /// A sparse file of `size` bytes at `path` (no blocks written), starting with `prefix`.
    func sparse(_ path: String, size: UInt64, prefix: Data = Data()) throws {
        FileManager.default.createFile(atPath: path, contents: prefix)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        try handle.close()
    }

    let limited = (setup: "ulimit -f 1024;", redirections: "")

    @Test func aLargeFileThatIsNoKeyringIsRefusedBeforeItIsCopied() throws {
        let s = try Sandbox()
        try sparse(s.path("not-a-backup"), size: 64 << 20)
        let r = try s.roomkey("restored", ["restore", s.path("not-a-backup")], shell: limited)
        #expect(r.code == 1, "\(r)")
        #expect(r.stderr == "roomkey: error: \(s.path("not-a-backup")) is not a roomkey keyring\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.keyring("restored")))
    }

    @Test func aBackupWithALargeTailIsRefusedBeforeItIsCopied() throws {
        let s = try Sandbox()
        try s.person("alice")
        let backup = s.path("alice.backup")
        #expect(try s.roomkey("alice", ["backup", "-o", backup]).code == 0)
        let pages = try #require(FileManager.default.contents(atPath: backup))
        try sparse(backup, size: UInt64(pages.count) + (64 << 20), prefix: pages)
        let r = try s.roomkey("restored", ["restore", backup], shell: limited)
        #expect(r.code != 0, "\(r)")
        #expect(r.stderr.contains("\(64 << 20) bytes follow its last page"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.keyring("restored")))
    }

    @Test(arguments: ["quarterly numbers\n", ""])
    func aFileThatIsNoKeyringGetsNoLockFileBesideIt(_ text: String) throws {
        let s = try Sandbox()
        let report = s.path("report.txt")
        FileManager.default.createFile(atPath: report, contents: Data(text.utf8))
        for args in [["room", "list"], ["audit"]] {
            let r = try CLI.run(["--keyring", report] + args, env: ["XDG_STATE_HOME": s.path("state")])
            #expect(r.code == 1, "\(r)")
            #expect(r.stderr.contains("is not a roomkey keyring"), "\(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root.path).sorted() == ["passphrase", "report.txt"])
    }
}
