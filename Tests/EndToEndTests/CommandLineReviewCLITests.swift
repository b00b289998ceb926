import Foundation
import Testing

/// Findings of a hostile review of the command line, one test each.
@Suite struct CommandLineReviewCLITests {
    /// A file name of one character with no folder (`-o b`, `--keyring k`): Foundation's `deletingLastPathComponent`
    /// trapped on it, and roomkey died of SIGILL (exit 132) with no message.
    @Test func aOneCharacterNameIsAnOrdinaryName() throws {
        let s = try Sandbox()
        try s.person("alice")
        let backup = try s.roomkey("alice", ["backup", "-o", "b"])
        #expect(backup.code == 0, "\(backup)")
        #expect(FileManager.default.fileExists(atPath: s.path("b")))
        let made = try s.roomkey("alice", ["--keyring", "k", "init", "--name", "kay", "--no-passphrase", "-q"])
        #expect(made.code == 0, "\(made)")
        let id = try s.roomkey("alice", ["--keyring", "k", "id"])
        #expect(id.code == 0 && id.stdout.contains("kay"), "\(id)")
        let accented = try s.roomkey("alice", ["id", "export", "-o", "é"])
        #expect(accented.code == 0, "\(accented)")
    }

    /// `--passphrase-fd 0` with standard input named as the input: a usage error before anything is read, so the
    /// passphrase's line never becomes input (an `apply` error quoted it as an unknown verb, in text and in JSON).
    @Test(arguments: [["apply", "-"], ["contact", "add", "-"], ["decrypt", "-"], ["apply", "/dev/stdin"], ["apply", "/proc/self/fd/0"]])
    func standardInputCannotBeBothPassphraseAndInput(_ command: [String]) throws {
        let s = try Sandbox()
        try s.person("alice")
        for json in [false, true] {
            let r = try s.roomkey("alice", command + ["--passphrase-fd", "0"] + (json ? ["--json"] : []), stdin: Data("hunter2XYZ\nrotate r\n".utf8))
            #expect(r.code == 64, "\(r)")
            #expect(r.stderr.contains("the input reads what carries the passphrase (--passphrase-fd 0)"), "\(r.stderr)")
            #expect(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"), "\(r)")
        }
    }

    /// A reader that closes early: the write fails with a message and exit 1, not a silent death by SIGPIPE (141).
    @Test func aReaderThatClosesEarlyIsAFailedWrite() throws {
        let s = try Sandbox()
        try s.person("alice")
        let fifo = s.path("pipe")
        let r = try InputReviewCLITests.shell(s, "alice", "mkfifo '\(fifo)' && { head -c 10 '\(fifo)' > /dev/null & } && exec \"$0\" backup -o '\(fifo)'")
        #expect(r.code == 1 && r.stderr.contains("roomkey: error:") && r.stderr.split(separator: "\n").count <= 2, "\(r)")
    }

    /// An empty or relative `HOME` is not used: the keyring was `/.local/share/...`, or a file of whatever folder the
    /// command ran in. (Only a missing keyring is looked up here, so nothing is written outside the sandbox.)
    @Test(arguments: ["", "relhome"]) func anEmptyOrRelativeHomeIsNotUsed(_ home: String) throws {
        let s = try Sandbox()
        let r = try CLI.run(["id"], env: ["HOME": home, "XDG_DATA_HOME": ""], cwd: URL(fileURLWithPath: s.path(".")))
        let path = r.stderr.components(separatedBy: "no keyring at ").dropFirst().first?.prefix { $0 != "\n" } ?? ""
        #expect(r.code != 4 || (path.hasPrefix("/") && !path.hasPrefix("/.local") && !path.contains("relhome")), "\(r)")
    }

    /// Help written to a pipe nobody reads is a failed write (exit 1, one line), not a silent exit 0.
    @Test(arguments: [["--help"], ["--version"], ["help", "room"]]) func helpToAClosedPipeFails(_ args: [String]) throws {
        let (code, text) = try Self.toClosedPipe(try Sandbox(), "nobody", args)
        #expect(code == 1 && text.hasPrefix("roomkey: error: cannot write standard output"), "\(code) \(text)")
    }

    /// Runs roomkey as `who` with standard output a pipe nobody reads: (exit code, standard error).
    static func toClosedPipe(_ s: Sandbox, _ who: String, _ args: [String], env: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        environment["ROOMKEY_KEYRING"] = s.keyring(who)
        environment["XDG_STATE_HOME"] = s.path("state")
        process.environment = environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        try out.fileHandleForReading.close()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// `decrypt --json` whose document cannot be written keeps the message (its key was used up, and the plaintext,
    /// which only the document held, lost), and `encrypt` to a closed pipe names the system's reason.
    @Test func aClosedPipeLosesNoMessage() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.exchange(["alice", "bob"])
        let msg = w.s.path("m.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", msg], stdin: Data("kept".utf8)).code == 0)
        try w.exchange(["alice", "bob"])
        let (code, text) = try Self.toClosedPipe(w.s, "bob", ["decrypt", msg, "--json"], env: ["ROOMKEY_OUTBOX": w.shared])
        #expect(code == 1 && text.contains("Broken pipe"), "\(code) \(text)")
        let again = try w.rk("bob", ["decrypt", msg, "--json"])
        #expect(again.code == 0 && again.stdout.contains(Data("kept".utf8).base64EncodedString()), "\(again)")
        let (sent, why) = try Self.toClosedPipe(w.s, "alice", ["encrypt", "team", "-o", "-"], env: ["ROOMKEY_OUTBOX": w.shared])
        #expect(sent == 1 && why.contains("Broken pipe") && !why.contains("NSCocoaErrorDomain"), "\(sent) \(why)")
    }

    /// `init` over something that is not a keyring says what is there, instead of "a keyring already exists" with a hint
    /// to remove it.
    @Test func initOverAFolderOrFIFOSaysWhatIsThere() throws {
        let s = try Sandbox()
        let folder = s.path("folder"), fifo = s.path("fifo"), dangling = s.path("dangling")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: s.path("nothing-here"))
        for (path, kind) in [(folder, "a folder"), (fifo, "a FIFO"), (dangling, "a symbolic link to nothing")] {
            let r = try s.roomkey("x", ["--keyring", path, "init", "--name", "x", "--no-passphrase"])
            #expect(r.code == 1 && r.stderr.hasPrefix("roomkey: error: \(path) is \(kind), not a place for a new keyring"), "\(r)")
        }
        try s.person("alice")
        let again = try s.roomkey("alice", ["init", "--name", "alice", "--no-passphrase"])
        #expect(again.code == 1 && again.stderr.contains("a keyring already exists"), "\(again)")
    }
}
