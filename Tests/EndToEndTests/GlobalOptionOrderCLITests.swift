import Foundation
import Testing

/// Global options (`--keyring`, `--passphrase-file`, `--passphrase-fd`, `--json`, `-q`, `--accept-rollback`) work
/// before the subcommand, between its words, and after it (issue 12, finding 3).
@Suite struct GlobalOptionOrderCLITests {
    @Test func keyringBeforeTheSubcommand() throws {
        let s = try Sandbox()
        try s.person("alice")
        let k = s.keyring("alice")
        let after = try s.bare(["room", "list", "--keyring", k])
        after.expect(exit: 0, stderr: "")
        try s.bare(["--keyring", k, "room", "list"]).expect(exit: 0, stderr: "", stdout: after.stdout)
        try s.bare(["room", "--keyring", k, "list"]).expect(exit: 0, stderr: "", stdout: after.stdout)
        try s.bare(["--keyring=\(k)", "room", "list"]).expect(exit: 0, stderr: "", stdout: after.stdout)
    }

    @Test func everyGlobalOptionBeforeTheSubcommand() throws {
        let s = try Sandbox()
        let k = s.keyring("alice")
        let p = s.passphraseFile.path
        try s.bare(["--keyring", k, "--passphrase-file", p, "-q", "init", "--name", "alice"]).expect(exit: 0, stderr: "")
        let id = try s.bare(["--json", "--keyring", k, "--passphrase-file", p, "--accept-rollback", "id"])
        id.expect(exit: 0, stderr: "")
        #expect(try id.json()["handle"] as? String == "alice")
        let quiet = try s.bare(["--quiet", "--keyring", k, "--passphrase-file", p, "contact", "list", "--json"])
        #expect(quiet.code == 0, "\(quiet)")
        #expect(try quiet.json()["contacts"] as? [Any] != nil)
    }

    /// A value that is also a subcommand name stays the option's value: a keyring file called `room`.
    @Test func anOptionValueThatLooksLikeASubcommand() throws {
        let s = try Sandbox()
        let p = s.passphraseFile.path
        try s.bare(["--keyring", "room", "--passphrase-file", p, "init", "--name", "alice", "-q"]).expect(exit: 0, stderr: "")
        #expect(FileManager.default.fileExists(atPath: s.path("room")))
        let list = try s.bare(["--keyring", "room", "--passphrase-file", p, "room", "list"])
        list.expect(exit: 0, stderr: "")
        #expect(list.stdout.hasPrefix("NAME"))
    }

    /// After `--` nothing is an option: `--json` there is a file name, and it is not moved or read as a flag.
    @Test func nothingAfterDoubleDashIsMoved() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try s.bare(["--keyring", s.keyring("alice"), "decrypt", "--", "--json"])
        #expect(r.code == 4, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: "))
        #expect(r.stderr.contains("--json"))
        #expect((try? r.json()) == nil, "stdout must not be a JSON document: \(r)")
    }

    /// An option that is not global, before the subcommand, is still a usage error (exit 64) with the root's help.
    @Test func aSubcommandOptionBeforeTheSubcommandIsAUsageError() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try s.bare(["--name", "x", "init", "--keyring", s.keyring("bob")])
        #expect(r.code == 64, "\(r)")
        #expect(r.stderr.hasSuffix("roomkey: hint: see 'roomkey --help'\n"), "\(r)")
    }
}
