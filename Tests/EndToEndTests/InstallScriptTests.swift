import Foundation
import Testing

/// `scripts/install --binary BIN PREFIX` puts the binary, the man pages and the three shells' completions under a
/// prefix, and the completions complete file names for path arguments (issue 12, findings 9 and deliver 5).
@Suite struct InstallScriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func installsBinaryManPagesAndCompletions() throws {
        let s = try Sandbox()
        let prefix = s.path("prefix")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.root.appendingPathComponent("scripts/install").path, "--binary", CLI.binary.path, prefix]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        let fm = FileManager.default
        #expect(fm.isExecutableFile(atPath: prefix + "/bin/roomkey"))
        let pages = try fm.contentsOfDirectory(atPath: prefix + "/share/man/man1")
        #expect(pages.contains("roomkey.1") && pages.contains("roomkey.receive.1"))
        #expect(pages.count == (try fm.contentsOfDirectory(atPath: Self.root.appendingPathComponent("man").path)).count)
        let bash = try String(contentsOfFile: prefix + "/share/bash-completion/completions/roomkey", encoding: .utf8)
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_roomkey", encoding: .utf8)
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/roomkey.fish", encoding: .utf8)
        #expect(bash.contains("--keyring") && zsh.contains("--keyring") && fish.contains("keyring"))
        // Path options complete files: zsh names the _files action for --keyring and --members-file.
        #expect(zsh.contains("--keyring[The keyring file.]:path:_files"), "zsh completion of --keyring")
        #expect(zsh.contains("--members-file[") && zsh.components(separatedBy: ":file:_files").count > 5)
        #expect(text.contains("installed roomkey"))
    }
}
