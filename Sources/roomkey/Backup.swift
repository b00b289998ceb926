import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey backup -o FILE`.
    struct Backup: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Write a consistent copy of the keyring (it stays sealed under your passphrase).")

        @OptionGroup var global: GlobalOptions

        @Option(name: .shortAndLong, help: ArgumentHelp("The backup file ('-': standard output).", valueName: "file"), completion: .file())
        var output: String

        @Flag(name: .long, help: "Replace an existing file at the -o path.")
        var force = false

        func execute(_ out: Output) throws {
            try OutputFile.check(output, force: force)
            try OutputFile.writeBackup(of: try openKeyring(), to: output, force: force)
            out.confirmation(["backup": output]) { ["wrote a backup of \(global.keyringPath) to \(output)"] }
        }
    }

    /// `roomkey restore FILE [--force]`.
    struct Restore: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Restore a backup: a staged copy must pass SQLite's integrity check, open with the passphrase, open every sealed row and pass the audit check before it replaces the keyring in one rename; an existing keyring is replaced only with --force.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The backup file.", valueName: "file"), completion: .file())
        var file: String

        @Flag(name: .long, help: "Replace an existing keyring.")
        var force = false

        func execute(_ output: Output) throws {
            let path = global.keyringPath
            guard FileManager.default.fileExists(atPath: file) else { throw InputError.unreadable(path: file) }
            let source = global.passphraseSource
            let keyring: Keyring
            do {
                keyring = try Keyring.restore(from: file, to: path, force: force, passphrase: PassphraseInput.provider(source, path: file),
                                              random: try SystemRandom(), now: CommandClock.now, stateFolder: GlobalOptions.stateFolder)
            } catch {
                throw PassphraseError.naming(source, in: error)
            }
            let entries = try keyring.verifyAudit()
            // A restore is a deliberate rollback: this machine's state file now follows the restored keyring.
            try keyring.acceptCurrentState(stateFolder: GlobalOptions.stateFolder)
            // Whose keyring this is, said every time: a backup handed over by someone else replaces the keyring with
            // their identity, and one without a passphrase opens without asking (a hostile review).
            let card = try keyring.identityCard()
            if !keyring.isPassphraseProtected {
                output.warn("the restored keyring has no passphrase: anyone who can read \(path) can use it", hint: "set one with 'roomkey passwd'")
            }
            // An admin's keyring put back in time no longer holds the commits it made since: one more change of members
            // from it takes an epoch the others hold already, a fork (the review of crash safety).
            let adminOf = try keyring.rooms().filter { !$0.left && $0.state.roster[card.id]?.admin == true }.map(\.name)
            if !adminOf.isEmpty {
                output.warn("the restored keyring is an admin of \(SafeText.quotedList(adminOf.sorted())) as of the backup: commits made since are not in it, and changing members before catching up forks the room",
                            hint: "receive what the members sent since first; a member's 'roomkey outbox resend ROOM --epoch N --with-commit' sends an epoch again")
            }
            output.confirmation(RestoreDocument(restored: path, auditEntries: entries, id: card.id.hex, handle: card.handle,
                                                passphraseProtected: keyring.isPassphraseProtected)) {
                ["restored \(file) to \(path) (\(entries) audit entries intact)", "id:     \(card.id.hex)", "handle: \(card.handle)"]
            }
        }
    }

    /// The JSON form of `restore`.
    struct RestoreDocument: Encodable {
        let restored: String
        let auditEntries: Int
        let id: String
        let handle: String
        let passphraseProtected: Bool
    }
}
