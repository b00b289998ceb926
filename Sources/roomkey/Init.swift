import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey init`: creates a keyring and a new identity.
    struct Init: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a keyring with a new identity.",
            discussion: "Refuses to replace an existing keyring (exit 1). The keyring key is wrapped with Argon2id under your passphrase unless --no-passphrase is given.")

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: ArgumentHelp("Your handle: 1 to 128 bytes of UTF-8 (NFC), shown to contacts.", valueName: "handle"))
        var name: String

        @Flag(name: .long, help: "Store the keyring key unwrapped (anyone who can read the file can use it).")
        var noPassphrase = false

        func validate() throws {
            do { try Handle.validateNew(name) } catch { throw ValidationError(error.message) }
        }

        func execute(_ output: Output) throws {
            let path = global.keyringPath
            let provider = noPassphrase ? nil : PassphraseInput.newProvider(global.passphraseSource)
            let keyring = try Keyring.create(path: path, handle: name, passphrase: provider, random: try SystemRandom(),
                                             now: CommandClock.now)
            let card = try keyring.identityCard()
            if noPassphrase { output.warn("the keyring key is stored unwrapped: anyone who can read \(path) can use it") }
            output.confirmation(InitDocument(keyring: path, id: card.id.hex, handle: card.handle, passphraseProtected: !noPassphrase)) {
                ["created keyring \(path)", "id:     \(card.id.hex)", "handle: \(card.handle)"]
            }
        }
    }

    struct InitDocument: Encodable {
        let keyring: String
        let id: String
        let handle: String
        let passphraseProtected: Bool
    }
}
