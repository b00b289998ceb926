import Foundation
import Testing

/// Blank and comment lines cost nothing each: `contact add` and `apply` of a file of millions of them ran out of a
/// 600 MB address-space limit (a hostile-input review: 64 MiB of line feeds took 2.2 GB, as every line was first put in
/// an array of lines). Run under `ulimit -v`, so the test fails where the memory would be used.
@Suite struct BlankLinesMemoryCLITests {
    /// Runs roomkey as `who` under an address-space limit of `kilobytes`.
    static func limited(_ s: Sandbox, _ who: String, _ arguments: [String], kilobytes: Int) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(kilobytes) && exec \"$0\" \"$@\"", CLI.binary.path] + arguments
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

    @Test func aFileOfSkippedLinesIsReadInLittleMemory() throws {
        let line = "\n"
        let s = try Sandbox()
        try s.person("alice")
        // 32 MiB of line feeds (under both inputs' 64 MiB limit): the array of lines alone was 32 bytes a line, 1 GiB.
        let file = s.path("blank.txt")
        let chunk = Data(String(repeating: line, count: (1 << 20) / line.utf8.count).utf8)
        FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        for _ in 0..<32 { handle.write(chunk) }
        try handle.close()
        let before = s.rawBytes(of: "alice")
        let add = try Self.limited(s, "alice", ["contact", "add", file], kilobytes: 600_000)
        #expect(add.code == 65 && add.stderr.split(separator: "\n").count == 1, "\(add.code): \(add.stderr.prefix(300))")
        #expect(s.rawBytes(of: "alice") == before)
        // A script of nothing but skipped lines is an empty script.
        let apply = try Self.limited(s, "alice", ["apply", file], kilobytes: 600_000)
        #expect(apply.code == 0, "\(apply.code): \(apply.stderr.prefix(300))")
    }
}
