import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey contact`: other people's identity cards.
    struct ContactCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "contact",
            abstract: "Import, list, show and remove contacts.",
            subcommands: [Add.self, List.self, Show.self, Accept.self, Remove.self])
    }
}

/// The JSON form of a contact (`contact list`, `contact show`).
struct ContactDocument: Encodable {
    let name: String
    let id: String
    let handle: String
    let verified: Bool
    let keyChanged: Bool

    init(_ c: Contact) {
        name = c.name
        id = c.id.hex
        handle = c.card.handle
        verified = c.verified
        keyChanged = c.keyChanged
    }

    /// One word for people: verified, unverified or key-changed.
    var status: String { keyChanged ? "KEY-CHANGED" : (verified ? "verified" : "unverified") }
}
