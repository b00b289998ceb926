import Foundation
import Testing

/// Findings of a hostile-input review, one test each: what the documents promise for bad input held in every case but
/// these.
@Suite struct InputReviewCLITests {
    /// Runs `script` with `sh -c` (the binary as `$0`), for arguments a `Process` cannot pass (bytes that are not UTF-8)
    /// or a limit it cannot set.
    static func shell(_ s: Sandbox, _ who: String, _ script: String) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, CLI.binary.path]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        environment["ROOMKEY_KEYRING"] = s.keyring(who)
        environment["XDG_STATE_HOME"] = s.path("state")
        process.environment = environment
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(code: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// `room fingerprint --confirm` with something that is not 60 digits is a usage error (64), as for `verify`: it was
    /// reported as a failed check (2), which means forged or tampered.
    @Test(arguments: ["abc", "", "１２３４５", "1234"]) func aMistypedFingerprintIsAUsageError(_ typed: String) throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let r = try w.rk("alice", ["room", "fingerprint", "team", "--confirm", typed])
        #expect(r.code == 64 && r.stderr.contains("--confirm takes the 60 digits of the room fingerprint"), "\(r)")
        let wrong = try w.rk("alice", ["room", "fingerprint", "team", "--confirm", String(repeating: "1", count: 60)])
        #expect(wrong.code == 2 && wrong.stderr.contains("do not match"), "\(wrong)")
    }

    /// A backup with bytes after its last page is damaged (exit 2), not restored with the bytes copied in.
    @Test func aBackupWithTrailingBytesIsRefused() throws {
        let w = try RoomWorld()
        let backup = w.s.path("alice.backup"), padded = w.s.path("padded.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: backup))
        bytes.append(Data(repeating: 0x41, count: 5_000))
        try bytes.write(to: URL(fileURLWithPath: padded))
        let before = w.s.rawBytes(of: "alice")
        let r = try w.rk("alice", ["restore", padded, "--force"])
        #expect(r.code == 2 && r.stderr.contains("5000 bytes follow its last page"), "\(r)")
        #expect(w.s.rawBytes(of: "alice") == before)
        #expect(try w.rk("alice", ["restore", backup, "--force"]).code == 0, "the backup itself still restores")
    }

    /// A device named as an input is refused before it is read: `receive /dev/zero` read 256 MiB first (and held twice
    /// that), here under a 300 MB address-space limit.
    @Test func aDeviceIsRefusedUnread() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try Self.shell(s, "alice", "ulimit -v 300000 && exec \"$0\" receive /dev/zero")
        #expect(r.code == 65 && r.stderr.contains("a device or a socket"), "\(r.code): \(r.stderr.prefix(300))")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// `--json` with an argument that is not UTF-8 prints the JSON error document, as every other usage error does.
    @Test func aNonUTF8ArgumentGivesTheJSONErrorToo() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try Self.shell(s, "alice", "exec \"$0\" receive \"$(printf 'a\\377b')\" --json")
        #expect(r.code == 64, "\(r)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let error = doc?["error"] as? [String: Any]
        #expect(error?["kind"] as? String == "usage" && (error?["message"] as? String)?.contains("not valid UTF-8") == true, "\(r.stdout)")
    }

    /// A line feed in an output file's name is shown escaped (`\u{a}`), and exact in JSON, never as a space, which names
    /// another file.
    @Test func aLineFeedInAnOutputNameIsNotASpace() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.exchange(["alice", "bob"])
        let folder = w.s.path("in")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let message = folder + "/a\nb.msg"
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data("hi".utf8)).code == 0)
        try w.exchange(["alice", "bob"])
        FileManager.default.createFile(atPath: folder + "/a\nb", contents: Data())
        let text = try w.rk("bob", ["decrypt", message, "-o", folder])
        #expect(text.code == 6 && text.stdout.contains("a\\u{a}b exists") && !text.stdout.contains("a b exists"), "\(text)")
        let json = try w.rk("bob", ["decrypt", message, "-o", folder, "--json"])
        #expect(json.stdout.contains("a\\nb exists"), "\(json.stdout)")
    }

    /// `contact add` of one file names the file in its error, as CLI.md shows (`cards/bob.card: line 1: ...`); only
    /// standard input has no name to give.
    @Test func aBadCardNamesItsFileAlone() throws {
        let s = try Sandbox()
        try s.person("alice")
        let file = s.path("mallory.card")
        try ContactCLITests.forgedCard(s, "mallory").write(to: URL(fileURLWithPath: file))
        let r = try s.roomkey("alice", ["contact", "add", file])
        #expect(r.code == 2 && r.stderr == "roomkey: error: \(file): line 1: signature check failed\n", "\(r)")
    }
}
