import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// #11 finding 1: untrusted text (file names, input quoted in errors) never reaches the terminal raw.
@Suite struct TerminalOutputCLITests {
    /// File names that act on a terminal: OSC title, clear screen, colours, CR + erase line drawing a forged
    /// `applied` line, a newline splitting a line, a C1 CSI, a right-to-left override.
    static let hostile = ["\u{1B}]0;owned\u{07}", "\u{1B}[2J\u{1B}[H", "\u{1B}[31mred", "x\r\u{1B}[2Kapplied  forged",
                          "a\nb", "a\u{9B}2J", "invoice\u{202E}fdp"]

    /// The scalars no byte of roomkey's text output may hold.
    static func raw(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E }
    }

    @Test func hostileFileNamesAreEscapedInTextAndExactInJSON() throws {
        let s = try Sandbox()
        try s.person("alice")
        let folder = s.path("in")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in Self.hostile { try Data("not a bundle".utf8).write(to: URL(fileURLWithPath: folder + "/" + name)) }

        // Named on the command line, every file is read as a bundle (in a folder they would be ignored).
        let files = Self.hostile.map { folder + "/" + $0 }
        let r = try s.roomkey("alice", ["receive"] + files)
        #expect(r.code == 65, "\(r)")
        #expect(Self.raw(r.stdout).isEmpty && Self.raw(r.stderr).isEmpty, "raw controls reached the terminal: \(r)")
        let out = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().filter { !$0.hasPrefix("summary: ") }
        #expect(out.count == Self.hostile.count && out.allSatisfy { $0.hasPrefix("malformed  ") }, "one line per file: \(r)")
        let err = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(err.count == Self.hostile.count && err.allSatisfy { $0.hasPrefix("roomkey: error: ") }, "one line per file: \(r)")
        for escaped in ["\\u{1b}]0;owned\\u{7}", "\\u{1b}[2J\\u{1b}[H", "x\\u{d}\\u{1b}[2Kapplied  forged", "a\\u{a}b", "a\\u{9b}2J",
                        "invoice\\u{202e}fdp"] {
            #expect(r.stdout.contains(folder + "/" + escaped), "\(escaped) in \(r)")
        }

        let json = try s.roomkey("alice", ["receive"] + files + ["--json"])
        #expect(json.code == 65)
        let paths = try #require(try json.json()["results"] as? [[String: Any]]).compactMap { $0["path"] as? String }
        #expect(Set(paths) == Set(Self.hostile.map { folder + "/" + $0 }), "JSON keeps names exact")
    }

    /// util-linux `script`, which runs a command with a pseudo-terminal as its standard output.
    static let script = "/usr/bin/script"

    /// Runs roomkey as `who` in `w` on a terminal; returns the exit code and what the terminal received.
    static func onTerminal(_ w: RoomWorld, _ who: String, _ arguments: [String]) throws -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        let command = ([CLI.binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        process.arguments = ["-qec", command.joined(separator: " "), "/dev/null"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        environment.merge(["ROOMKEY_KEYRING": w.s.keyring(who), "XDG_STATE_HOME": w.s.path("state"), "ROOMKEY_OUTBOX": w.shared]) { $1 }
        process.environment = environment
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `decrypt` to a terminal refuses what would overdraw or reorder a line, not only ESC and C1.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: script), "needs script(1) for a terminal"))
    func decryptToATerminalRefusesCarriageReturnsAndBidiControls() throws {
        let w = try RoomWorld.team(["bob"])
        for (text, shown) in [("hello\nworld\n", true), ("ok\rforged\n", false), ("abc\u{202E}fed\n", false), ("x\u{1B}[2J", false)] {
            let r = try Self.onTerminal(w, "bob", ["decrypt", try w.send("alice", Array(text.utf8))])
            #expect(r.code == (shown ? 0 : 64), "\(text.debugDescription): \(r.output.debugDescription)")
            #expect(r.output.contains("refusing to write") != shown, "\(r.output.debugDescription)")
            if shown { #expect(r.output.contains("hello\r\nworld"), "\(r.output.debugDescription)") }
        }
    }

    @Test func inputQuotedInAnErrorIsEscapedOnOneLine() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try s.roomkey("alice", ["contact", "show", "\u{1B}[2Jeve\nroomkey: applied\u{202E}"])
        #expect(r.code == 4, "\(r)")
        #expect(Self.raw(r.stderr).isEmpty, "\(r)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        // The line feed is escaped like every other control character (docs/CLI.md), not turned into a space.
        #expect(lines.first == "roomkey: error: no contact named \"\\u{1b}[2Jeve\\u{a}roomkey: applied\\u{202e}\"", "\(r)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("roomkey: hint: ") }, "\(r)")
    }
}
