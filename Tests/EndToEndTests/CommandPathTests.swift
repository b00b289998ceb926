import ArgumentParser
import Testing
@testable import roomkey

/// The argv rewrite that lets global options come before the subcommand, and the subcommand suggestions.
@Suite struct CommandPathTests {
    static func reorder(_ line: String) -> String {
        CommandPath.reorder(line.split(separator: " ").map(String.init), root: RoomKeyCommand.self).joined(separator: " ")
    }

    @Test(arguments: [
        ("--keyring K room list", "room list --keyring K"),
        ("--keyring=K -q room list --json", "room list --keyring=K -q --json"),
        ("room --json list", "room list --json"),
        ("--keyring room room show room", "room show --keyring room room"),
        ("--passphrase-fd 3 --accept-rollback id export", "id export --passphrase-fd 3 --accept-rollback"),
        ("receive --keyring K a b", "receive --keyring K a b"),
        ("decrypt -- --json", "decrypt -- --json"),
        ("--json -- receive", "--json -- receive"),
        ("--name x init", "--name x init"),
        ("--keyring", "--keyring"),
        ("encrypt team -o out --keyring K a", "encrypt team -o out --keyring K a"),
    ])
    func globalOptionsMoveAfterTheSubcommand(line: String, expected: String) {
        #expect(Self.reorder(line) == expected)
    }

    @Test func suggestionsAreTheClosestNames() {
        let names = RoomKeyCommand.configuration.subcommands.map { $0._commandName }
        #expect(CommandPath.suggestions(for: "recieve", among: names) == ["receive"])
        #expect(CommandPath.suggestions(for: "encrpyt", among: names) == ["encrypt"])
        #expect(CommandPath.suggestions(for: "xyzzy", among: names).isEmpty)
        let room = RoomKeyCommand.RoomCommand.configuration.subcommands.map { $0._commandName }
        #expect(CommandPath.suggestions(for: "ad", among: room) == ["add"])
        #expect(CommandPath.distance("recieve", "receive") == 1)
        #expect(CommandPath.distance("", "abc") == 3)
    }
}

/// The options the argv rewrite moves are exactly those of `GlobalOptions`, so a new global option cannot be missed.
@Suite struct GlobalOptionListTests {
    @Test func theRewriteKnowsEveryGlobalOption() throws {
        let help = GlobalOptions.helpMessage(columns: 400)
        let words = help.split(whereSeparator: { " \n,[]()'<>".contains($0) }).map(String.init)
        var names = Set(words.filter { $0.wholeMatch(of: /--?[a-z][a-z-]*/) != nil })
        names.subtract(["-h", "--help"])
        #expect(names == Set(CommandPath.globalOptions.keys), "\(help)")
    }
}

/// Every command names itself: the parser builds the whole command tree on each run, and a command without a name
/// makes it derive one from the type name (`String(describing:)`, runtime conformance lookups: milliseconds at start-up).
@Suite struct CommandNameTests {
    static func all(_ command: any ParsableCommand.Type) -> [any ParsableCommand.Type] {
        [command] + command.configuration.subcommands.flatMap { all($0) }
    }

    @Test func everyCommandNamesItself() {
        var names: [String] = []
        for command in Self.all(RoomKeyCommand.self) {
            let name = command.configuration.commandName ?? ""
            #expect(!name.isEmpty && name.allSatisfy { $0 >= "a" && $0 <= "z" }, "\(command) has no plain commandName")
            names.append(name)
        }
        #expect(names.count > 40)
        #expect(names.contains("fingerprint"))
    }
}
