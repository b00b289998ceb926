import Foundation
import GRDB
import RoomKeyCore

/// Errors confirming a room fingerprint.
public enum FingerprintError: Error, Equatable, Sendable {
    /// The digits do not match the room's fingerprint at its current epoch.
    case mismatch(room: String, epoch: UInt64)
}

extension FingerprintError: RoomKeyError {
    /// A mismatch is a failed check.
    public var category: ErrorCategory { .rejected }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .mismatch(room, epoch): "the digits do not match the fingerprint of room \"\(room)\" at epoch \(epoch)"
        }
    }
    /// A next step.
    public var hint: String? { "compare again with the other members; a different fingerprint means a different room state" }
}

extension Keyring {
    /// The trust of every member of a room, by id.
    public func memberTrust(of nameOrID: String) throws -> (StoredRoom, [IdentityID: MemberTrust]) {
        let me = try identityCard().id
        return try read { db in
            let room = try findRoom(db, nameOrID)
            let changed = try changedKeys(db)
            var trust: [IdentityID: MemberTrust] = [:]
            for id in room.state.roster.members.keys { trust[id] = try memberTrust(db, id, me: me, changedKeys: changed) }
            return (room, trust)
        }
    }

    /// Every identity, current or older, of a contact whose key change is unresolved.
    func changedKeys(_ db: Database) throws -> Set<IdentityID> {
        var changed = Set<IdentityID>()
        for contact in try keyChangedContacts(db) {
            changed.insert(contact.id)
            for old in try keyHistory(db, named: contact.name) { changed.insert(old.card.id) }
        }
        return changed
    }

    /// The trust of one member (`MemberTrust.of` decides from the contact whose current identity it is).
    func memberTrust(_ db: Database, _ id: IdentityID, me: IdentityID, changedKeys: Set<IdentityID>) throws -> MemberTrust {
        if id == me || changedKeys.contains(id) { return MemberTrust.of(id, me: me, contact: nil, changedKeys: changedKeys) }
        let contact = try fetchContact(db, id: id)
        return MemberTrust.of(id, me: me, contact: contact.map { ($0.verified, $0.keyChanged) }, changedKeys: changedKeys)
    }

    /// Records that the room fingerprint was compared out of band at the current epoch; digits must match
    /// (spaces ignored, compared in constant time).
    public func confirmFingerprint(of nameOrID: String, digits: String) throws -> StoredRoom {
        try automaticPrune()
        return try write { db in
            var room = try findRoom(db, nameOrID)
            let typed = Array(digits.filter { !$0.isWhitespace }.utf8)
            guard ConstantTime.equals(typed, Array(room.state.fingerprint.utf8)) else {
                throw FingerprintError.mismatch(room: room.name, epoch: room.state.epoch)
            }
            room.confirmedEpoch = room.state.epoch
            if !room.confirmedEpochs.contains(room.state.epoch) { room.confirmedEpochs.append(room.state.epoch) }
            try saveRoom(db, room)
            try audit(db, .fingerprintConfirm, "\(Self.auditRoom(room.name, room.id)) epoch \(room.state.epoch)")
            return room
        }
    }
}
