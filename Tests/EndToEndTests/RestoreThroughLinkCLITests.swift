import Foundation
import Testing

/// A keyring reached through a symbolic link is restored where the link leads, the link kept (a hostile review found
/// the link replaced by a regular file while the target still held the old keyring and its keys).
@Suite struct RestoreThroughLinkCLITests {
    @Test func restoreWritesTheLinksTarget() throws {
        let s = try Sandbox()
        try s.person("alice")
        let real = s.keyring("alice")
        let linkFolder = s.path("linked")
        try FileManager.default.createDirectory(atPath: linkFolder, withIntermediateDirectories: true)
        let link = linkFolder + "/keyring.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let env = ["ROOMKEY_KEYRING": link]
        let backup = s.path("alice.backup")
        #expect(try s.roomkey("alice", ["backup", "-o", backup], env: env).code == 0)
        // A contact added after the backup: the restore takes it away, in the file the link leads to.
        try s.person("bob")
        let bobCard = s.path("bob.card")
        #expect(try s.roomkey("bob", ["id", "export", "-o", bobCard]).code == 0)
        #expect(try s.roomkey("alice", ["contact", "add", bobCard], env: env).code == 0)
        let restored = try s.roomkey("alice", ["restore", backup, "--force"], env: env)
        #expect(restored.code == 0, "\(restored)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == real, "the link stays")
        let list = try s.roomkey("alice", ["contact", "list", "--json"])
        #expect(list.code == 0 && !list.stdout.contains("bob"), "the target holds the restored keyring: \(list)")
    }
}
