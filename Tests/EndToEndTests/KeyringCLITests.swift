import Foundation
import GRDB
import Testing

/// Transcripts of the keyring commands: init, id, passwd, and the documented exit codes.
@Suite struct KeyringCLITests {
    @Test func initShowsTheNewIdentity() throws {
        let s = try Sandbox()
        let r = try s.roomkey("alice", ["init", "--name", "alice"], passphrase: true)
        #expect(r.code == 0, "\(r)")
        #expect(r.stdout.hasPrefix("created keyring \(s.keyring("alice"))\nid:     "))
        #expect(r.stderr == "")
        let id = try s.roomkey("alice", ["id", "--json"], passphrase: true).json()
        #expect(id["handle"] as? String == "alice")
        #expect((id["id"] as? String)?.count == 32)
        #expect((id["signing_key"] as? String)?.count == 64)
        #expect((id["sealing_key"] as? String)?.count == 64)
        #expect((id["card"] as? String)?.hasPrefix("roomkey-card-v2:") == true)
        let text = try s.roomkey("alice", ["id"], passphrase: true)
        #expect(text.stdout.contains("handle:      alice\n"))
    }

    @Test func initRefusesToOverwrite() throws {
        let s = try Sandbox()
        try s.person("alice")
        let before = s.rawBytes(of: "alice")
        let r = try s.roomkey("alice", ["init", "--name", "mallory", "--no-passphrase"])
        #expect(r.code == 1)
        #expect(r.stderr.hasPrefix("roomkey: error: a keyring already exists at \(s.keyring("alice"))\nroomkey: hint: "))
        #expect(s.rawBytes(of: "alice") == before)
    }

    @Test func noPassphraseInitWarns() throws {
        let s = try Sandbox()
        let r = try s.roomkey("bob", ["init", "--name", "bob", "--no-passphrase"])
        #expect(r.code == 0)
        #expect(r.stderr.hasPrefix("roomkey: warning: the keyring key is stored unwrapped"))
    }

    @Test func keyringFileIsPrivate() throws {
        let s = try Sandbox()
        try s.person("alice")
        let file = try FileManager.default.attributesOfItem(atPath: s.keyring("alice"))[.posixPermissions] as? Int
        let folder = try FileManager.default.attributesOfItem(atPath: s.path("alice"))[.posixPermissions] as? Int
        #expect(file == 0o600)
        #expect(folder == 0o700)
    }

    @Test func wrongPassphraseExits3() throws {
        let s = try Sandbox()
        _ = try s.roomkey("alice", ["init", "--name", "alice"], passphrase: true)
        try Data("not it\n".utf8).write(to: URL(fileURLWithPath: s.path("wrong")))
        let r = try s.roomkey("alice", ["id", "--passphrase-file", s.path("wrong")])
        #expect(r.code == 3)
        #expect(r.stderr == "roomkey: error: the passphrase from --passphrase-file \(s.path("wrong")) is wrong\n"
                + "roomkey: hint: check the first line of \(s.path("wrong"))\n")
        #expect(r.stdout == "")
        let j = try s.roomkey("alice", ["id", "--json", "--passphrase-file", s.path("wrong")])
        let error = try #require(try j.json()["error"] as? [String: Any])
        #expect(error["kind"] as? String == "locked")
    }

    @Test func noPassphraseWithoutATerminalExits3() throws {
        let s = try Sandbox()
        _ = try s.roomkey("alice", ["init", "--name", "alice"], passphrase: true)
        let r = try s.roomkey("alice", ["id"])
        #expect(r.code == 3)
        #expect(r.stderr.hasPrefix("roomkey: error: the keyring is locked and no passphrase was given\nroomkey: hint: "))
        let i = try s.roomkey("carol", ["init", "--name", "carol"])
        #expect(i.code == 3)
        #expect(!FileManager.default.fileExists(atPath: s.keyring("carol")))
    }

    @Test func missingKeyringExits4() throws {
        let s = try Sandbox()
        let r = try s.roomkey("nobody", ["id"])
        #expect(r.code == 4)
        #expect(r.stderr.hasPrefix("roomkey: error: no keyring at \(s.keyring("nobody"))\n"))
    }

    @Test func foreignFileIsNotAKeyring() throws {
        let s = try Sandbox()
        try FileManager.default.createDirectory(atPath: s.path("eve"), withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: s.keyring("eve")))
        let r = try s.roomkey("eve", ["id"])
        #expect(r.code == 1)
        #expect(r.stderr == "roomkey: error: \(s.keyring("eve")) is not a roomkey keyring\n")
    }

    /// An empty file and another program's SQLite database are not keyrings, and stay byte for byte as they were
    /// (found by a hostile review: an empty file got a SQLite header, a database was switched to WAL mode).
    @Test func aFileThatIsNoKeyringIsNeverWritten() throws {
        let s = try Sandbox()
        try FileManager.default.createDirectory(atPath: s.path("eve"), withIntermediateDirectories: true)
        let path = s.keyring("eve")
        let foreign = try DatabaseQueue(path: s.path("other.db"))
        try foreign.write { db in try db.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        try foreign.close()
        for bytes in [Data(), try Data(contentsOf: URL(fileURLWithPath: s.path("other.db")))] {
            try bytes.write(to: URL(fileURLWithPath: path))
            for args in [["room", "list"], ["id"]] {
                let r = try s.roomkey("eve", args)
                #expect(r.code == 1, "\(r)")
                #expect(r.stderr == "roomkey: error: \(path) is not a roomkey keyring\n")
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
                #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            }
        }
    }

    @Test func passwdRewrapsTheKey() throws {
        let s = try Sandbox()
        _ = try s.roomkey("alice", ["init", "--name", "alice"], passphrase: true)
        let before = try s.roomkey("alice", ["id", "--json"], passphrase: true).json()["id"] as? String
        try Data("a brand new passphrase\n".utf8).write(to: URL(fileURLWithPath: s.path("new")))
        let r = try s.roomkey("alice", ["passwd", "--new-passphrase-file", s.path("new")], passphrase: true)
        #expect(r.code == 0, "\(r)")
        #expect(try s.roomkey("alice", ["id"], passphrase: true).code == 3)
        let after = try s.roomkey("alice", ["id", "--json", "--passphrase-file", s.path("new")]).json()["id"] as? String
        #expect(after == before)
    }

    @Test func usageErrorsExit64() throws {
        let s = try Sandbox()
        let r = try s.roomkey("alice", ["init"])
        #expect(r.code == 64)
        #expect(r.stderr.hasPrefix("roomkey: error: missing expected argument '--name <handle>'"))
        let bad = try s.roomkey("alice", ["init", "--name", "", "--no-passphrase"])
        #expect(bad.code == 64)
        #expect(try s.roomkey("alice", ["frobnicate"]).code == 64)
    }

    @Test func keyringLocationFollowsXDG() throws {
        let s = try Sandbox()
        let r = try CLI.run(["init", "--name", "xdg", "--no-passphrase", "--json"], env: ["XDG_DATA_HOME": s.path("xdg")])
        #expect(r.code == 0, "\(r)")
        #expect(try r.json()["keyring"] as? String == s.path("xdg") + "/roomkey/keyring.sqlite")
        #expect(FileManager.default.fileExists(atPath: s.path("xdg") + "/roomkey/keyring.sqlite"))
    }
}
