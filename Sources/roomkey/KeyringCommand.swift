import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

/// A subcommand that uses the global options; `run` applies the output contract to whatever `execute` throws.
protocol KeyringCommand: ParsableCommand {
    /// The shared options.
    var global: GlobalOptions { get }
    /// Does the work; errors are reported by `run`.
    func execute(_ output: Output) throws
}

extension KeyringCommand {
    func run() throws {
        let output = global.output
        do {
            try execute(output)
        } catch let code as ExitCode {
            throw code
        } catch {
            throw ExitCode(output.report(error))
        }
    }

    /// Opens and unlocks the keyring named by the global options; its outbox is written to `outbox` (default: the
    /// default outbox folder).
    func openKeyring(outbox: Outbox = Outbox(path: nil)) throws -> Keyring {
        let path = global.keyringPath
        let source = global.passphraseSource
        let keyring: Keyring
        do {
            keyring = try Keyring.open(path: path, passphrase: PassphraseInput.provider(source, path: path),
                                       random: try SystemRandom(), now: CommandClock.now, stateFolder: GlobalOptions.stateFolder,
                                       acceptRollback: global.acceptRollback)
        } catch {
            throw PassphraseError.naming(source, in: error)
        }
        let output = global.output
        for warning in keyring.openWarnings { output.warn(warning) }
        keyring.onWarning = { output.warn($0) }
        keyring.sink = outbox.sink
        return keyring
    }
}

/// The clock commands use. `ROOMKEY_TEST_NOW` (seconds since the epoch) replaces it in tests.
enum CommandClock {
    static func now() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["ROOMKEY_TEST_NOW"], let fixed = UInt64(text) { return fixed }
        return Keyring.systemClock()
    }

    /// ISO 8601 UTC form of a Unix time.
    static func iso8601(_ seconds: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
