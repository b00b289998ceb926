import Foundation
import Testing

/// The passphrase prompt and the progress line on a real terminal (issue 12, findings 4 and 7): a mismatch asks
/// again, Ctrl-D cancels, and a long `receive` draws and clears a progress line on standard error.
@Suite(.serialized) struct TerminalPromptCLITests {
    static var setsidAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid") }

    @Test func aMismatchAsksAgainAndTheThirdTryCounts() throws {
        try #require(Self.setsidAvailable, "/usr/bin/setsid (util-linux) is needed")
        let s = try Sandbox()
        let env = ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state")]
        let pty = try PtySession(["init", "--name", "alice"], env: env)
        try pty.expect("New passphrase: ")
        try pty.typeSecret("first try\n")
        try pty.expect("Repeat the passphrase: ")
        try pty.typeSecret("not the same\n")
        try pty.expect("The passphrases do not match; try again.")
        try pty.expect("New passphrase: ")
        try pty.typeSecret("second try\n")
        try pty.expect("Repeat the passphrase: ")
        try pty.typeSecret("second try\n")
        let (code, transcript) = try pty.finish()
        #expect(code == 0, "\(transcript)")
        #expect(!transcript.contains("first try") && !transcript.contains("second try"), "the passphrase was echoed: \(transcript)")
        // The keyring opens with the passphrase of the try that matched, and not with the first.
        try Data("second try\n".utf8).write(to: URL(fileURLWithPath: s.path("right")))
        try Data("first try\n".utf8).write(to: URL(fileURLWithPath: s.path("wrong")))
        #expect(try s.roomkey("alice", ["id", "--passphrase-file", s.path("right")]).code == 0)
        #expect(try s.roomkey("alice", ["id", "--passphrase-file", s.path("wrong")]).code == 3)
    }

    @Test func threeMismatchesEndTheCommandAndLeaveNoKeyring() throws {
        try #require(Self.setsidAvailable, "/usr/bin/setsid (util-linux) is needed")
        let s = try Sandbox()
        let pty = try PtySession(["init", "--name", "alice"], env: ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state")])
        for attempt in 1...3 {
            try pty.expect("New passphrase: ")
            try pty.typeSecret("a\(attempt)\n")
            try pty.expect("Repeat the passphrase: ")
            try pty.typeSecret("b\(attempt)\n")
        }
        let (code, transcript) = try pty.finish()
        #expect(code == 64, "\(transcript)")
        #expect(transcript.contains("roomkey: error: the passphrases did not match (3 tries)"), "\(transcript)")
        #expect(!FileManager.default.fileExists(atPath: s.keyring("alice")))
    }

    @Test func controlDCancels() throws {
        try #require(Self.setsidAvailable, "/usr/bin/setsid (util-linux) is needed")
        let s = try Sandbox()
        try s.person("alice")
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: s.path("pass")))
        #expect(try s.roomkey("alice", ["passwd", "--new-passphrase-file", s.path("pass")]).code == 0)
        let pty = try PtySession(["room", "list"], env: ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state")])
        try pty.expect("Passphrase for ")
        try pty.typeSecret("\u{04}")
        let (code, transcript) = try pty.finish()
        #expect(code == 3, "\(transcript)")
        #expect(transcript.contains("roomkey: error: cancelled: no passphrase was entered"), "\(transcript)")
        #expect(!transcript.contains("wrong"), "Ctrl-D is not a wrong passphrase: \(transcript)")
    }

    @Test func aLongReceiveDrawsAProgressLineOnATerminalOnly() throws {
        try #require(Self.setsidAvailable, "/usr/bin/setsid (util-linux) is needed")
        let s = try Sandbox()
        try s.person("alice")
        let folder = s.path("inbox")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<60 { try Data("note \(i)\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/note-\(i).txt")) }
        let env = ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state")]
        let pty = try PtySession(["receive", folder], env: env)
        let (code, transcript) = try pty.finish()
        #expect(code == 0, "\(transcript)")
        #expect(transcript.contains("roomkey: receiving: 1 of 60"), "\(transcript)")
        #expect(transcript.contains("roomkey: receiving: 60 of 60"), "\(transcript)")
        #expect(transcript.contains("\r\u{1B}[K"), "the progress line is cleared before each result: \(transcript)")
        // Off a terminal the same run prints results and the summary only.
        let piped = try s.roomkey("alice", ["receive", folder])
        #expect(piped.code == 0)
        #expect(!piped.stderr.contains("receiving:"), "\(piped)")
    }
}
