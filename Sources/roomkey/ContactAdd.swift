import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.ContactCommand {
    /// `roomkey contact add FILE...`: imports one card or many, from one file or many.
    struct Add: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Import identity cards (one per line) from files or standard input.",
            discussion: """
                Every card of every file is checked before anything is stored: a card that cannot be parsed exits 65, \
                a card whose signature fails exits 2, a file that cannot be read exits 4, and then nothing is stored; \
                with several files the error names the file. A card with a new identity key for a known name \
                replaces it, marks it key-changed and unverified, and keeps the old key in the contact's history. \
                A name or handle with invisible characters (bidi controls, zero-width characters) exits 65. A new name \
                that looks like your handle or a contact's name or handle (same Unicode skeleton, as "аlice" in \
                Cyrillic and "alice"), or that mixes scripts, is refused with exit 6 naming both, unless \
                --allow-confusable is given; it is then stored with a warning.
                """)

        static let maxInputBytes = 64 * 1024 * 1024

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Files of identity cards, or - for standard input.", valueName: "file"), completion: .file())
        var files: [String]

        @Option(name: .customLong("as"), help: ArgumentHelp("The contact name, for a single card (default: its handle).", valueName: "name"))
        var name: String?

        @Flag(name: .long, help: "Store a card whose name looks like a known name or mixes scripts (with a warning).")
        var allowConfusable = false

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one card file, or - for standard input") }
            if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
            if let name { do { try Handle.validateNew(name, what: "contact name") } catch { throw ValidationError(error.message) } }
        }

        func execute(_ output: Output) throws {
            // An error names its file (not standard input), one file given or several, as CLI.md shows.
            let inputs = try files.map { file in (file, try InFileError.naming(file, when: files.count > 1 || file != "-") {
                let cards = try IdentityCard.verifiedCards(in: try InputFiles.readText(file, limit: Self.maxInputBytes, what: "card input"))
                if cards.isEmpty, files.count > 1 { throw ContactError.noCards }
                return cards
            }) }
            let keyring = try openKeyring()
            let own = try keyring.identityCard().id
            for (file, cards) in inputs where cards.contains(where: { $0.id == own }) {
                throw InFileError.naming(file, when: files.count > 1 || file != "-", ContactError.ownCard)
            }
            let results = try keyring.addContacts(inputs.flatMap(\.1), as: name, allowConfusable: allowConfusable)
            for r in results {
                for lookalike in r.lookalikes { output.warn("\(lookalike); stored as --allow-confusable was given") }
                switch r.outcome {
                case let .keyChanged(previous):
                    output.warn("the identity key of \"\(r.name)\" changed (was \(previous.hex), now \(r.id.hex)); it is no longer verified",
                                hint: "compare safety numbers with '\(ShellWord.command(["verify"], [r.name]))' before sending it keys")
                case let .alreadyKnown(existing):
                    output.note("\(r.id.hex) is already your contact \"\(existing)\"; nothing stored for \"\(r.name)\"")
                case let .roomMember(handle):
                    output.warn("\(r.id.hex) is a member of your rooms as \"\(handle)\", not a new key of \"\(r.name)\"; nothing stored",
                                hint: "to keep it as a contact, add it under a name of its own: 'roomkey contact add FILE --as NAME'")
                default: break
                }
            }
            output.confirmation(["results": results.map(ResultDocument.init)]) {
                results.map { "\($0.outcome.word) \($0.name) \($0.id.hex)" }
            }
        }

        struct ResultDocument: Encodable {
            let name: String
            let id: String
            let status: String
            let previousId: String?
            let existingName: String?
            let lookalikes: [String]

            init(_ r: ContactAddResult) {
                lookalikes = r.lookalikes
                name = r.name
                id = r.id.hex
                status = r.outcome.word
                if case let .keyChanged(previous) = r.outcome { previousId = previous.hex } else { previousId = nil }
                switch r.outcome {
                case let .alreadyKnown(existing), let .roomMember(existing): existingName = existing
                default: existingName = nil
                }
            }
        }
    }
}

extension ContactAddOutcome {
    /// The status word used in text and JSON (kebab-case, like every JSON value).
    var word: String {
        switch self {
        case .added: "added"
        case .unchanged: "unchanged"
        case .updated: "updated"
        case .upgraded: "upgraded"
        case .keyChanged: "key-changed"
        case .alreadyKnown: "already-known"
        case .roomMember: "room-member"
        }
    }
}
