import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey id`: the keyring owner's identity.
    struct IdCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id",
            abstract: "Show or export your identity.",
            subcommands: [Show.self, Export.self],
            defaultSubcommand: Show.self)
    }
}

extension RoomKeyCommand.IdCommand {
    /// `roomkey id [show]`: id, handle, keys, card, creation time.
    struct Show: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "Show your id, handle, public keys and identity card.")

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            let card = try openKeyring().identityCard()
            let doc = IdentityDocument(card)
            output.result(doc) {
                ["id:          \(doc.id)", "handle:      \(doc.handle)", "signing key: \(doc.signingKey)",
                 "sealing key: \(doc.sealingKey)", "created:     \(doc.created)", "card:        \(doc.card)"]
            }
        }
    }

    /// `roomkey id export`: the identity card as one line.
    struct Export: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "Print or write your identity card (one line of text).")

        @OptionGroup var global: GlobalOptions

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the card to this file instead of standard output ('-': standard output).",
                                                        valueName: "file"))
        var output: String?

        @Flag(name: .long, help: "Replace an existing file at the -o path.")
        var force = false

        func execute(_ out: Output) throws {
            // `-o -` is the same as no -o: standard output.
            let output = output == OutputFile.standardOutput ? nil : output
            try OutputFile.check(output, force: force)
            let card = try openKeyring().identityCard()
            if let output {
                try OutputFile.write(Data((card.text + "\n").utf8), to: output, force: force, binary: false)
                out.note("wrote the identity card of \(card.handle) to \(output)")
                if out.json { print(Output.encode(["card": card.text, "path": output])) }
            } else {
                out.result(["card": card.text]) { [card.text] }
            }
        }
    }
}

/// The JSON form of an identity card, shared by `id` and `contact show`.
struct IdentityDocument: Encodable {
    let id: String
    let handle: String
    let signingKey: String
    let sealingKey: String
    let created: String
    let card: String

    init(_ card: IdentityCard) {
        id = card.id.hex
        handle = card.handle
        signingKey = Hex.encode(card.signingKey.bytes)
        sealingKey = Hex.encode(card.sealingKey.bytes)
        created = CommandClock.iso8601(card.created)
        self.card = card.text
    }
}
