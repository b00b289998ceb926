import Foundation
import Testing

/// #11 finding 1, byte for byte: what `receive` writes for hostile file names, including one that spells an escape
/// out (`\u{1b}`) next to one that holds the character, and hostile room names refused with the keyring untouched.
@Suite struct TerminalTranscriptCLITests {
    /// (file name, how text output shows it).
    static let hostile: [(String, String)] = [
        ("\u{1b}]0;pwned\u{07}", #"\u{1b}]0;pwned\u{7}"#),
        ("\u{1b}[2J", #"\u{1b}[2J"#),
        (#"\u{1b}[2J"#, #"\\u{1b}[2J"#),
        ("\u{1b}[31mred\u{1b}[0m", #"\u{1b}[31mred\u{1b}[0m"#),
        ("x\r\u{1b}[2K applied forged", #"x\u{d}\u{1b}[2K applied forged"#),
        ("two\nlines", #"two\u{a}lines"#),
        ("evil\u{202e}gpj.exe", #"evil\u{202e}gpj.exe"#),
        (#"back\slash"#, #"back\\slash"#),
    ]

    /// True when `a` and `b` are the same bytes (String's == would accept canonically equivalent text).
    static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    @Test func receivedFileNamesAreWrittenEscapedByteForByte() throws {
        let s = try Sandbox()
        try s.person("alice")
        let inbox = s.path("inbox")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        for (name, _) in Self.hostile { try Data("not a bundle".utf8).write(to: URL(fileURLWithPath: inbox + "/" + name)) }
        // In a folder, files that are not roomkey files are reported as ignored (exit 0), each name escaped.
        let r = try s.roomkey("alice", ["receive", inbox])
        #expect(r.code == 0, "\(r)")
        // Folder entries are taken in name order.
        let sorted = Self.hostile.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        let shown = sorted.map(\.1)
        #expect(Self.same(r.stdout, shown.map { "ignored  \(inbox)/\($0): not a roomkey file\n" }.joined()
                          + "summary: \(shown.count) ignored\n"), "\(r)")
        #expect(Self.same(r.stderr, ""), "\(r)")
        // Named on the command line, each file is read as a bundle: malformed, and the error quotes the name escaped.
        let named = try s.roomkey("alice", ["receive"] + sorted.map { inbox + "/" + $0.0 })
        #expect(named.code == 65, "\(named)")
        let reason = "bundle is invalid: not a roomkey bundle"
        #expect(Self.same(named.stderr, shown.map { "roomkey: error: \(inbox)/\($0): \(reason)\n" }.joined()), "\(named)")
        // The file that holds ESC and the one that spells it are told apart.
        #expect(r.stdout.contains(#"/\u{1b}[2J: "#) && r.stdout.contains(#"/\\u{1b}[2J: "#), "\(r)")
    }

    @Test func hostileRoomNamesAreRefusedWithTheKeyringUntouched() throws {
        let s = try Sandbox()
        try s.person("alice")
        let before = s.rawBytes(of: "alice")
        for (name, _) in Self.hostile where name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            // A name typed on the command line that the rules refuse is a usage error (64), as for `init --name`.
            let r = try s.roomkey("alice", ["room", "create", name, "-o", s.path("r.roomkey")])
            #expect(r.code == 64, "\(r)")
            let first = try #require(name.unicodeScalars.first { $0.properties.generalCategory == .control })
            let code = String(first.value, radix: 16, uppercase: true)
            let expected = "contains a control character U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
            #expect(Self.same(r.stderr, "roomkey: error: room name is invalid: \(expected)\nroomkey: hint: see 'roomkey room create --help'\n"), "\(r)")
        }
        let rtl = try s.roomkey("alice", ["room", "create", "team\u{202e}", "-o", s.path("r.roomkey")])
        #expect(rtl.code == 64, "\(rtl)")
        #expect(Self.same(rtl.stderr, "roomkey: error: room name is invalid: contains a bidi control U+202E\nroomkey: hint: see 'roomkey room create --help'\n"), "\(rtl)")
        #expect(s.rawBytes(of: "alice") == before, "a refused room name changed the keyring")
        #expect(!FileManager.default.fileExists(atPath: s.path("r.roomkey")))
    }
}
