import Foundation
import GRDB
import RoomKeyCore

/// How far the user trusts a room member's key, as shown wherever the user decides something about a room.
public enum MemberTrust: String, Sendable {
    /// The keyring owner.
    case you
    /// A contact whose safety number was confirmed.
    case verified
    /// A contact not verified (or whose changed key was accepted without verification).
    case unverified
    /// A contact whose identity key changed and is neither verified nor accepted.
    case keyChanged = "key-changed"
    /// Not one of the user's contacts.
    case notContact = "not-a-contact"
}

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
            var changed = Set<IdentityID>()
            for contact in try keyChangedContacts(db) {
                changed.insert(contact.id)
                for old in try keyHistory(db, named: contact.name) { changed.insert(old.card.id) }
            }
            var trust: [IdentityID: MemberTrust] = [:]
            for id in room.state.roster.members.keys {
                if id == me { trust[id] = .you; continue }
                if changed.contains(id) { trust[id] = .keyChanged; continue }
                guard let contact = try fetchContact(db, id: id) else { trust[id] = .notContact; continue }
                trust[id] = contact.keyChanged ? .keyChanged : (contact.verified ? .verified : .unverified)
            }
            return (room, trust)
        }
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
            try audit(db, .fingerprintConfirm, "\(room.name) epoch \(room.state.epoch)")
            return room
        }
    }
}
