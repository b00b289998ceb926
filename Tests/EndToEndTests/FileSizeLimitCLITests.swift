import Foundation
import Testing

/// A file-size limit (`ulimit -f`) reached while roomkey writes is an error naming the file, not a silent death by
/// SIGXFSZ (a hostile review: `room remove` under the limit died with exit 153 and no message, its change committed).
@Suite struct FileSizeLimitCLITests {
    @Test func aWritePastTheFileSizeLimitIsReportedNotKilled() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"), "/usr/bin/prlimit (util-linux) is needed")
        let s = try Sandbox()
        try s.person("alice")
        let out = s.path("backup.sqlite")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        p.arguments = ["--fsize=16384", CLI.binary.path, "backup", "-o", out]
        p.environment = ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state"), "PATH": "/usr/bin:/bin"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit, "killed by signal \(p.terminationStatus)")
        #expect(p.terminationStatus == 1, "\(text)")
        #expect(text.hasPrefix("roomkey: error:") && text.split(separator: "\n").count <= 2, "\(text)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// The backup's error names its file and the system's reason, as every other output's does; it read "keyring
    /// database error: not an error" (SQLite's code for the failed copy), in text and in JSON (a CLI review).
    @Test(arguments: [false, true])
    func aBackupPastTheFileSizeLimitNamesItsFileAndTheReason(json: Bool) throws {
        let s = try Sandbox()
        try s.person("alice")
        let out = s.path("backup.sqlite")
        let r = try s.roomkey("alice", (json ? ["--json"] : []) + ["backup", "-o", out], shell: ("ulimit -f 64;", ""))
        #expect(r.code == 1, "\(r)")
        let message = "cannot write \(out): file too large"
        if json {
            #expect(r.stdout == "{\"error\":{\"kind\":\"failure\",\"message\":\"\(message)\"}}\n", "\(r)")
        } else {
            #expect(r.stderr == "roomkey: error: \(message)\n", "\(r)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// To standard output, the backup is copied beside the keyring first: the error names that copy as what it is, not
    /// the temporary file's name, gone by then (a hostile review).
    @Test func aBackupToStandardOutputPastTheLimitSaysWhatItCouldNotWrite() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try s.roomkey("alice", ["backup", "-o", "-"], shell: ("ulimit -f 64;", ">" + s.path("stdout")))
        #expect(r.code == 1, "\(r)")
        #expect(r.stderr == "roomkey: error: cannot write a copy of the keyring beside \(s.keyring("alice")): file too large\n", "\(r)")
    }
}
