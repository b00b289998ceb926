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
        // `getenv` reads the one variable; `ProcessInfo.environment` copies the whole environment into a dictionary
        // each time, and a receive asks the clock several times per bundle.
        if let text = getenv("ROOMKEY_TEST_NOW"), let fixed = UInt64(String(cString: text)) { return fixed }
        return Keyring.systemClock()
    }

    /// ISO 8601 UTC form of a Unix time (`2026-12-02T14:17:40Z`). Times before the year 10000 are computed here
    /// (a date formatter costs milliseconds of ICU set-up, each time); later ones, which no clock reaches but a card
    /// or commit may claim, go through the formatter.
    static func iso8601(_ seconds: UInt64) -> String {
        guard seconds < 253_402_300_800 else { return formatted(seconds) }
        let t = utc(Int64(seconds))
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2))Z"
    }

    /// The UTC calendar fields of a Unix time (proleptic Gregorian; before 1970 too), without a formatter.
    static func utc(_ seconds: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let (whole, rest) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let days = Int(whole) - (rest < 0 ? 1 : 0), time = Int(rest < 0 ? rest + 86_400 : rest)
        // Days since 1970-01-01 to a civil date (H. Hinnant's `civil_from_days`).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, time / 3600, time / 60 % 60, time % 60)
    }

    /// `value` in decimal, zero-padded to `width` digits.
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `iso8601` by Foundation's formatter.
    static func formatted(_ seconds: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
