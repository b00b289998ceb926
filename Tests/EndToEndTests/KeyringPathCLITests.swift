import Foundation
import Testing

/// Where the keyring is (a hostile review): a relative $XDG_DATA_HOME is ignored, as a relative $XDG_STATE_HOME is and
/// as the XDG spec says (it made the keyring a file of whatever folder the command ran in), and `--keyring ""` is a
/// usage error (it said "cannot create : No such file or directory").
@Suite struct KeyringPathCLITests {
    @Test func aRelativeDataHomeIsIgnored() throws {
        let s = try Sandbox()
        let home = s.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let r = try CLI.run(["init", "--name", "zoe", "--no-passphrase", "-q"], env: ["HOME": home, "XDG_DATA_HOME": "rel"],
                            cwd: URL(fileURLWithPath: s.path("")))
        #expect(r.code == 0, "\(r)")
        #expect(FileManager.default.fileExists(atPath: home + "/.local/share/roomkey/keyring.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: s.path("rel")))
    }

    @Test func anEmptyKeyringPathIsAUsageError() throws {
        let s = try Sandbox()
        try s.roomkey("alice", ["id", "--keyring", ""]).expect(exit: 64, stderr: """
            roomkey: error: --keyring needs a path
            roomkey: hint: see 'roomkey id --help'

            """)
    }
}
