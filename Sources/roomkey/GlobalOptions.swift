import ArgumentParser
import Foundation
import RoomKeyCore

/// Options every command takes: where the keyring is, how to unlock it, and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The keyring file.",
        discussion: "Default: $ROOMKEY_KEYRING, else $XDG_DATA_HOME/roomkey/keyring.sqlite, else ~/.local/share/roomkey/keyring.sqlite.",
        valueName: "path"), completion: .file())
    var keyring: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read the passphrase from the first line of this file.",
        discussion: "Default: $ROOMKEY_PASSPHRASE_FILE, else a prompt on the terminal. A passphrase is never taken from the command line.",
        valueName: "path"), completion: .file())
    var passphraseFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read the passphrase from the first line of this open file descriptor (as gpg does).",
        discussion: "For example 'roomkey room list --passphrase-fd 3 3<secret'. Overrides $ROOMKEY_PASSPHRASE_FILE.",
        valueName: "n"))
    var passphraseFd: Int32?

    @Flag(name: .long, help: "Print exactly one JSON document on standard output.")
    var json = false

    @Flag(name: [.short, .long], help: "Print no notes on standard error (warnings and errors still appear).")
    var quiet = false

    @Flag(name: .long, help: ArgumentHelp(
        "Open a keyring that is older than this machine last saw it (a copy restored on purpose).",
        discussion: "Every room then makes a new sender key before its next message."))
    var acceptRollback = false

    /// This machine's state folder (rollback detection): $XDG_STATE_HOME/roomkey, else ~/.local/state/roomkey.
    static var stateFolder: String {
        let env = ProcessInfo.processInfo.environment
        // A relative XDG_STATE_HOME is ignored, as the XDG spec says: it would make a cloned folder the state folder.
        if let xdg = env["XDG_STATE_HOME"], xdg.hasPrefix("/") { return xdg + "/roomkey" }
        return Self.home + "/.local/state/roomkey"
    }

    /// The keyring path after applying the documented fallbacks.
    var keyringPath: String {
        let env = ProcessInfo.processInfo.environment
        if let keyring { return keyring }
        if let path = env["ROOMKEY_KEYRING"], !path.isEmpty { return path }
        // A relative XDG_DATA_HOME is ignored, as the XDG spec says and as XDG_STATE_HOME is: it would make the
        // keyring a file of whatever folder the command runs in.
        if let xdg = env["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/roomkey/keyring.sqlite" }
        return Self.home + "/.local/share/roomkey/keyring.sqlite"
    }

    /// The home folder: `$HOME` when it is an absolute path, else the user's entry in the password database. An empty
    /// `HOME` made the keyring `/.local/share/...`, and a relative one a file of whatever folder the command ran in (a
    /// hostile review), as a relative `XDG_DATA_HOME` would, which is ignored.
    static var home: String {
        if let home = ProcessInfo.processInfo.environment["HOME"], home.hasPrefix("/") { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir, dir.pointee == UInt8(ascii: "/") { return String(cString: dir) }
        return NSHomeDirectory()
    }

    func validate() throws {
        if passphraseFile != nil, passphraseFd != nil { throw ValidationError(PassphraseError.twoSources.message) }
        if keyring?.isEmpty == true { throw ValidationError("--keyring needs a path") }
        if let passphraseFd { PassphraseInput.noteDescriptor(passphraseFd) }
        OutputFile.keyringPath = keyringPath
    }

    /// Where the passphrase comes from: `--passphrase-fd`, `--passphrase-file`, `$ROOMKEY_PASSPHRASE_FILE`, else a prompt.
    var passphraseSource: PassphraseSource {
        if let passphraseFd { return .descriptor(passphraseFd) }
        if let passphraseFile { return .file(path: passphraseFile, fromEnvironment: false) }
        if let path = ProcessInfo.processInfo.environment["ROOMKEY_PASSPHRASE_FILE"], !path.isEmpty {
            return .file(path: path, fromEnvironment: true)
        }
        return .prompt
    }

    var output: Output { Output(json: json, quiet: quiet) }
}
