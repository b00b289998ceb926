import Foundation
import Testing

/// An `init` killed at any instant leaves no keyring or a whole one: the keyring is built in a temporary file and
/// linked into place only when complete (a hostile review: killed part-way, it left a file that was "not a roomkey
/// keyring" and made every later `init` at that path say "a keyring already exists").
@Suite struct InitKilledCLITests {
    @Test(arguments: ["before-commit", "after-any-commit"])
    func anInitKilledPartWayLeavesNoKeyring(_ step: String) throws {
        let s = try Sandbox()
        let killed = try s.roomkey("alice", ["init", "--name", "alice", "--no-passphrase", "-q"], env: ["ROOMKEY_TEST_CRASH": step])
        #expect(killed.code == SIGKILL, "\(killed)")
        #expect(!FileManager.default.fileExists(atPath: s.keyring("alice")))
        let again = try s.roomkey("alice", ["init", "--name", "alice", "--no-passphrase", "-q"])
        #expect(again.code == 0, "\(again)")
        #expect(try s.roomkey("alice", ["id"]).code == 0)
        let folder = (s.keyring("alice") as NSString).deletingLastPathComponent
        let left = (try FileManager.default.contentsOfDirectory(atPath: folder)).filter { $0.hasPrefix(".roomkey-tmp-") }
        #expect(left.isEmpty, "\(left)")
    }
}
