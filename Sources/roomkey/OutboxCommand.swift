import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey outbox`: bundles recorded with the changes they belong to, and their delivery.
    struct OutboxCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "outbox",
            abstract: "List, write out and resend the bundles this keyring recorded.",
            discussion: """
                Every change that sends something (a commit, a new sender key, a leave request) records its bundle in \
                the keyring in the same transaction as the change, and writes the file only after that transaction \
                commits. So a bundle file never exists for a change the keyring does not have, and a bundle whose \
                write was interrupted is written by the next command that changes the keyring, or by 'outbox flush'.
                """,
            subcommands: [List.self, Flush.self, Resend.self])

        /// `roomkey outbox list`.
        struct List: KeyringCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "Show undelivered and recently delivered bundles.")

            @OptionGroup var global: GlobalOptions

            func execute(_ output: Output) throws {
                let docs = try openKeyring().outboxEntries().map(EntryDocument.init)
                output.result(["entries": docs]) {
                    docs.isEmpty ? ["the outbox is empty"] : docs.map { d in
                        "\(d.delivered == nil ? "undelivered" : "delivered  ")  \(d.kind)  room \(Output.oneLine(d.name)) epoch \(d.epoch)  \(d.path)"
                    }
                }
            }
        }

        /// `roomkey outbox flush`.
        struct Flush: KeyringCommand {
            static let configuration = CommandConfiguration(
                commandName: "flush",
                abstract: "Write every undelivered bundle now, and make the sender keys still owed after an interrupted receive.")

            @OptionGroup var global: GlobalOptions
            @OptionGroup var outbox: OutboxOption

            func execute(_ output: Output) throws {
                let keyring = try openKeyring(outbox: outbox.box)
                let written = try keyring.settleOutboxNow()
                output.confirmation(["written": written.map(\.path)]) {
                    written.isEmpty ? ["nothing to write"] : written.map { "wrote \($0.path)" }
                }
            }
        }

        /// `roomkey outbox resend ROOM [--epoch N]`.
        struct Resend: KeyringCommand {
            static let configuration = CommandConfiguration(
                commandName: "resend",
                abstract: "Write again the bundle of a recorded epoch, for members who lost it.",
                discussion: """
                    Writes again what this keyring sent for the epoch (default: the room's current one) while the \
                    outbox still holds it (30 days), byte for byte; otherwise a new bundle with the epoch's commit (the \
                    whole log if it added members) and, at the current epoch, your current sender key, sealed to that \
                    epoch's roster. Members who already have everything in it see 'duplicate' or a no-op refusal; the \
                    others apply it. A member's own bundles carry only its keys: with --with-commit, a bundle carrying \
                    the epoch's commit (and no key) is written too, for a keyring that lost the commit (an admin \
                    restored from a backup); members who have the commit refuse it as a no-op.
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var bundle: BundleOptions
            @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
            @Option(name: .long, help: ArgumentHelp("The epoch to resend.", valueName: "n")) var epoch: UInt64?
            @Flag(name: .long, help: "Also write a bundle carrying the epoch's commit, when your recorded bundles do not.")
            var withCommit = false

            func execute(_ output: Output) throws {
                // `-o FILE` names one file: an epoch with several recorded bundles needs a folder.
                var named = 0
                try bundle.checkOutput()
                let deliver = bundle.delivery
                let paths = try openKeyring(outbox: bundle.outbox.box).resend(room: room, epoch: epoch, withCommit: withCommit) { output in
                    named += 1
                    if named > 1, bundle.output != nil { throw ResendError.severalBundles }
                    return try deliver(output)
                }
                output.confirmation(["bundles": paths]) { paths.map { "wrote \($0)" } }
            }
        }

        /// Why a resend cannot go to one `-o` file.
        enum ResendError: RoomKeyError {
            case severalBundles
            var category: ErrorCategory { .usage }
            var message: String { "this resend writes several bundles (the epoch's recorded ones, and its commit with --with-commit), and -o names one file" }
            var hint: String? { "write them into a folder with --outbox DIR instead of -o" }
        }

        struct EntryDocument: Encodable {
            let path: String, roomId: String, name: String, epoch: UInt64, kind: String, created: String, delivered: String?, size: Int
            init(_ e: OutboxEntry) {
                path = e.target
                roomId = e.roomID.hex
                name = e.roomName
                epoch = e.epoch
                kind = e.kind
                created = CommandClock.iso8601(e.created)
                delivered = e.delivered.map(CommandClock.iso8601)
                size = e.size
            }
        }
    }
}
