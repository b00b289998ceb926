import Foundation
import Testing
@testable import roomkey
import RoomKeyCore

/// Passphrases: errors name where the passphrase came from, `--passphrase-fd N` reads a descriptor as gpg does, and
/// the new-passphrase prompt asks again on a mismatch and says "cancelled" on Ctrl-D (issue 12, finding 7).
@Suite struct PassphraseSourceCLITests {
    /// Runs roomkey through sh with `file` open as descriptor 3.
    static func withDescriptor3(_ s: Sandbox, _ arguments: [String], file: String) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$RK\" \"$@\" 3<\"$PF\"", "sh"] + arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        environment["RK"] = CLI.binary.path
        environment["PF"] = file
        environment["XDG_STATE_HOME"] = s.path("state")
        process.environment = environment
        process.currentDirectoryURL = s.root
        let output = Pipe(), error = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(code: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// A keyring for alice protected by the sandbox's passphrase file, and a file with a wrong passphrase.
    static func protected() throws -> (Sandbox, wrong: String) {
        let s = try Sandbox()
        try s.roomkey("alice", ["init", "--name", "alice", "-q"], passphrase: true).expect(exit: 0, stderr: "")
        let wrong = s.path("wrong")
        try Data("not the passphrase\n".utf8).write(to: URL(fileURLWithPath: wrong))
        return (s, wrong)
    }

    @Test func errorsNameThePassphraseSource() throws {
        let (s, wrong) = try Self.protected()
        try s.roomkey("alice", ["room", "list"], env: ["ROOMKEY_PASSPHRASE_FILE": wrong]).expect(exit: 3, stderr: """
            roomkey: error: the passphrase from $ROOMKEY_PASSPHRASE_FILE (\(wrong)) is wrong
            roomkey: hint: check the first line of \(wrong), or unset ROOMKEY_PASSPHRASE_FILE to be asked

            """)
        try s.roomkey("alice", ["room", "list", "--passphrase-file", wrong]).expect(exit: 3, stderr: """
            roomkey: error: the passphrase from --passphrase-file \(wrong) is wrong
            roomkey: hint: check the first line of \(wrong)

            """)
    }

    @Test func passphraseFromADescriptor() throws {
        let (s, wrong) = try Self.protected()
        let k = s.keyring("alice")
        let good = try Self.withDescriptor3(s, ["id", "--keyring", k, "--passphrase-fd", "3", "--json"], file: s.passphraseFile.path)
        good.expect(exit: 0, stderr: "")
        #expect(try good.json()["handle"] as? String == "alice")
        // Before the subcommand, like every global option.
        try Self.withDescriptor3(s, ["--passphrase-fd", "3", "--keyring", k, "room", "list"], file: s.passphraseFile.path)
            .expect(exit: 0, stderr: "")
        try Self.withDescriptor3(s, ["room", "list", "--keyring", k, "--passphrase-fd", "3"], file: wrong).expect(exit: 3, stderr: """
            roomkey: error: the passphrase from --passphrase-fd 3 is wrong
            roomkey: hint: check what is written to that descriptor: its first line is the passphrase

            """)
        try Self.withDescriptor3(s, ["room", "list", "--keyring", k, "--passphrase-fd", "7"], file: wrong).expect(exit: 4, stderr: """
            roomkey: error: cannot read the passphrase from file descriptor 7: it is not open
            roomkey: hint: open it for the command, e.g. 'roomkey ... --passphrase-fd 3 3<FILE'

            """)
        let both = try Self.withDescriptor3(s, ["room", "list", "--keyring", k, "--passphrase-fd", "3", "--passphrase-file", wrong],
                                            file: wrong)
        #expect(both.code == 64, "\(both)")
        #expect(both.stderr.hasPrefix("roomkey: error: --passphrase-file and --passphrase-fd cannot be used together\n"), "\(both)")
    }

    /// From a hostile review: a descriptor number the caller did not open was read once roomkey had opened files of its
    /// own under it (the keyring: "is wrong" or "cancelled" instead of "not open"); a line over 64 KiB on a descriptor was
    /// cut, so a keyring made with it could never be unlocked from a file; a folder read as an empty passphrase.
    @Test func descriptorAndFileEdges() throws {
        let (s, _) = try Self.protected()
        let k = s.keyring("alice")
        for fd in ["4", "5", "6"] {
            let r = try Self.withDescriptor3(s, ["room", "list", "--keyring", k, "--passphrase-fd", fd], file: s.passphraseFile.path)
            #expect(r.code == 4 && r.stderr.hasPrefix("roomkey: error: cannot read the passphrase from file descriptor \(fd): it is not open\n"),
                    "\(fd): \(r)")
        }
        let long = s.path("long-passphrase")
        try Data((String(repeating: "x", count: 70_000) + "\n").utf8).write(to: URL(fileURLWithPath: long))
        let erin = s.keyring("erin")
        let made = try Self.withDescriptor3(s, ["init", "--name", "erin", "-q", "--keyring", erin, "--passphrase-fd", "3"], file: long)
        #expect(made.code == 65 && made.stderr.contains("larger than 65536 bytes"), "\(made)")
        #expect(!FileManager.default.fileExists(atPath: erin), "no keyring was made")
        let folder = s.path("a-folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let r = try s.roomkey("alice", ["room", "list", "--passphrase-file", folder])
        #expect(r.code == 65 && r.stderr.contains("\(folder) is not a regular file"), "\(r)")
        // The same folder open as the descriptor, and a descriptor open for writing only: what they are, exit 65, not
        // "cancelled", the message of Ctrl-D (a review).
        let asFolder = try Self.withDescriptor3(s, ["room", "list", "--keyring", k, "--passphrase-fd", "3"], file: folder)
        #expect(asFolder.code == 65 && asFolder.stderr.hasPrefix("roomkey: error: cannot read the passphrase from file descriptor 3: it is a folder"),
                "\(asFolder)")
        let writeOnly = try CLI.run(["room", "list", "--keyring", k, "--passphrase-fd", "4"], env: ["XDG_STATE_HOME": s.path("state")],
                                    cwd: s.root, shell: ("", "4>'\(s.path("write-only"))'"))
        #expect(writeOnly.code == 65 && writeOnly.stderr.hasPrefix("roomkey: error: cannot read the passphrase from file descriptor 4: bad file descriptor"),
                "\(writeOnly)")
    }

    @Test func initReadsTheNewPassphraseFromADescriptor() throws {
        let s = try Sandbox()
        let k = s.keyring("erin")
        try Self.withDescriptor3(s, ["init", "--name", "erin", "-q", "--keyring", k, "--passphrase-fd", "3"], file: s.passphraseFile.path)
            .expect(exit: 0, stderr: "")
        try s.bare(["id", "--keyring", k, "--passphrase-file", s.passphraseFile.path, "-q"]).expect(exit: 0, stderr: "")
        #expect(try s.bare(["id", "--keyring", k]).code == 3)
    }

    /// The prompt loop with an injected reader: a mismatch asks again, three mismatches end it, Ctrl-D cancels.
    @Test func newPassphrasePromptAsksAgainOnAMismatch() throws {
        func reader(_ answers: [String?]) -> (String) throws -> SecretBytes? {
            var queue = answers
            return { _ in
                guard !queue.isEmpty, let next = queue.removeFirst() else { return nil }
                var bytes = Array(next.utf8)
                return SecretBytes(consuming: &bytes)
            }
        }
        var told: [String] = []
        let secret = try PassphraseInput.askNew(read: reader(["one", "two", "three", "three"]), tell: { told.append($0) })
        var three = Array("three".utf8)
        let expected = SecretBytes(consuming: &three)
        let same = secret.constantTimeEquals(expected)
        #expect(same)
        #expect(told == ["The passphrases do not match; try again."])

        told = []
        #expect(throws: PassphraseError.mismatch(tries: 3)) {
            _ = try PassphraseInput.askNew(read: reader(["a", "b", "c", "d", "e", "f", "g", "g"]), tell: { told.append($0) })
        }
        #expect(told.count == 2)
        #expect(throws: PassphraseError.cancelled) { _ = try PassphraseInput.askNew(read: reader([nil]), tell: { _ in }) }
        #expect(throws: PassphraseError.cancelled) { _ = try PassphraseInput.askNew(read: reader(["a", nil]), tell: { _ in }) }
        #expect(PassphraseError.cancelled.message == "cancelled: no passphrase was entered")
        #expect(PassphraseError.cancelled.category == .locked)
    }
}
