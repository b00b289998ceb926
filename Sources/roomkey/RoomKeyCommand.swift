import ArgumentParser
import Foundation
import RoomKeyCore

/// The root command: configuration only; every action lives in a subcommand.
@main
struct RoomKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roomkey",
        abstract: "End-to-end-encrypted group rooms: keyring, contacts, signed membership, sender keys.",
        discussion: """
            Errors go to standard error as 'roomkey: error: ...'. Exit codes: 0 success, 1 other failure, \
            2 rejected (a signature, MAC, authority or roster check failed), 3 keyring locked, \
            4 not found, 5 pending, 6 refused by a rule, 64 usage error, 65 malformed input.
            """,
        version: RoomKeyVersion.string,
        subcommands: [Init.self, IdCommand.self, ContactCommand.self, Verify.self, RoomCommand.self, Receive.self, Encrypt.self,
                      Decrypt.self, Prune.self, Apply.self, Offboard.self, OutboxCommand.self, RemoteCommand.self, Sync.self, Audit.self, Backup.self, Restore.self,
                      Passwd.self]
    )

    /// A folder of pages made by swift-argument-parser's manual generator, to complete (`scripts/man`); never shown.
    @Option(help: .private) var manualSections: String?

    /// `roomkey` alone prints its help; `--manual-sections DIR` adds the generated man page sections.
    func run() throws {
        guard let manualSections else { throw CleanExit.helpRequest(self) }
        try ManualSections.rewrite(folder: manualSections)
    }

    /// Parses the command line and runs it, reporting parse errors in roomkey's error format.
    static func main() {
        // Before any file is opened: a closed standard stream's number must not go to the keyring's lock or an output.
        guard StandardStreams.fillClosed() else { Foundation.exit(ExitStatus.failure) }
        umask(0o077)
        // A file-size limit (ulimit -f) reached while writing the keyring, a bundle or a backup must be an error
        // naming the file (EFBIG, exit 1), not a silent death by SIGXFSZ between a commit and its delivery.
        signal(SIGXFSZ, SIG_IGN)
        // A reader that goes away early (`| head`, a FIFO's reader closing) makes a write fail with EPIPE, reported
        // as any failed write ("cannot write ...", exit 1), not a silent death by SIGPIPE (exit 141, a hostile review).
        signal(SIGPIPE, SIG_IGN)
        ProcessMemory.disableCoreDumps()
        ProcessMemory.tuneAllocator()
        // A path that is not UTF-8 would be read as another name (U+FFFD in place of its bad bytes).
        // With --json the error document is printed too, as for every other usage error (a hostile-input review).
        if let bad = FolderListing.argumentsNotUTF8().first {
            Output(json: CommandLine.arguments.contains("--json"), quiet: false)
                .fail(kind: ErrorCategory.usage.rawValue, message: "argument \(bad) is not valid UTF-8; roomkey takes file names and text in UTF-8", hint: nil)
            Foundation.exit(ExitStatus.usage)
        }
        // With --json, the version is a JSON document too, as every output is (it printed the bare string; a CLI review).
        let given = Array(CommandLine.arguments.dropFirst())
        let options = given.prefix(while: { $0 != "--" })
        if options.contains("--version"), options.contains("--json") {
            print("{\"version\":\"\(RoomKeyVersion.string)\"}")
            exitFlushingOutput()
        }
        if let option = emptyPathOption(given) {
            let walk = CommandPath.walk(given, root: Self.self)
            Output(json: CommandLine.arguments.contains("--json"), quiet: false)
                .fail(kind: ErrorCategory.usage.rawValue, message: "\(option) needs a path", hint: "see '\(CommandPath.display(walk)) --help'")
            Foundation.exit(ExitStatus.usage)
        }
        let command: any ParsableCommand
        let arguments = CommandPath.reorder(given, root: Self.self)
        // Help is text, as `roomkey room --help --json` prints it: `roomkey --json help room` was a usage error
        // ("unknown option '--json'", a CLI review), so `help` reads its names without the output flags (an error
        // is still reported as the flags ask).
        let parsed = helpArguments(arguments) ?? arguments
        do {
            command = try parseAsRoot(ArgumentStash.collapse(parsed))
        } catch {
            exit(reportingParseError: error, arguments: arguments)
        }
        do {
            var runnable = command
            try runnable.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            exit(reportingParseError: error, arguments: arguments)
        }
        exitFlushingOutput()
    }

    /// Exits 0 once everything printed is written; a result (or help) that could not be written (standard output on a
    /// full disk, a closed pipe) is a failure with the system's reason, not a silent success.
    private static func exitFlushingOutput() -> Never {
        if fflush(nil) != 0 {
            Output.stderr("roomkey: error: cannot write standard output: \(String(cString: strerror(errno)))")
            Foundation.exit(ExitStatus.failure)
        }
        Foundation.exit(0)
    }

    /// Reports a parse error in roomkey's format: a mistyped subcommand gets the closest names, and the hint names the
    /// help of the subcommand the arguments reached.
    private static func exit(reportingParseError error: any Error, arguments: [String]) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            // `roomkey help recieve` printed the top-level help and exited 0 (a CLI review): a name that is no command
            // is the usage error it is without `help`.
            if let help = helpArguments(arguments), let (walk, name) = CommandPath.unknownSubcommand(Array(help.dropFirst()), root: Self.self) {
                exit(unknownSubcommand: name, walk: walk, json: arguments.contains("--json"))
            }
            let walk = CommandPath.walk(arguments, root: Self.self)
            if let (group, letter) = GroupedHelp.unknownLetter(in: Array(arguments[walk.rest...]), command: walk.command) {
                Output(json: arguments.contains("--json"), quiet: false).fail(
                    kind: "usage", message: "unknown option '-\(letter)' in '\(group)'", hint: "see '\(CommandPath.display(walk)) --help'")
                Foundation.exit(ExitStatus.usage)
            }
            print(fullMessage(for: error))
            exitFlushingOutput()
        }
        let output = Output(json: arguments.contains("--json"), quiet: false)
        if let (walk, name) = CommandPath.unknownSubcommand(arguments, root: Self.self) {
            exit(unknownSubcommand: name, walk: walk, json: arguments.contains("--json"))
        }
        let walk = CommandPath.walk(arguments, root: Self.self)
        output.fail(kind: "usage", message: parserLines(message(for: error)), hint: "see '\(CommandPath.display(walk)) --help'")
        Foundation.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
    }

    /// For `help` (after nothing but output flags), the arguments without those flags: help is text either way.
    static func helpArguments(_ arguments: [String]) -> [String]? {
        let outputFlags: Set<String> = ["--json", "-q", "--quiet"]
        guard let at = arguments.firstIndex(of: "help"), arguments[..<at].allSatisfy(outputFlags.contains) else { return nil }
        return arguments.filter { !outputFlags.contains($0) }
    }

    /// The options that name a file or folder.
    static let pathOptions: Set<String> = ["-o", "--output", "--keyring", "--passphrase-file", "--qr-png", "--members-file", "--outbox"]

    /// The first path option (before `--`) given an empty value: a usage error, as `--keyring ""` was and
    /// `-o ""` (exit 1, "cannot write : ...") and `--passphrase-file ""` (exit 4, or ignored) were not (a CLI review).
    static func emptyPathOption(_ arguments: [String]) -> String? {
        for (i, argument) in arguments.enumerated() {
            if argument == "--" { return nil }
            if pathOptions.contains(argument), i + 1 < arguments.count, arguments[i + 1].isEmpty { return argument }
            if argument.hasPrefix("--"), argument.hasSuffix("="), pathOptions.contains(String(argument.dropLast())) {
                return String(argument.dropLast())
            }
        }
        return nil
    }

    /// Reports `name`, which names none of the subcommands of `walk`'s command, with the closest names (exit 64).
    private static func exit(unknownSubcommand name: String, walk: CommandPath.Walk, json: Bool) -> Never {
        let names = walk.command.configuration.subcommands.map { $0._commandName }
        let close = CommandPath.suggestions(for: name, among: names)
        let hint = close.isEmpty ? "see '\(CommandPath.display(walk)) --help' for its commands"
            : "did you mean " + close.map { "'\($0)'" }.joined(separator: " or ") + "?"
        Output(json: json, quiet: false).fail(kind: "usage", message: "'\(name)' is not a '\(CommandPath.display(walk))' command", hint: hint)
        Foundation.exit(ExitStatus.usage)
    }
}

extension RoomKeyCommand {
    /// The argument parser's message on one line: its own two line breaks ("\n   or: " between two readings of an
    /// argument, "\n  - " before each value of a list) become spaces. Any other line feed is from an argument quoted in
    /// it and stays, shown as `\u{a}`.
    static func parserLines(_ message: String) -> String {
        message.replacingOccurrences(of: "\n   or: ", with: " or: ").replacingOccurrences(of: "\n  - ", with: " - ")
    }
}

/// The version string shown by `--version`.
enum RoomKeyVersion {
    static let string = "0.1.0"
}
