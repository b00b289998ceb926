import Foundation
import GRDB
import Testing

/// Review r: an edited keyring must be refused before a command prints or writes anything, and a damaged header is a
/// header error, bounded before its values are read.
@Suite struct EditedKeyringBeforeOutputCLITests {
    /// `room show` printed the room's header, then found an edited contact table: half a listing and the error, and in
    /// `--json` no valid document.
    @Test(arguments: ["UPDATE contact SET sealed = sealed || x'00' WHERE rowid = (SELECT MIN(rowid) FROM contact)",
                      "INSERT INTO contact_alert (name_tag) VALUES (x'00')"])
    func roomShowRefusesAnEditedContactTableBeforePrinting(_ sql: String) throws {
        let w = try RoomWorld.team(["bob"])
        try SealedStateCLITests.edit(w, "alice", sql)
        let text = try w.rk("alice", ["room", "show", "team"])
        #expect(text.code == 2 && text.stdout.isEmpty, "\(text)")
        #expect(text.stderr.hasPrefix("roomkey: error: keyring was edited: "), "\(text)")
        let json = try w.rk("alice", ["room", "show", "team", "--json"])
        #expect(json.code == 2, "\(json)")
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((doc?["error"] as? [String: Any])?["kind"] as? String == "rejected", "one document, the error: \(json)")
        #expect(doc?.count == 1, "\(json)")
    }

    /// `decrypt` wrote the plaintext, then failed on the edited audit head (exit 2), and again at every run; a batch
    /// said "rejected" for a file it had written.
    @Test func decryptRefusesAnEditedAuditHeadBeforeWriting() throws {
        let w = try RoomWorld.team(["bob"])
        let message = w.s.path("m.msg")
        let plain = w.s.path("m.txt")
        try Data("secret text\n".utf8).write(to: URL(fileURLWithPath: plain))
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message, plain]).code == 0)
        try SealedStateCLITests.edit(w, "bob", "UPDATE audit_head SET sealed = sealed || x'00'")
        let out = w.s.path("m.out")
        let single = try w.rk("bob", ["decrypt", message, "-o", out])
        #expect(single.code == 2, "\(single)")
        #expect(single.stderr.hasPrefix("roomkey: error: keyring was edited: "), "\(single)")
        #expect(!FileManager.default.fileExists(atPath: out), "no plaintext is written")
        let folder = w.s.path("in"), outFolder = w.s.path("out")
        for f in [folder, outFolder] { try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: message, toPath: folder + "/m")
        let batch = try w.rk("bob", ["decrypt", folder, "-o", outFolder, "--json"])
        #expect(batch.code == 2, "\(batch)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outFolder)) ?? []).isEmpty, "\(batch)")
    }

    /// A header edited to an oversized or short wrapped key, or an oversized salt, is a header error (exit 1) found
    /// before the value is read or a passphrase is asked for: the wrapped key was blamed on the passphrase (exit 3), and
    /// a 100 MB value was loaded whole before its length was looked at.
    @Test(arguments: [("UPDATE keyring_header SET wrapped_key = zeroblob(100000)", "its row holds more than 4096 bytes"),
                      ("UPDATE keyring_header SET salt = zeroblob(100000)", "its row holds more than 4096 bytes"),
                      ("UPDATE keyring_header SET salt = zeroblob(300)", "over 256 bytes"),
                      ("UPDATE keyring_header SET wrapped_key = x'00'", "wrapped key of 1 bytes (expected 72)"),
                      ("UPDATE keyring_header SET wrapped_key = 'text'", "wrong type"),
                      // Review s: the kdf name was not bounded (a 100 MB one took 320 MB before the refusal).
                      ("UPDATE keyring_header SET kdf = 'x' || hex(zeroblob(5000))", "its row holds more than 4096 bytes")])
    func aDamagedHeaderIsAHeaderError(_ edit: (sql: String, reason: String)) throws {
        let s = try Sandbox()
        #expect(try s.roomkey("pp", ["init", "--name", "pp", "-q"], passphrase: true).code == 0)
        let db = try DatabaseQueue(path: s.keyring("pp"))
        try db.write { try $0.execute(sql: edit.sql) }
        try db.close()
        let r = try s.roomkey("pp", ["id"], passphrase: true)
        #expect(r.code == 1, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: keyring header is not supported: "), "\(r)")
        #expect(r.stderr.contains(edit.reason), "\(r)")
    }
}
