import Foundation
import Testing

/// Every command's `--json` output conforms to its schema in docs/json/, and every schema there is used
/// (issue 12, finding 10: one naming style, documented).
@Suite struct JSONSchemaCLITests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/json")

    static func schema(_ name: String) throws -> JSONValue {
        try JSONValue.parse(String(contentsOf: folder.appendingPathComponent("\(name).json"), encoding: .utf8))
    }

    /// Runs one command as `who` and checks its standard output against `schema`.
    final class Checker {
        let w: RoomWorld
        var used: Set<String> = []
        init(_ w: RoomWorld) { self.w = w }

        @discardableResult
        func check(_ schema: String, _ who: String, _ args: [String], exit: Int32 = 0, stdin: Data? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
            let r = try w.rk(who, args + ["--json"], stdin: stdin)
            #expect(r.code == exit, "\(args): \(r)", sourceLocation: sourceLocation)
            let value = try JSONValue.parse(r.stdout)
            let errors = JSONSchemaValidator.errors(value, schema: try JSONSchemaCLITests.schema(schema))
            #expect(errors.isEmpty, "\(args) against \(schema).json: \(errors)\n\(r.stdout)", sourceLocation: sourceLocation)
            used.insert(schema)
            return value
        }
    }

    @Test func everyCommandsJSONMatchesItsSchema() throws {
        let w = try RoomWorld()
        let c = Checker(w)
        let s = w.s
        try c.check("id", "alice", ["id"])
        try c.check("id", "alice", ["id", "show"])
        try c.check("id-export", "alice", ["id", "export"])
        try c.check("id-export", "alice", ["id", "export", "-o", s.path("alice.card")])
        try c.check("contact-list", "alice", ["contact", "list"])
        try c.check("contact-show", "alice", ["contact", "show", "bob"])
        #expect(try s.roomkey("bob", ["id", "export", "-o", s.path("bob.card")]).code == 0)
        try c.check("contact-add", "alice", ["contact", "add", s.path("bob.card")])
        try c.check("error", "alice", ["contact", "add", s.path("alice.card")], exit: 64)
        try c.check("verify", "alice", ["verify", "bob"])
        try c.check("room-commit", "alice", ["room", "create", "team", "--member", "bob", "--member", "carol"])
        try c.check("room-commit", "alice", ["room", "add", "team", "dave"])
        try c.check("room-change", "alice", ["room", "add", "team", "dave", "--if-missing"])
        try c.check("room-commit", "alice", ["room", "promote", "team", "bob"])
        try c.check("room-commit", "alice", ["room", "demote", "team", "bob"])
        try c.check("room-commit", "alice", ["room", "rotate", "team"])
        try Data("bob\ndave\n".utf8).write(to: URL(fileURLWithPath: s.path("team.txt")))
        try c.check("room-change", "alice", ["room", "members", "team", "--members-file", s.path("team.txt"), "--dry-run"])
        try c.check("room-change", "alice", ["room", "members", "team", "--members-file", s.path("team.txt")])
        try c.check("room-change", "alice", ["room", "remove", "team", "carol", "--if-present"])
        try c.check("room-list", "alice", ["room", "list"])
        try c.check("room-show", "alice", ["room", "show", "team"])
        try c.check("room-log", "alice", ["room", "log", "team"])
        try c.check("room-fingerprint", "alice", ["room", "fingerprint", "team"])
        try c.check("room-report", "alice", ["room", "report", "team"])
        try c.check("room-set", "alice", ["room", "set", "team", "--retention", "7d"])
        try Data("not a bundle\n".utf8).write(to: URL(fileURLWithPath: w.shared + "/notes.txt"))
        try c.check("receive", "bob", ["receive", w.shared])
        try c.check("receive", "dave", ["receive", w.shared])
        try c.check("receive", "bob", ["receive", w.shared])
        try c.check("room-resolve", "alice", ["room", "resolve", "team"])
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: s.path("hello.txt")))
        try c.check("encrypt", "bob", ["encrypt", "team", s.path("hello.txt"), "-o", s.path("hello.msg")])
        try c.check("encrypt", "bob", ["encrypt", "team", "--armor"], stdin: Data("hi\n".utf8))
        try c.check("receive", "alice", ["receive", w.shared])
        try c.check("decrypt", "alice", ["decrypt", s.path("hello.msg")])
        try c.check("encrypt", "bob", ["encrypt", "team", s.path("hello.txt"), "-o", s.path("hello2.msg")])
        try c.check("decrypt", "alice", ["decrypt", s.path("hello2.msg"), "-o", s.path("hello.out")])
        try FileManager.default.createDirectory(atPath: s.path("enc"), withIntermediateDirectories: true)
        try c.check("batch", "bob", ["encrypt", "team", s.path("hello.txt"), s.path("team.txt"), "-o", s.path("enc")])
        try c.check("batch", "carol", ["decrypt", s.path("enc/hello.txt.msg"), s.path("nothing"), "-o", s.path("enc")], exit: 4)
        try Data("create ops bob\n".utf8).write(to: URL(fileURLWithPath: s.path("script.txt")))
        try c.check("apply", "alice", ["apply", s.path("script.txt"), "--dry-run"])
        try c.check("apply", "alice", ["apply", s.path("script.txt")])
        try c.check("offboard", "alice", ["offboard", "dave"])
        try c.check("contact-remove", "alice", ["contact", "remove", "bob"])
        try c.check("contact-accept", "alice", ["contact", "accept", "carol"])
        try c.check("room-commit", "dave", ["room", "leave", "team"], exit: 0)
        try c.check("room-rejoin", "dave", ["room", "rejoin", "team"])
        try c.check("error", "alice", ["room", "forget", "ops"], exit: 6)
        try c.check("room-forget", "alice", ["room", "forget", "ops", "--force"])
        try c.check("outbox-list", "alice", ["outbox", "list"])
        try c.check("outbox-flush", "alice", ["outbox", "flush"])
        try c.check("outbox-resend", "alice", ["outbox", "resend", "team"])
        try c.check("prune", "alice", ["prune"])
        try c.check("audit", "alice", ["audit"])
        try c.check("audit-verify", "alice", ["audit", "--verify"])
        try c.check("backup", "alice", ["backup", "-o", s.path("alice.backup")])
        try c.check("restore", "alice", ["restore", s.path("alice.backup"), "--force"])
        try c.check("passwd", "alice", ["passwd", "--new-passphrase-file", s.passphraseFile.path])
        try c.check("id-upgrade", "carol", ["id", "upgrade"])
        try c.check("error", "alice", ["room", "show", "nowhere", "--passphrase-file", s.passphraseFile.path], exit: 4)
        let created = try c.w.s.roomkey("erin", ["init", "--name", "erin", "--json"], passphrase: true)
        #expect(JSONSchemaValidator.errors(try JSONValue.parse(created.stdout), schema: try Self.schema("init")).isEmpty, "\(created)")
        let version = try CLI.run(["--version", "--json"])
        #expect(version.code == 0, "\(version)")
        #expect(JSONSchemaValidator.errors(try JSONValue.parse(version.stdout), schema: try Self.schema("version")).isEmpty, "\(version.stdout)")
        c.used.insert("version")
        c.used.insert("init")
        try Self.checkGit(&c.used)

        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == c.used, "every schema in docs/json is checked, and every check has a schema")
    }

    /// The git commands' JSON: `remote add|list|remove`, `sync`, and a membership change on a room with a remote,
    /// for two admins sharing a bare repository (the README's set-up installs git, so this never skips).
    static func checkGit(_ used: inout Set<String>) throws {
        #expect(GitWorld.gitAvailable, "git is needed: scripts/deps installs it")
        guard GitWorld.gitAvailable else { return }
        let g = try GitWorld(["alice", "bob"])
        func check(_ schema: String, _ who: String, _ args: [String], exit: Int32 = 0,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try g.rk(who, args + ["--json"])
            #expect(r.code == exit, "\(args): \(r)", sourceLocation: sourceLocation)
            let errors = JSONSchemaValidator.errors(try JSONValue.parse(r.stdout), schema: try JSONSchemaCLITests.schema(schema))
            #expect(errors.isEmpty, "\(args) against \(schema).json: \(errors)\n\(r.stdout)", sourceLocation: sourceLocation)
            used.insert(schema)
        }
        try check("remote", "alice", ["remote", "add", "origin", g.url])
        try check("remote", "bob", ["remote", "add", "origin", g.url])
        try check("remote", "alice", ["remote", "add", "spare", g.url])
        try check("remote-list", "alice", ["remote", "list"])
        try check("remote", "alice", ["remote", "remove", "spare"])
        #expect(try g.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try check("sync", "alice", ["sync"])
        try check("sync", "bob", ["sync"])
        try check("sync", "alice", ["room", "promote", "team", "bob"])
        try check("sync", "alice", ["room", "demote", "team", "bob", "--no-sync"])
        try check("sync", "bob", ["sync", "origin"])
        try check("sync", "alice", ["sync"])
    }
}
