import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.ContactCommand {
    /// `roomkey contact list`.
    struct List: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List contacts with their ids and verification state.")

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            // Sorted by name, so every contact is read first; the lines (or JSON objects) are then written one by one.
            let contacts = try openKeyring().contacts()
            if output.json {
                output.stream("{\"contacts\":[")
                for (index, contact) in contacts.enumerated() {
                    output.stream((index == 0 ? "" : ",") + Output.encode(ContactDocument(contact)))
                }
                return output.stream("]}\n")
            }
            let width = max(4, contacts.map(\.name.count).max() ?? 0)
            func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
            output.stream("\(pad("NAME"))  ID                                STATUS       HANDLE\n")
            for contact in contacts {
                let doc = ContactDocument(contact)
                output.stream("\(pad(doc.name))  \(doc.id)  \(doc.status.padding(11))  \(doc.handle)\n")
            }
        }
    }

    /// `roomkey contact show NAME`.
    struct Show: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one contact: id, keys, card, verification and key history.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The contact name.", valueName: "name"))
        var name: String

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let contact = try keyring.contact(named: name)
            let history = try keyring.keyHistory(named: name)
            let doc = ShowDocument(contact: ContactDocument(contact), identity: IdentityDocument(contact.card),
                                   previousIds: history.map(\.card.id.hex))
            output.result(doc) {
                ["name:        \(doc.contact.name)", "id:          \(doc.contact.id)", "handle:      \(doc.contact.handle)",
                 "status:      \(doc.contact.status)", "signing key: \(doc.identity.signingKey)",
                 "sealing key: \(doc.identity.sealingKey)", "created:     \(doc.identity.created)", "card:        \(doc.identity.card)"]
                    + doc.previousIds.map { "previous id: \($0)" }
            }
        }

        struct ShowDocument: Encodable {
            let contact: ContactDocument
            let identity: IdentityDocument
            let previousIds: [String]

            func encode(to encoder: any Encoder) throws {
                try contact.encode(to: encoder)
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(identity.signingKey, forKey: .signingKey)
                try c.encode(identity.sealingKey, forKey: .sealingKey)
                try c.encode(identity.created, forKey: .created)
                try c.encode(identity.card, forKey: .card)
                try c.encode(previousIds, forKey: .previousIds)
            }

            enum Keys: String, CodingKey { case signingKey, sealingKey, created, card, previousIds }
        }
    }

    /// `roomkey contact remove NAME`.
    struct Remove: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a contact and its key history.",
            discussion: "Rooms are not changed: a warning names the rooms of yours the contact is still a member of.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The contact name.", valueName: "name"))
        var name: String

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let id = try keyring.contact(named: name).card.id
            let me = try keyring.identityCard().id
            let rooms = try keyring.rooms().filter { $0.state.roster[id] != nil && $0.state.roster[me] != nil }
            try keyring.removeContact(named: name)
            if !rooms.isEmpty {
                output.warn("\(name) is still a member of \(plural(rooms.count, "room")): \(SafeText.quotedList(rooms.map(\.name)))",
                            hint: "removing a contact changes no room; take them out with '\(ShellWord.command(["room", "remove"], [rooms.count == 1 ? rooms[0].commandName : "ROOM", id.hex]))'")
            }
            output.confirmation(RemoveDocument(removed: name, stillMemberOf: rooms.map { .init(name: $0.name, roomId: $0.id.hex) })) {
                ["removed \(name)"]
            }
        }

        struct RemoveDocument: Encodable {
            struct Room: Encodable { let name: String, roomId: String }
            let removed: String
            let stillMemberOf: [Room]
        }
    }
}

extension String {
    /// The string padded with spaces to `width` characters.
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
