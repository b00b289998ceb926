import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey passwd`: re-wraps the keyring key under a new passphrase.
    struct Passwd: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Change the keyring passphrase (or add one to a keyring made with --no-passphrase).",
            discussion: "Only the wrapped keyring key changes; every other row stays as it is.")

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: ArgumentHelp("Read the new passphrase from the first line of this file.", valueName: "path"), completion: .file())
        var newPassphraseFile: String?

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            try keyring.changePassphrase(to: PassphraseInput.newProvider(newPassphraseFile.map { .file(path: $0, fromEnvironment: false) } ?? .prompt))
            output.confirmation(["changed": true]) { ["changed the passphrase of \(keyring.path)"] }
        }
    }
}
