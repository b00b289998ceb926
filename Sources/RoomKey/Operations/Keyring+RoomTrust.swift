import Foundation
import GRDB
import RoomKeyCore

/// Errors confirming a room fingerprint.
public enum FingerprintError: Error, Equatable, Sendable {
    /// The digits do not match the room's fingerprint at its current epoch.
    case mismatch(room: String, epoch: UInt64)
    /// What was typed is not 60 decimal digits (spaces aside): a typo, not a failed check.
    case notDigits(room: String, typed: String)
}

extension FingerprintError: RoomKeyError {
    /// A mismatch is a failed check; digits mistyped are a usage error (64), as for `verify --confirm`.
    public var category: ErrorCategory {
        if case .notDigits = self { return .usage }
        return .rejected
    }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .mismatch(room, epoch): "the digits do not match the fingerprint of room \"\(room)\" at epoch \(epoch)"
        case let .notDigits(_, typed):
            "--confirm takes the \(SafetyNumber.digitCount) digits of the room fingerprint; \"\(typed.prefix(80))\" is not (\(typed.count) characters)"
        }
    }
    /// A next step.
    public var hint: String? {
        switch self {
        case .mismatch: "compare again with the other members; a different fingerprint means a different room state"
        case let .notDigits(room, _):
            "give all \(SafetyNumber.digitCount) digits that '\(ShellWord.command(["room", "fingerprint"], [room]))' shows (spaces between groups are fine)"
        }
    }
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
            let compact = digits.filter { !$0.isWhitespace }
            guard compact.count == SafetyNumber.digitCount, compact.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw FingerprintError.notDigits(room: room.commandName, typed: compact)
            }
            let typed = Array(compact.utf8)
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
