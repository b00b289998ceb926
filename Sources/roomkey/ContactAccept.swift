import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.ContactCommand {
    /// `roomkey contact accept NAME`: accepts a changed identity key without verifying it.
    struct Accept: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept",
            abstract: "Accept a contact's changed identity key without verifying it.",
            discussion: """
                Clears the key-changed mark and records that you accepted the new key unverified, so rooms may \
                seal to it again. Comparing safety numbers with 'roomkey verify NAME --confirm DIGITS' is safer: \
                it clears the mark too, and marks the contact verified. A contact whose key has not changed is \
                left as it is. The rooms where the contact's old identity key is still a member are listed with \
                the command that swaps it for the new one: 'roomkey room replace ROOM NAME'.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The contact name.", valueName: "name"))
        var name: String

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let outcome = try keyring.acceptKeyChange(named: name)
            let contact = ContactDocument(try keyring.contact(named: name))
            let rooms = try keyring.oldKeyMembers(contact: name).map(OldKeyDocument.init)
            let doc = AcceptDocument(contact: contact, status: outcome == .accepted ? "accepted" : "unchanged", rooms: rooms)
            if outcome == .accepted {
                output.note("\(name) stays unverified; compare safety numbers with '\(ShellWord.command(["verify"], [name]))' when you can")
            }
            output.confirmation(doc) {
                (outcome == .accepted
                    ? ["accepted the new identity key of \(name) (\(contact.id)), unverified"]
                    : ["the identity key of \(name) has not changed; nothing to accept (status: \(contact.status))"])
                    + (rooms.isEmpty ? [] : ["the old identity key of \(name) is still a member of \(rooms.count) room\(rooms.count == 1 ? "" : "s"):"]
                        + rooms.map { "  \($0.name) (\($0.roomId)): old \($0.oldId); run '\($0.command)'" })
            }
        }

        /// The JSON form: the contact document plus what happened.
        struct AcceptDocument: Encodable {
            let contact: ContactDocument
            let status: String
            let rooms: [OldKeyDocument]

            func encode(to encoder: any Encoder) throws {
                try contact.encode(to: encoder)
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(status, forKey: .status)
                try c.encode(rooms, forKey: .oldKeyRooms)
            }

            enum Keys: String, CodingKey { case status, oldKeyRooms }
        }
    }
}

/// A room where an old identity key of a contact is still a member, and the command that swaps it.
struct OldKeyDocument: Encodable {
    let name: String, roomId: String, oldId: String, newId: String, contact: String, pending: Bool, command: String
    init(_ m: Keyring.OldKeyMember) {
        name = m.room
        roomId = m.roomID.hex
        oldId = m.oldID.hex
        newId = m.newID.hex
        contact = m.contact
        pending = m.pending
        command = ShellWord.command(["room", "replace"], [ShellWord.reference(m.room, id: m.roomID.hex), m.contact])
    }
}
