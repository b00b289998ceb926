import Foundation
import Testing

/// `restore` names the identity it puts in place and warns when it has no passphrase: a backup handed over by someone
/// else replaced a keyring with their identity, and one without a passphrase then opened without asking, while the
/// restore said only how many audit entries were intact (a hostile review).
@Suite struct RestoreIdentityCLITests {
    @Test func aRestoreNamesTheIdentityItPutsInPlace() throws {
        let w = try RoomWorld()
        let bob = try #require(try w.rk("bob", ["id", "--json"]).json()["id"] as? String)
        let backup = w.s.path("bob.backup")
        #expect(try w.rk("bob", ["backup", "-o", backup]).code == 0)
        let r = try w.rk("alice", ["restore", backup, "--force"])
        #expect(r.code == 0, "\(r)")
        #expect(r.stdout.contains("id:     \(bob)") && r.stdout.contains("handle: bob"), "\(r)")
        #expect(r.stderr.contains("the restored keyring has no passphrase"), "\(r)")
        let json = try w.rk("alice", ["restore", backup, "--force", "--json"]).json()
        #expect(json["id"] as? String == bob && json["handle"] as? String == "bob", "\(json)")
        #expect(json["passphrase_protected"] as? Bool == false)
    }
}
