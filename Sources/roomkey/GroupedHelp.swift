import ArgumentParser
import Foundation

/// Grouped short flags that hold `h`, such as `-uhoh`. swift-argument-parser answers any group holding `h` with the
/// command's help and exit 0, even when another letter of the group is no flag of the command, so a mistyped option or
/// a value starting with `-` (`roomkey remote add r1 -uhoh`) passed as success with nothing done. roomkey shows help
/// only when every letter of such a group is a short flag of the command; otherwise the first unknown letter is a usage
/// error, as it is in a group without `h`.
enum GroupedHelp {
    /// The first argument (before `--`) that groups `h` with a letter `command` has no short flag for, and that
    /// letter; nil when there is none.
    static func unknownLetter(in arguments: [String], command: any ParsableCommand.Type) -> (group: String, letter: Character)? {
        let groups = arguments.prefix { $0 != "--" }.filter { isGroup($0) && $0.dropFirst().contains("h") }
        guard !groups.isEmpty else { return nil }
        // The global short flags (`-q`) count wherever they stand: roomkey moves them after the subcommand.
        let global = CommandPath.globalOptions.keys.filter { $0.utf8.count == 2 && !$0.hasPrefix("--") }.compactMap(\.last)
        let known = shortNames(of: command).union(global)
        for group in groups {
            if let letter = group.dropFirst().first(where: { !known.contains($0) }) { return (group, letter) }
        }
        return nil
    }

    /// True for `-` followed by two or more letters or digits (a group of short flags), not `--...` or `-`.
    static func isGroup(_ argument: String) -> Bool {
        let rest = argument.utf8.dropFirst()
        return argument.utf8.first == UInt8(ascii: "-") && rest.count >= 2
            && rest.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// The short flag and option names of `command` (its own and its option groups'), from the argument parser's
    /// description of the command. Empty when that description cannot be read, so every group is then an error.
    static func shortNames(of command: any ParsableCommand.Type) -> Set<Character> {
        guard let data = command._dumpHelp().data(using: .utf8),
              let tool = try? JSONDecoder().decode(Tool.self, from: data) else { return [] }
        return Set(tool.command.arguments?.flatMap { $0.names ?? [] }.filter { $0.kind == "short" }.compactMap { $0.name.first } ?? [])
    }

    /// The part of the argument parser's tool description read here.
    private struct Tool: Decodable {
        struct Name: Decodable { let kind: String, name: String }
        struct Argument: Decodable { let names: [Name]? }
        struct Command: Decodable { let arguments: [Argument]? }
        let command: Command
    }
}
