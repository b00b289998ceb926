import Foundation
import Testing
@testable import RoomKeyCore

/// Suggested commands read back, through a POSIX shell, as exactly the names they were made from.
struct ShellWordTests {
    @Test(arguments: [
        ("team", "team"),
        ("bob@example.org", "bob@example.org"),
        ("ops $(touch /tmp/x)", "'ops $(touch /tmp/x)'"),
        ("Team Alpha", "'Team Alpha'"),
        ("it's", "'it'\"'\"'s'"),
        ("`id`", "'`id`'"),
        ("-rf", "'-rf'"),
        ("=ls", "'=ls'"),
        ("a=b", "a=b"),
        ("", "''"),
        ("café", "'café'"),
    ])
    func quotesWhatAShellWouldRead(_ name: String, _ quoted: String) {
        #expect(ShellWord.quote(name) == quoted)
    }

    /// A suggested command as a terminal shows it (escaped: backslashes doubled, hidden characters spelled out), pasted
    /// into a shell, runs nothing a name holds: it reads back as the name, or, for a name with a backslash or a hidden
    /// character, as one other word.
    @Test(arguments: ["x'; touch PWNED; echo '", "a\\'; touch PWNED; '", "it's \"quoted\" $(touch PWNED)", "tab\there'`touch PWNED`'"])
    func aShownCommandPastedIntoAShellRunsNothingOfTheName(_ name: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shellword-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let shown = SafeText.escaped(ShellWord.command(["verify"], [name]))
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = ["-c", "roomkey() { printf '%s|' \"$@\"; }; " + shown]
        sh.currentDirectoryURL = folder
        let out = Pipe()
        sh.standardOutput = out
        try sh.run()
        let words = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sh.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("PWNED").path), "\(shown)")
        #expect(words.split(separator: "|", omittingEmptySubsequences: false).count == 3, "\(shown) read as \(words)")
        if !name.contains("\\"), !name.unicodeScalars.contains(where: SafeText.isHidden) { #expect(words == "verify|\(name)|") }
    }

    @Test func optionsGoBeforeADashedName() {
        #expect(ShellWord.command(["verify"], ["bob"], options: ["--confirm", "DIGITS"]) == "roomkey verify bob --confirm DIGITS")
        #expect(ShellWord.command(["verify"], ["-bob"], options: ["--confirm", "DIGITS"]) == "roomkey verify --confirm DIGITS -- '-bob'")
        #expect(ShellWord.command(["room", "replace"], ["a b", "carol"]) == "roomkey room replace 'a b' carol")
    }
}
