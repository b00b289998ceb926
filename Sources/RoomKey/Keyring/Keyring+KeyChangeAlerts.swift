import Foundation
import GRDB
import RoomKeyCore

/// Which contacts have an unresolved key change, kept as a small index so that distributing keys in a large
/// room can check its roster against them without opening every contact row.
extension Keyring {
    /// Records or clears the alert of the contact whose name tag is `tag`.
    func syncKeyChangeAlert(_ db: Database, tag: [UInt8], keyChanged: Bool) throws {
        if keyChanged {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO contact_alert (name_tag) VALUES (?)").execute(arguments: [Data(tag)])
        } else {
            try db.cachedStatement(sql: "DELETE FROM contact_alert WHERE name_tag = ?").execute(arguments: [Data(tag)])
        }
    }

    /// Contacts whose identity key changed and was neither verified nor accepted.
    func keyChangedContacts(_ db: Database) throws -> [Contact] {
        try requireIntact(db, "contact_alert")
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT name_tag FROM contact_alert")).compactMap { tag in
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

/// Post-quantum stanzas: which card each member is sealed to, and the `--require-pq` policy.
extension Keyring {
    /// The card a member's stanza is sealed to: this keyring's own card for itself; else the roster's card, or, when
    /// that is version 1, a version 2 card of the same identity key stored as a contact (an upgrade, `id upgrade`) or
    /// kept in key history (`upgrades`, from `historyUpgrades`: the contact's card changed key since).
    func effectiveCard(_ db: Database, _ member: Member, me: IdentityCard, upgrades: [IdentityID: IdentityCard]) throws -> IdentityCard {
        if member.id == me.id { return me }
        if member.card.isPostQuantum { return member.card }
        if let contact = try fetchContact(db, id: member.id), contact.card.isPostQuantum, contact.card.signingKey == member.card.signingKey {
            return contact.card
        }
        if let kept = upgrades[member.id], kept.signingKey == member.card.signingKey { return kept }
        return member.card
    }

    /// One recipient per member but `me`, in increasing id order, post-quantum where its effective card allows. A member
    /// on a version 1 card that `room`'s summary counts as classical has no upgraded card stored: it is sealed to its
    /// roster card without reading its contact (a large room's bundle costs no read per member).
    func stanzaRecipients(_ db: Database, roster: Roster, me own: IdentityCard, room: RoomID) throws -> [StanzaRecipient] {
        let classical = try summaryClassicalIDs(db, room: room, roster: roster)
        let upgrades = try historyUpgrades(db)
        return try roster.sortedIDs.compactMap { id in
            guard id != own.id, let member = roster[id] else { return nil }
            if !member.card.isPostQuantum, classical.contains(id) { return StanzaRecipient(card: member.card) }
            return StanzaRecipient(card: try effectiveCard(db, member, me: own, upgrades: upgrades))
        }
    }

    /// Members of `roster` (this keyring's own identity included) whose effective card is version 1, by display name.
    func classicalMembers(_ db: Database, roster: Roster, me own: IdentityCard) throws -> [(id: IdentityID, name: String)] {
        var out: [(id: IdentityID, name: String)] = []
        let upgrades = try historyUpgrades(db)
        for id in roster.sortedIDs {
            guard let member = roster[id], !(try effectiveCard(db, member, me: own, upgrades: upgrades)).isPostQuantum else { continue }
            let name = id == own.id ? "you (\(member.card.handle))" : (try fetchContact(db, id: id)?.name ?? member.card.handle)
            out.append((id, name))
        }
        return out
    }

    /// Under `--require-pq`, refuses to distribute while any member is on a version 1 card, naming them.
    /// Members that `commits` add are named as refused additions; otherwise the error is about distribution.
    func refuseClassicalMembers(_ db: Database, room: StoredRoom, me: IdentityCard, commits: [Commit] = []) throws {
        try refuseClassicalMembers(db, room: room, roster: room.state.roster, me: me, adding: commits.flatMap(\.operations))
    }

    /// The same for `roster` (the room's roster after a change that `operations` make): what a change staged for a
    /// remote is checked against when it is staged, so that a change the sync could never publish is refused at once
    /// (a staged add of a member on a version 1 card was reported refused, yet stayed staged and blocked every later
    /// change of the room; a review).
    func refuseClassicalMembers(_ db: Database, room: StoredRoom, roster: Roster, me: IdentityCard, adding operations: [Operation]) throws {
        guard room.requirePQ else { return }
        let classical = try classicalMembers(db, roster: roster, me: me)
        if classical.isEmpty { return }
        let added = Set(operations.addedCards.map(\.id))
        let refusedAdds = classical.filter { added.contains($0.id) }
        if !refusedAdds.isEmpty { throw RoomError.classicalMembers(room: room.commandName, names: refusedAdds.map(\.name), adding: true) }
        throw RoomError.classicalMembers(room: room.commandName, names: classical.map(\.name), adding: false)
    }

    /// Contacts in `upgraded` now have version 2 cards: every room they are members of on a version 1 roster card of
    /// the same identity key, where this keyring holds a key of its own, starts a new generation before its next
    /// message, so that from then on this member's key reaches them post-quantum (the current one went out in a
    /// version 1 stanza). Each room is read once, however many of its members upgraded.
    func noteMembersUpgraded(_ db: Database, _ upgraded: Set<IdentityID>) throws {
        guard !upgraded.isEmpty else { return }
        let me = try identityCard(db).id
        // Each candidate's roster says: a room whose tenures are not built yet comes in whoever its members are.
        for tag in try roomTags(db, withMembers: upgraded).sorted(by: BytesOrder.precedes) {
            guard var room = try loadRoom(db, tag: tag), !room.left, room.state.roster[me] != nil,
                  upgraded.contains(where: { room.state.roster[$0].map { !$0.card.isPostQuantum } ?? false }) else { continue }
            room.owesNewGeneration()
            try saveRoom(db, room)
        }
    }

    /// True when `bundle` (a file this keyring made) seals its key to someone in a version 1 stanza, or does not parse.
    static func hasVersion1Stanza(_ bundle: [UInt8]) -> Bool {
        (try? Bundle.parse(bundle))?.stanzaKinds.contains(.sealedBox) ?? true
    }

    /// Under `--require-pq`, refuses `operations` when they add a member on a version 1 card, naming them: what
    /// `apply` checks line by line, so that the refusal names its line.
    func refuseClassicalAdds(_ db: Database, room: StoredRoom, _ operations: [Operation]) throws {
        guard room.requirePQ else { return }
        let classical = operations.addedCards.filter { !$0.isPostQuantum }
        guard !classical.isEmpty else { return }
        let names = try classical.map { card in try fetchContact(db, id: card.id)?.name ?? card.handle }
        throw RoomError.classicalMembers(room: room.commandName, names: names, adding: true)
    }
}

/// A member still on a version 1 card, as `room show` and `room list` name it.
public struct ClassicalMember: Sendable, Equatable {
    /// The member's identity id.
    public let id: IdentityID
    /// The contact name, or the handle (or "you (handle)" for this keyring's identity).
    public let name: String
}

extension Keyring {
    /// For each room, the members whose stanzas would still be classical (version 1 cards): empty means the room is
    /// fully post-quantum.
    public func classicalMembers(rooms: [StoredRoom]) throws -> [RoomID: [ClassicalMember]] {
        try read { db in
            let own = try identityCard(db)
            var out: [RoomID: [ClassicalMember]] = [:]
            for room in rooms {
                out[room.id] = try classicalMembers(db, roster: room.state.roster, me: own).map { ClassicalMember(id: $0.id, name: $0.name) }
            }
            return out
        }
    }

    /// Turns `--require-pq` on or off for a room (a local setting, not shared with the other members).
    public func setRequirePQ(room nameOrID: String, _ on: Bool) throws -> StoredRoom {
        try write { db in
            var room = try findRoom(db, nameOrID)
            if room.requirePQ != on {
                room.requirePQ = on
                // The current key may have reached someone through a version 1 stanza (sealed before the requirement,
                // or before a member's upgrade): a new one is due, which is distributed only under the requirement.
                if on, !room.left, room.state.roster[try identityCard(db).id] != nil { room.owesNewGeneration() }
                try saveRoom(db, room)
                try audit(db, .roomPolicy, "\(Self.auditRoom(room.name, room.id)) require-pq \(on ? "on" : "off")")
            }
            return room
        }
    }
}
