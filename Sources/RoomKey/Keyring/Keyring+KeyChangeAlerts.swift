import Foundation
import GRDB
import RoomKeyCore

/// Which contacts have an unresolved key change, kept as a small index so that distributing keys in a large
/// room can check its roster against them without opening every contact row.
extension Keyring {
    /// Records or clears the alert of the contact whose name tag is `tag`.
    func syncKeyChangeAlert(_ db: Database, tag: [UInt8], keyChanged: Bool) throws {
        if keyChanged {
            try db.execute(sql: "INSERT OR IGNORE INTO contact_alert (name_tag) VALUES (?)", arguments: [Data(tag)])
        } else {
            try db.execute(sql: "DELETE FROM contact_alert WHERE name_tag = ?", arguments: [Data(tag)])
        }
    }

    /// Contacts whose identity key changed and was neither verified nor accepted.
    func keyChangedContacts(_ db: Database) throws -> [Contact] {
        try Data.fetchAll(db, sql: "SELECT name_tag FROM contact_alert").compactMap { tag in
            try fetchContact(db, tag: Array(tag))
        }.filter(\.keyChanged)
    }

    /// Throws naming the first contact with an unresolved key change whose old or new identity is in the roster:
    /// no keys are sealed to the room until the user verifies or accepts it.
    func refuseKeyChangedMembers(_ db: Database, roster: Roster) throws {
        for contact in try keyChangedContacts(db) {
            let ids = [contact.id] + (try keyHistory(db, named: contact.name)).map(\.card.id)
            if ids.contains(where: { roster[$0] != nil }) { throw RoomError.keyChangedContact(name: contact.name) }
        }
    }
}
