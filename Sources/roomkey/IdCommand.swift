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
            subcommands: [Show.self, Export.self, Upgrade.self],
            defaultSubcommand: Show.self)
    }
}

extension RoomKeyCommand.IdCommand {
    /// `roomkey id [show]`: id, handle, keys, card, creation time.
    struct Show: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show your id, handle, public keys and identity card.")

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            let card = try openKeyring().identityCard()
            let doc = IdentityDocument(card)
            output.result(doc) {
                ["id:          \(doc.id)", "handle:      \(doc.handle)", "signing key: \(doc.signingKey)",
                 "sealing key: \(doc.sealingKey)", "pq key:      \(doc.pqSummary)", "created:     \(doc.created)", "card:        \(doc.card)"]
            }
        }
    }

    /// `roomkey id upgrade`: adds an X-Wing key to a version 1 identity and prints the new (version 2) card.
    struct Upgrade: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "upgrade",
            abstract: "Add a post-quantum (X-Wing) key to your identity and print the new card.",
            discussion: """
                The new card (roomkey-card-v2:) keeps your id, handle, identity key and sealing key, so your safety \
                number does not change; send it to your contacts, whose 'contact add' records it as an upgrade. \
                Bundles sealed to you then use post-quantum stanzas. An identity made by 'init' is already version 2.
                """)

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            let (card, upgraded) = try openKeyring().upgradeIdentity()
            if !upgraded { output.note("your identity already has a post-quantum key (card v2)") }
            output.result(UpgradeDocument(card: card.text, upgraded: upgraded)) { [card.text] }
        }

        struct UpgradeDocument: Encodable { let card: String, upgraded: Bool }
    }

    /// `roomkey id export`: the identity card as one line.
    struct Export: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Print or write your identity card (one line of text).")

        @OptionGroup var global: GlobalOptions

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the card to this file instead of standard output ('-': standard output).",
                                                        valueName: "file"), completion: .file())
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
    let cardVersion: Int
    let xwingKey: String?

    var pqSummary: String {
        xwingKey == nil ? "none (card v1; 'roomkey id upgrade' adds one)" : "X-Wing (ML-KEM-768 + X25519), card v2"
    }

    init(_ card: IdentityCard) {
        cardVersion = Int(card.formatVersion)
        xwingKey = card.xwingKey.map { Hex.encode($0.bytes) }
        id = card.id.hex
        handle = card.handle
        signingKey = Hex.encode(card.signingKey.bytes)
        sealingKey = Hex.encode(card.sealingKey.bytes)
        created = CommandClock.iso8601(card.created)
        self.card = card.text
    }
}
