import Foundation
import Testing

/// No output replaces the keyring the command uses or SQLite's files beside it (a hostile review found that
/// `id export -o KEYRING --force` replaced the keyring with a card, which then did not open as a keyring).
@Suite struct OutputKeyringCLITests {
    @Test func anOutputNamingTheKeyringIsRefused() throws {
        let s = try Sandbox()
        try s.person("alice")
        let k = s.keyring("alice")
        let before = try Data(contentsOf: URL(fileURLWithPath: k))
        let link = s.path("keyring-link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: k)
        for (args, shown) in [(["id", "export", "-o", k, "--force"], k), (["id", "export", "-o", k + "-wal"], k + "-wal"),
                              (["id", "export", "-o", link, "--force"], link), (["backup", "-o", k, "--force"], k)] {
            let r = try s.roomkey("alice", args)
            #expect(r.code == 64 && r.stderr.hasPrefix("roomkey: error: \(shown) is the keyring (or one of its files); an output never replaces it\n"),
                    "\(args): \(r)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: k)) == before)
        #expect(try s.roomkey("alice", ["id"]).code == 0)
        // Another path is written as before.
        #expect(try s.roomkey("alice", ["id", "export", "-o", s.path("card")]).code == 0)
    }

    /// SQLite keeps its files beside the file a linked keyring path leads to: those are refused too (found by the
    /// review of the fix above: `-o TARGET-wal --force` was written over the live log).
    @Test func theFilesBesideALinkedKeyringsTargetAreRefused() throws {
        let s = try Sandbox()
        try s.person("alice")
        let k = s.keyring("alice")
        let link = s.path("keyring-link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: k)
        for suffix in ["-wal", "-shm", "-journal"] {
            let r = try s.roomkey("alice", ["id", "export", "-o", k + suffix, "--force"], env: ["ROOMKEY_KEYRING": link])
            #expect(r.code == 64, "\(suffix): \(r)")
            #expect(!FileManager.default.fileExists(atPath: k + suffix) || suffix != "-journal")
        }
    }

    /// roomkey's lock files beside the keyring are refused as outputs too: a backup renamed over `KEYRING.decrypt.lock`
    /// let a second decrypt read a message the first was still reading (a hostile review).
    @Test(arguments: [".lock", ".decrypt.lock", ".sync.lock"]) func theLockFilesAreRefused(_ suffix: String) throws {
        let s = try Sandbox()
        try s.person("alice")
        let target = s.keyring("alice") + suffix
        FileManager.default.createFile(atPath: target, contents: Data())
        let r = try s.roomkey("alice", ["backup", "-o", target, "--force"])
        #expect(r.code == 64 && r.stderr.contains("is the keyring (or one of its files)"), "\(r)")
        #expect((try? Data(contentsOf: URL(fileURLWithPath: target)))?.isEmpty == true)
    }
}
