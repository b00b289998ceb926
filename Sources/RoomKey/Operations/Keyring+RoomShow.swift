import Foundation
import GRDB
import RoomKeyCore

/// A room as `room show` prints it before its members: its record and summary, without its roster.
public struct RoomHeader: Sendable {
    /// The room id.
    public let id: RoomID
    /// The room's name.
    public let name: String
    /// The current epoch.
    public let epoch: UInt64
    /// The head hash.
    public let head: [UInt8]
    /// True when the room is forked, with the two heads.
    public let forked: Bool, forkHeads: [String]
    /// True when the user confirmed the fingerprint at this epoch.
    public let fingerprintConfirmed: Bool
    /// The local retention and rotation settings.
    public let retentionSeconds: UInt64, rotateMessages: UInt32, rotateAfterSeconds: UInt64
    /// True when the room requires post-quantum cards.
    public let requirePQ: Bool
    /// Size, trust counts and the members on version 1 cards.
    public let summary: RosterSummary
    /// True when this keyring left the room and has not taken it back.
    public var left = false
    /// True when a restore (or an accepted rollback) marked the room and no sync has found it caught up since
    /// (`StoredRoom.restoredBehind`).
    public var restored = false

    /// The room fingerprint at this epoch.
    public var fingerprint: String { RoomFingerprint.digits(roomID: id, epoch: epoch, head: head) }
}

/// One member as `room show` lists it.
public struct MemberListing: Sendable {
    /// The member's identity id.
    public let id: IdentityID
    /// The handle of its card, and the label that tells it apart from members with the same handle.
    public let handle: String, label: String
    /// True for admins.
    public let admin: Bool
    /// How far the user trusts its key.
    public let trust: MemberTrust
    /// True when its stanzas are post-quantum (its effective card is version 2).
    public let postQuantum: Bool
    /// When it is the older identity of a contact whose key changed: that contact's name, and whether the new key is
    /// still neither verified nor accepted.
    public let oldKeyOf: (contact: String, pending: Bool)?
    /// Other members (or you) whose different handle looks the same as this one's (UTS #39 skeleton): id and label.
    public let looksLike: [(id: IdentityID, label: String)]
}

extension Keyring {
    /// `room show`, streamed: `header` gets the room, then `member` each member in id order as it is read (one card and
    /// one contact at a time; nothing holds every member's card or line).
    public func showRoom(_ nameOrID: String, header: (RoomHeader) throws -> Void, member: (MemberListing) throws -> Void) throws {
        try read { db in
            let record = try findRoomRecord(db, nameOrID)
            guard let id = try? RoomID(bytes: Hex.decode(record.roomID, what: "room id")),
                  let view = try epochRosterView(db, id, record.epoch) else { throw KeyringError.integrityFailure(table: "room") }
            let me = try identityCard(db)
            var summary = try storedSummary(db, id)
            if summary == nil, let roster = try epochRoster(db, id, record.epoch) { summary = try self.summary(db, roster: roster, me: me) }
            var head = RoomHeader(id: id, name: record.name, epoch: record.epoch, head: try Hex.decode(record.head, what: "head"),
                                  forked: record.forked, forkHeads: record.forkHeads, fingerprintConfirmed: record.confirmedEpoch == record.epoch,
                                  retentionSeconds: record.retention, rotateMessages: record.rotateMessages ?? RoomPolicy.defaultRotateMessages,
                                  rotateAfterSeconds: record.rotateAfterSeconds ?? RoomPolicy.defaultRotateAfterSeconds,
                                  requirePQ: record.requirePQ ?? false, summary: summary ?? RosterSummary())
            head.left = record.left ?? false
            head.restored = record.restored ?? false
            // The contact tables are read member by member below, after the header is out: their digests are checked
            // first, so an edited keyring is refused before the first byte rather than in the middle of the listing
            // (review r: half a room, then the error; in --json, no valid document).
            try requireIntact(db, Self.contactTable, Self.historyTable, "contact_alert")
            try header(head)
            let handles = try rosterHandles(view)
            let labeler = labeler(handles)
            let alike = lookalikes(handles, me: me)
            let oldKeys = record.left == true ? [:] : try oldKeyMembers(db, isMember: view.contains)
            let changed = try changedKeys(db)
            let contacts = try contactLookup(db, members: view.count)
            let upgrades = try historyUpgrades(db)
            for (memberID, admin) in view.ordered {
                guard let card = try view.card(of: memberID) else { continue }
                let (trust, classical) = try listingFacts(db, Member(card: card, admin: admin), me: me, changedKeys: changed, upgrades: upgrades,
                                                          contacts: contacts)
                try member(MemberListing(id: memberID, handle: card.handle, label: labeler.label(memberID, card.handle), admin: admin,
                                         trust: trust, postQuantum: classical == nil, oldKeyOf: oldKeys[memberID],
                                         looksLike: alike.of[memberID, default: []].map { ($0, labeler.label($0, alike.handles[$0] ?? "")) }))
            }
        }
    }

    /// Every member's handle, in id order: read once for the labels and the look-alikes.
    private func rosterHandles(_ view: RosterView) throws -> [(id: IdentityID, handle: String)] {
        var people: [(id: IdentityID, handle: String)] = []
        people.reserveCapacity(view.count + 1)
        for (id, _) in view.ordered { if let handle = try view.handle(of: id) { people.append((id, handle)) } }
        return people
    }

    /// The members (and you) whose handles look alike, with the handle of each of them.
    private func lookalikes(_ members: [(id: IdentityID, handle: String)], me: IdentityCard)
        -> (of: [IdentityID: [IdentityID]], handles: [IdentityID: String]) {
        var people = members
        if !people.contains(where: { $0.id == me.id }) { people.append((me.id, me.handle)) }
        let of = MemberNames.lookalikes(people)
        // Only those that look like someone are ever named as looking alike.
        var handles: [IdentityID: String] = [:]
        if !of.isEmpty { for p in people where of[p.id] != nil && handles[p.id] == nil { handles[p.id] = p.handle } }
        return (of, handles)
    }

    /// The labeler of a roster: one pass over its handles to find those that collide.
    private func labeler(_ members: [(id: IdentityID, handle: String)]) -> MemberNames.Labeler {
        var first: [String: IdentityID] = [:]
        var colliding: [(id: IdentityID, handle: String)] = []
        var seen = Set<String>()
        for (id, handle) in members {
            if let other = first[handle] {
                if seen.insert(handle).inserted { colliding.append((other, handle)) }
                colliding.append((id, handle))
            } else {
                first[handle] = id
            }
        }
        return MemberNames.Labeler(colliding: colliding)
    }

    /// Members that are the older identity of a contact whose key changed, with the contact and whether its change is
    /// pending (`MembershipPlan.presence` decides). Only contacts with a key history are read.
    func oldKeyMembers(_ db: Database, isMember: (IdentityID) -> Bool) throws -> [IdentityID: (contact: String, pending: Bool)] {
        var found: [IdentityID: (contact: String, pending: Bool)] = [:]
        for tag in try contactTagsWithHistory(db) {
            guard let contact = try fetchContact(db, tag: tag) else { continue }
            let previous = try keyHistory(db, named: contact.name).map(\.card.id)
            if case let .oldKey(old, pending) = MembershipPlan.presence(isMember: isMember, current: contact.id, previous: previous,
                                                                         keyChangePending: contact.keyChanged) {
                found[old] = (contact.name, pending)
            }
        }
        return found
    }

    /// A room's record by name, or by its 32-hex-digit id, without its roster (see `findRoom`).
    func findRoomRecord(_ db: Database, _ nameOrID: String) throws -> RoomRecord {
        if nameOrID.count == 32, let bytes = try? Hex.decode(nameOrID, what: "room id"), let id = try? RoomID(bytes: bytes),
           let record = try loadRoomRecord(db, id) {
            return record
        }
        let records = try roomTags(db, named: nameOrID).compactMap { try loadRoomRecord(db, tag: $0) }.filter { $0.name == nameOrID }
        guard let first = records.first else { throw RoomError.notFound(nameOrID) }
        if records.count > 1 { throw RoomError.ambiguous(name: nameOrID, ids: records.map(\.roomID).sorted()) }
        return first
    }
}
