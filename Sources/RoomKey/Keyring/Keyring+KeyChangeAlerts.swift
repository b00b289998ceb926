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

    /// Throws naming the first contact with an unresolved key change whose *new* identity is in the roster (another
    /// admin added it): nothing is sealed to a new key until the user verifies or accepts it. An older identity the
    /// roster still holds is what the room sealed to before the change, so bundles to it (removals, rotations,
    /// offboarding, the rotation after `receive`) go on (`MembershipPlan.unsealable`).
    func refuseKeyChangedMembers(_ db: Database, roster: Roster) throws {
        let pending = try keyChangedContacts(db)
        let blocked = MembershipPlan.unsealable(recipients: roster.sortedIDs, pendingNewKeys: Set(pending.map(\.id)))
        if let id = blocked.first, let contact = pending.first(where: { $0.id == id }) {
            throw RoomError.keyChangedContact(name: contact.name)
        }
    }

    /// A member of a room that is an older identity of a contact whose key changed.
    public struct OldKeyMember: Sendable, Equatable {
        /// The room's name.
        public let room: String
        /// The room id.
        public let roomID: RoomID
        /// The older identity that is still a member.
        public let oldID: IdentityID
        /// The contact's name.
        public let contact: String
        /// The contact's current identity.
        public let newID: IdentityID
        /// True while the new key is neither verified nor accepted.
        public let pending: Bool
    }

    /// Every room member that is an older identity of a contact (of the contact `name` only, when given): the rooms
    /// where `room replace ROOM NAME` would swap in the contact's current card. Sorted by room name, then contact.
    public func oldKeyMembers(contact name: String? = nil, room nameOrID: String? = nil) throws -> [OldKeyMember] {
        let rooms = try nameOrID.map { [try room($0)] } ?? rooms()
        let contacts = try name.map { [try contact(named: $0)] } ?? contacts()
        return try read { db in
            var found: [OldKeyMember] = []
            for contact in contacts {
                let previous = try keyHistory(db, named: contact.name).map(\.card.id)
                if previous.isEmpty { continue }
                for room in rooms where !room.left {
                    let roster = room.state.roster
                    if case let .oldKey(old, pending) = MembershipPlan.presence(roster: roster, current: contact.id, previous: previous,
                                                                                keyChangePending: contact.keyChanged) {
                        found.append(OldKeyMember(room: room.name, roomID: room.id, oldID: old, contact: contact.name, newID: contact.id,
                                                  pending: pending))
                    }
                }
            }
            return found.sorted { ($0.room, $0.contact) < ($1.room, $1.contact) }
        }
    }
}
