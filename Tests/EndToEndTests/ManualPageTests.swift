import Foundation
import Testing
@testable import roomkey

/// The man pages' added sections: every example parses with the real command definitions, and every page has
/// ENVIRONMENT, FILES, EXIT STATUS (every exit code) and, where examples exist, EXAMPLES (issue 12, deliver 5).
@Suite struct ManualPageTests {
    static let man = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("man")

    @Test func everyExampleParses() throws {
        for (path, examples) in ManualExamples.byCommand {
            let words = path.split(separator: " ").map(String.init)
            let walk = CommandPath.walk(words, root: RoomKeyCommand.self)
            #expect(walk.names == words, "'\(path)' is not a command")
            for example in examples {
                let arguments = CommandPath.reorder(example.arguments.split(separator: " ").map(String.init), root: RoomKeyCommand.self)
                #expect(throws: Never.self, "roomkey \(example.arguments)") { _ = try RoomKeyCommand.parseAsRoot(arguments) }
                #expect(Array(arguments.prefix(words.count)) == words || path.isEmpty,
                        "the example of '\(path)' runs another command: \(example.arguments)")
            }
        }
    }

    @Test func everyPageHasTheAddedSections() throws {
        let pages = try FileManager.default.contentsOfDirectory(atPath: Self.man.path).filter { $0.hasSuffix(".1") }
        #expect(pages.count > 30)
        for page in pages {
            let text = try String(contentsOf: Self.man.appendingPathComponent(page), encoding: .utf8)
            for section in [".Sh ENVIRONMENT", ".Sh FILES", ".Sh \"EXIT STATUS\"", ".It Ev ROOMKEY_KEYRING", ".It Pa ~/.local/share/roomkey/keyring.sqlite"] {
                #expect(text.contains(section + "\n"), "\(page) lacks \(section)")
            }
            for (code, _) in ExitStatus.meanings { #expect(text.contains(".It \(code)\n"), "\(page) lacks exit code \(code)") }
            #expect(!text.contains(".Ex -std"), "\(page) still has the generator's bare EXIT STATUS")
            let path = page.dropLast(2).split(separator: ".").dropFirst().joined(separator: " ")
            if let examples = ManualExamples.byCommand[path] {
                #expect(text.contains(".Sh EXAMPLES\n"), "\(page) lacks EXAMPLES")
                for example in examples { #expect(text.contains("roomkey \(example.arguments)\n"), "\(page) lacks \(example.arguments)") }
            }
        }
    }

    /// Every path argument and option completes file or folder names in the shells' completion scripts.
    @Test func pathArgumentsCompleteFiles() throws {
        let dump = try CLI.run(["--experimental-dump-help"])
        #expect(dump.code == 0)
        let root = try JSONValue.parse(dump.stdout)
        var checked = 0
        func visit(_ command: JSONValue, _ path: String) {
            guard case let .object(c) = command else { return }
            if case let .array(arguments)? = c["arguments"] {
                for case let .object(a) in arguments {
                    guard case let .string(value)? = a["valueName"],
                          ["path", "file", "dir", "script", "bundle", "out"].contains(value) else { continue }
                    checked += 1
                    var kind = "none"
                    if case let .object(k)? = a["completionKind"] { kind = k.keys.sorted().joined(separator: ",") }
                    #expect(kind.contains("file") || kind.contains("directory"), "\(path) <\(value)> completes \(kind)")
                }
            }
            if case let .array(subs)? = c["subcommands"] {
                for sub in subs {
                    if case let .object(s) = sub, case let .string(name)? = s["commandName"] { visit(sub, path + " " + name) }
                }
            }
        }
        if case let .object(r) = root, let command = r["command"] { visit(command, "roomkey") }
        #expect(checked > 20)
    }
}
