import Foundation
import GRDB
import RoomKeyCore

/// A membership change as a user names it, resolved in this keyring into the operations of one commit: contacts and
/// members looked up by name, handle or id, and the rules checked before anything is signed.
extension Keyring {
    /// Throws `RoomError.sameHandle` for the first `add` in `ops` whose handle is already on `roster` (less the members
    /// `ops` removes, so a key swap is not a collision) or added before it.
    func refuseSameHandles(_ roster: Roster, adding ops: [Operation], room: String) throws {
        // Nothing added, nothing to collide: a removal in a large room does not index its roster for this.
        if ops.addedCards.isEmpty { return }
        try refuseSameHandles(HandleIndex(roster), adding: ops, room: room)
    }

    /// The same check against an index kept up to date line by line (`apply`), so a line costs what it adds.
    func refuseSameHandles(_ handles: HandleIndex, adding ops: [Operation], room: String) throws {
        if let c = handles.collisions(of: ops).first { throw RoomError.sameHandle(room: room, c) }
    }

    /// The same check for a new room, whose roster holds only its creator.
    func refuseSameHandles(creator: IdentityCard, adding ops: [Operation], room: String) throws {
        let added = ops.addedCards.map { (id: $0.id, handle: $0.handle) }
        if let c = MemberNames.collisions(members: [(creator.id, creator.handle)], adding: added).first {
            throw RoomError.sameHandle(room: room, c)
        }
    }

    /// The operations a change stands for, with contacts and members resolved in this keyring.
    /// `roster` is the roster the members are looked up in; `room` names the room in errors; `me` is the author.
    func operations(_ db: Database, for change: MembershipChange, roster: Roster, room: String, me: IdentityID) throws -> [Operation] {
        switch change {
        // A name given twice (`room add team dave dave`) stands for one operation.
        case let .add(names):
            var seen = Set<IdentityID>()
            return try names.compactMap { try addableCard(db, $0, roster: roster, room: room, ifMissing: false) }
                .filter { seen.insert($0.id).inserted }.map { .add($0) }
        case let .addIfMissing(names):
            var seen = Set<IdentityID>()
            return try names.compactMap { try addableCard(db, $0, roster: roster, room: room, ifMissing: true) }
                .filter { seen.insert($0.id).inserted }.map { .add($0) }
        case let .remove(members):
            var seen = Set<IdentityID>()
            return try members.map { try resolveMember(db, $0, roster: roster, room: room) }.filter { seen.insert($0).inserted }.map { .remove($0) }
        case let .removeIfPresent(members):
            var seen = Set<IdentityID>()
            return try members.compactMap { token -> IdentityID? in
                do { return try resolveMember(db, token, roster: roster, room: room) } catch RoomError.contactNotMember { return nil }
            }.filter { $0 != me && seen.insert($0).inserted }.map { .remove($0) }
        case let .promote(member): return [.promote(try resolveMember(db, member, roster: roster, room: room))]
        case let .demote(member): return [.demote(try resolveMember(db, member, roster: roster, room: room))]
        case .leave: return [.leave]
        case let .replace(name): return try replaceOperations(db, name, roster: roster, room: room)
        case let .members(names, admins): return try declarativeOperations(db, members: names, admins: admins, roster: roster, me: me)
        }
    }

    /// The card `room add` seals to for contact `name`: refused when the contact is in the room already (under its
    /// current or an older key) or its key change is pending; with `ifMissing`, nil for a contact in the room under any key.
    func addableCard(_ db: Database, _ name: String, roster: Roster, room: String, ifMissing: Bool) throws -> IdentityCard? {
        guard let contact = try fetchContact(db, tag: try contactTag(db, name)) else { throw ContactError.notFound(name: name) }
        switch try presence(db, contact, roster: roster) {
        case .current:
            if ifMissing { return nil }
            throw RoomError.alreadyMember(name: name, room: room)
        case let .oldKey(old, pending):
            if ifMissing { return nil }
            throw RoomError.oldKeyMember(name: name, room: room, old: old, pending: pending)
        case .absent:
            if contact.keyChanged { throw RoomError.keyChangedContact(name: name) }
            return contact.card
        }
    }

    /// Where `contact` stands in `roster`: see `MembershipPlan.presence`.
    func presence(_ db: Database, _ contact: Contact, roster: Roster) throws -> ContactPresence {
        MembershipPlan.presence(roster: roster, current: contact.id, previous: try keyHistory(db, named: contact.name).map(\.card.id),
                                keyChangePending: contact.keyChanged)
    }

    /// The operations of `room replace`: the contact's older identity out, its current card in, the role kept.
    func replaceOperations(_ db: Database, _ name: String, roster: Roster, room: String) throws -> [Operation] {
        guard let contact = try fetchContact(db, tag: try contactTag(db, name)) else { throw ContactError.notFound(name: name) }
        let previous = try keyHistory(db, named: contact.name).map(\.card.id)
        do {
            return try MembershipPlan.replace(roster: roster, new: contact.card, previous: previous, keyChangePending: contact.keyChanged)
        } catch .keyNotChanged {
            throw RoomError.keyNotChanged(name: name)
        } catch .alreadyReplaced {
            throw RoomError.oldKeyNotMember(name: name, room: room, current: true)
        } catch .oldKeyNotMember {
            throw RoomError.oldKeyNotMember(name: name, room: room, current: false)
        } catch .keyChangePending {
            let old = previous.last { roster[$0] != nil } ?? contact.id
            throw RoomError.oldKeyMember(name: name, room: room, old: old, pending: true)
        }
    }

    /// The operations of `room members`: the roster made equal to `names` (and the admins to `admins`, when given).
    /// A contact in the room under an older key whose change is pending counts as present under that key (nothing is
    /// sealed to the new key yet); one whose change was accepted or verified is swapped for its current card.
    func declarativeOperations(_ db: Database, members names: [String], admins adminNames: [String]?, roster: Roster,
                               me: IdentityID) throws -> [Operation] {
        var successors: [IdentityID: IdentityID] = [:]
        func wanted(_ token: String) throws -> IdentityCard {
            if let card = try declaredCard(db, token, roster: roster, me: me, successors: &successors) { return card }
            throw ContactError.notFound(name: token)
        }
        let adminCards = try adminNames.map { try $0.map(wanted) }
        let cards = try names.map(wanted) + (adminCards ?? [])
        return MembershipPlan.operations(from: roster, members: cards, admins: adminCards.map { Set($0.map(\.id)) }, author: me,
                                         successors: successors)
    }

    /// The card a name in a members file stands for: a member or a contact by id (an id is read as an id first, as
    /// `resolveMember` reads it, so a contact named like someone else's id never stands for them), else a contact by
    /// name or a member by unique handle; nil when it names nothing. Records old id -> new id for a contact swapped
    /// for its current card.
    private func declaredCard(_ db: Database, _ token: String, roster: Roster, me: IdentityID,
                              successors: inout [IdentityID: IdentityID]) throws -> IdentityCard? {
        var contact: Contact?
        if token.count == 32, let bytes = try? Hex.decode(token, what: "id"), let id = try? IdentityID(bytes: bytes) {
            if let member = roster[id] { return member.card }
            contact = try fetchContact(db, id: id)
        }
        if contact == nil { contact = try fetchContact(db, tag: nameTag(token)) }
        guard let contact else {
            let byHandle = roster.members.values.filter { $0.card.handle == token }
            return byHandle.count == 1 ? byHandle[0].card : nil
        }
        switch try presence(db, contact, roster: roster) {
        case .current: return contact.card
        case let .oldKey(old, true): return roster[old]?.card
        case let .oldKey(old, false):
            successors[old] = contact.id
            return contact.card
        case .absent:
            if contact.keyChanged { throw RoomError.keyChangedContact(name: token) }
            return contact.card
        }
    }

    /// The roster after `ops` by this member, checking authority and every operation rule.
    func checkedRoster(_ roster: Roster, _ ops: [Operation], me: IdentityID) throws -> Roster {
        var roster = roster
        try checkedApply(ops, to: &roster, me: me)
        return roster
    }

    /// The same checks, applying `ops` to `roster` where it is (a script's line in a large room costs what it changes);
    /// `roster` is unchanged when a rule refuses.
    func checkedApply(_ ops: [Operation], to roster: inout Roster, me: IdentityID) throws {
        do {
            if let author = roster[me], !author.admin { throw LogError.notAdmin(me) }
            try RoomState.apply(ops, onto: &roster, author: me, genesis: false)
        } catch let rule as LogError {
            // The user's own change: a valid request a rule does not allow (exit 6), not a rejected input.
            throw RefusedChange(rule: rule)
        }
    }

    /// The contacts named `names`, in order, that keys may be sealed to: each exists and its key change, if any, was
    /// accepted or verified. They are read together (see `fetchContacts`); the first name that fails throws. A contact
    /// named twice (by name, or by name and id) is one member, as `room add` takes it (a review: `room create` of a
    /// members file with a repeated line was refused as "already a member", exit 2).
    func sealableContacts(_ db: Database, _ names: [String]) throws -> [Contact] {
        var out: [Contact] = []
        out.reserveCapacity(names.count)
        var seen = Set<IdentityID>()
        try forEachContact(db, named: names) { name, contact in
            guard let contact else { throw ContactError.notFound(name: name) }
            if contact.keyChanged { throw RoomError.keyChangedContact(name: name) }
            if seen.insert(contact.id).inserted { out.append(contact) }
        }
        return out
    }

    /// Resolves a member argument: a contact name, a member's handle, or a 32-hex-digit identity id.
    func resolveMember(_ db: Database, _ token: String, roster: Roster, room: String) throws -> IdentityID {
        if token.count == 32, let bytes = try? Hex.decode(token, what: "id"), let id = try? IdentityID(bytes: bytes), roster[id] != nil {
            return id
        }
        if let contact = try fetchContact(db, tag: nameTag(token)) {
            if roster[contact.id] != nil { return contact.id }
            let old = try keyHistory(db, named: token).map(\.card.id).filter { roster[$0] != nil }
            if let id = old.last { return id }
            // Else a member by that handle who is no contact here (the contact's old key, met only in the roster), but
            // never one that is another contact: a review found `room promote lab bob`, with the contact "bob" out of
            // the room, promoting the contact "mal", whose card said "bob".
            let strangers = try roster.members.values.filter { member in
                try member.card.handle == token && fetchContact(db, id: member.id) == nil
            }
            if strangers.count == 1 { return strangers[0].id }
            throw RoomError.contactNotMember(name: token, room: room)
        }
        let byHandle = roster.members.values.filter { $0.card.handle == token }
        if byHandle.count == 1 { return byHandle[0].id }
        throw RoomError.contactNotMember(name: token, room: room)
    }
}

/// A membership change asked for here that a rule of the log (PROTOCOL §3.3) does not allow: the last admin leaving or
/// stepping down, an author removing itself, a change by a member who is not an admin. Refused (exit 6), as a direct
/// command and as a line of `apply`.
public struct RefusedChange: RoomKeyError, Equatable {
    /// The rule the change breaks.
    public let rule: LogError

    /// Refused by a rule.
    public var category: ErrorCategory { .refused }
    /// The rule's description, said of the user's own change.
    public var message: String {
        if case .notAdmin = rule { return "you are not an admin of this room" }
        return rule.message
    }
    /// The next step, where one exists.
    public var hint: String? {
        switch rule {
        case .notAdmin: rule.hint
        case .noAdminLeft: "promote another member first ('roomkey room promote ROOM MEMBER')"
        case let .invalidOperation(text) where text.contains("removes itself"): "to leave the room, run 'roomkey room leave ROOM'"
        default: nil
        }
    }
}
