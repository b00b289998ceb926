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
            2 rejected (a signature, MAC, authority, roster or replay check failed), 3 keyring locked, \
            4 not found, 5 pending, 6 refused by a rule, 64 usage error, 65 malformed input.
            """,
        version: RoomKeyVersion.string,
        subcommands: [Init.self, IdCommand.self, ContactCommand.self, Verify.self, RoomCommand.self, Receive.self, Encrypt.self,
                      Decrypt.self, Prune.self, Apply.self, Offboard.self, OutboxCommand.self, RemoteCommand.self, Sync.self, Audit.self, Backup.self, Restore.self,
                      Passwd.self]
    )

    /// Parses the command line and runs it, reporting parse errors in roomkey's error format.
    static func main() {
        umask(0o077)
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(ArgumentStash.collapse(Array(CommandLine.arguments.dropFirst())))
        } catch {
            exit(reportingParseError: error)
        }
        do {
            var runnable = command
            try runnable.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            exit(reportingParseError: error)
        }
        Foundation.exit(0)
    }

    private static func exit(reportingParseError error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))
            Foundation.exit(0)
        }
        let json = CommandLine.arguments.contains("--json")
        Output(json: json, quiet: false).fail(kind: "usage", message: message(for: error),
                                              hint: "see 'roomkey help' for usage")
        Foundation.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
    }
}

/// The version string shown by `--version`.
enum RoomKeyVersion {
    static let string = "0.1.0"
}
