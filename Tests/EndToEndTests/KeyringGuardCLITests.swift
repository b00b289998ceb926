import Foundation
import Testing
@testable import RoomKey

/// A keyring replaced by an older copy of itself, and keyrings others could read or change.
@Suite struct KeyringGuardCLITests {
    @Test func anOlderCopyIsRefusedUntilAcceptedAndThenEveryRoomRotates() throws {
        let w = try RoomWorld.team(["bob"])
        let keyring = w.s.keyring("alice")
        let old = try Data(contentsOf: URL(fileURLWithPath: keyring))
        #expect(try w.rk("alice", ["room", "remove", "team", "bob"]).code == 0)
        // Put the older copy back (no write-ahead log is left once a command ends).
        try old.write(to: URL(fileURLWithPath: keyring))
        let refused = try w.rk("alice", ["encrypt", "team", "-o", w.s.path("m.msg")], stdin: Data("hi".utf8))
        #expect(refused.code == 2, "\(refused)")
        #expect(refused.stderr.contains("is older than the state this machine last saw"))
        #expect(refused.stderr.contains("--accept-rollback"))
        #expect(!FileManager.default.fileExists(atPath: w.s.path("m.msg")))
        // Reads are refused too: the copy is not the keyring this machine last used.
        #expect(try w.rk("alice", ["room", "show", "team"]).code == 2)
        let accepted = try w.rk("alice", ["room", "show", "team", "--accept-rollback", "--json"])
        #expect(accepted.code == 0, "\(accepted)")
        let events = (try w.rk("alice", ["audit", "--json"]).json()["entries"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
        #expect(events.contains { $0.contains("accepted a rollback") })
        // Every room is marked as a restore marks it: a commit on a remote naming alice may be her own, lost with the copy.
        #expect(try w.keyring("alice").room("team").restoredBehind)
        // The next write pays the owed rotation: a new generation goes out before any message.
        let before = try w.bundles()
        #expect(try w.rk("alice", ["encrypt", "team", "-o", w.s.path("m.msg")], stdin: Data("hi".utf8)).code == 0)
        #expect(try w.bundles().count > before.count)
    }

    @Test func aKeyringWithoutPassphraseThatOthersCanReadIsRefused() throws {
        let s = try Sandbox()
        try s.person("alice")
        let keyring = s.keyring("alice")
        chmod(keyring, 0o644)
        let r = try s.roomkey("alice", ["id"])
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr.contains("has no passphrase and is readable or writable by group or others (mode 644)"))
        #expect(r.stderr.contains("roomkey: hint: run 'chmod 600 \(keyring)'"))
        chmod(keyring, 0o600)
        let folder = (keyring as NSString).deletingLastPathComponent
        chmod(folder, 0o777)
        let open = try s.roomkey("alice", ["id"])
        #expect(open.code == 6)
        #expect(open.stderr.contains("is in a folder others can write"))
        chmod(folder, 0o700)
        #expect(try s.roomkey("alice", ["id"]).code == 0)
    }

    @Test func aProtectedKeyringThatOthersCanReadOpensWithAWarning() throws {
        let s = try Sandbox()
        _ = try s.roomkey("alice", ["init", "--name", "alice"], passphrase: true)
        chmod(s.keyring("alice"), 0o640)
        let r = try s.roomkey("alice", ["id"], passphrase: true)
        #expect(r.code == 0, "\(r)")
        #expect(r.stderr.contains("roomkey: warning: \(s.keyring("alice")) is readable or writable by group or others (mode 640)"))
    }
}
