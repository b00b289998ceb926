import Foundation
import Testing

/// Standard output or error on a full disk: the command exits with its own code, never a crash (found when a disk
/// filled up: a command whose error could not be printed died of SIGILL, as Foundation's `FileHandle.write` traps),
/// and a result that could not be written is a failure (exit 1), not a silent success.
@Suite struct FullOutputCLITests {
    /// Runs roomkey with standard output and error each on /dev/full or a pipe; the exit, and stderr when it is a pipe.
    func run(_ s: Sandbox, _ args: [String], stdoutFull: Bool, stderrFull: Bool) throws -> (reason: Process.TerminationReason, code: Int32, err: String) {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.environment = ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state"), "PATH": "/usr/bin:/bin"]
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        let err = Pipe()
        p.standardOutput = stdoutFull ? full : FileHandle.nullDevice
        p.standardError = stderrFull ? full : err
        try p.run()
        let text = stderrFull ? "" : String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationReason, p.terminationStatus, text)
    }

    @Test func anErrorThatCannotBePrintedStillExitsWithItsCode() throws {
        try #require(FileManager.default.fileExists(atPath: "/dev/full"), "/dev/full is needed")
        let s = try Sandbox()
        try s.person("alice")
        let r = try run(s, ["room", "show", "nosuch"], stdoutFull: true, stderrFull: true)
        #expect(r.reason == .exit && r.code == 4, "\(r)")
    }

    @Test func aResultThatCannotBeWrittenIsAFailure() throws {
        try #require(FileManager.default.fileExists(atPath: "/dev/full"), "/dev/full is needed")
        let s = try Sandbox()
        try s.person("alice")
        let r = try run(s, ["id"], stdoutFull: true, stderrFull: false)
        #expect(r.reason == .exit && r.code == 1, "\(r)")
        #expect(r.err.hasPrefix("roomkey: error: cannot write standard output: "), "\(r.err)")
    }
}
