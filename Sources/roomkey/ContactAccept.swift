import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.ContactCommand {
    /// `roomkey contact accept NAME`: accepts a changed identity key without verifying it.
    struct Accept: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a contact's changed identity key without verifying it.",
            discussion: """
                Clears the key-changed mark and records that you accepted the new key unverified, so rooms may \
                seal to it again. Comparing safety numbers with 'roomkey verify NAME --confirm DIGITS' is safer: \
                it clears the mark too, and marks the contact verified. A contact whose key has not changed is \
                left as it is.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The contact name.", valueName: "name"))
        var name: String

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let outcome = try keyring.acceptKeyChange(named: name)
            let contact = ContactDocument(try keyring.contact(named: name))
            let doc = AcceptDocument(contact: contact, status: outcome == .accepted ? "accepted" : "unchanged")
            if outcome == .accepted {
                output.note("\(name) stays unverified; compare safety numbers with 'roomkey verify \(name)' when you can")
            }
            output.result(doc) {
                outcome == .accepted
                    ? ["accepted the new identity key of \(name) (\(contact.id)), unverified"]
                    : ["the identity key of \(name) has not changed; nothing to accept (status: \(contact.status))"]
            }
        }

        /// The JSON form: the contact document plus what happened.
        struct AcceptDocument: Encodable {
            let contact: ContactDocument
            let status: String

            func encode(to encoder: any Encoder) throws {
                try contact.encode(to: encoder)
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(status, forKey: .status)
            }

            enum Keys: String, CodingKey { case status }
        }
    }
}
