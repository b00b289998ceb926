import Foundation
import Testing

/// The README's walk-through block runs as a script, against the built binary, and ends as it says.
@Suite struct ReadmeWalkthroughTests {
    @Test func walkthroughRuns() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        func block(_ name: String) throws -> String {
            let begin = try #require(lines.firstIndex(of: "<!-- \(name):begin -->"))
            let end = try #require(lines.firstIndex(of: "<!-- \(name):end -->"))
            return lines[(begin + 2)..<(end - 1)].joined(separator: "\n")
        }
        let script = try block("walkthrough") + "\n" + block("admin") + "\n"
        let s = try Sandbox()
        try Data(script.utf8).write(to: URL(fileURLWithPath: s.path("walkthrough.sh")))
        let bin = CLI.binary.deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "walkthrough.sh"]
        process.currentDirectoryURL = s.root
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "walk-through failed:\n\(text)")
        let fingerprints = text.components(separatedBy: "\n").filter { $0.hasPrefix("room team at epoch 2:") }
        #expect(fingerprints.count == 3)
        #expect(text.contains("epoch:       1\n"), "carol should stay at epoch 1")
        #expect(text.contains("room team (") && text.contains(") is already up to date at epoch 1"), "the second 'room members' is a no-op")
        #expect(text.contains("hello team, bob here"))
        #expect(text.contains("carol cannot read it (exit 4)"))
        #expect(text.contains("would commit ops epoch 0: create, add bob ("), "the plan names whom it adds")
        #expect(text.contains("removed  eng"))
        #expect(text.contains("audit log intact"))
        #expect(FileManager.default.fileExists(atPath: s.path("alice.backup")))
    }
}
