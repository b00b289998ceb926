import Foundation
import GRDB
import RoomKeyCore

/// Errors in room settings.
public enum RoomSettingError: Error, Equatable, Sendable {
    /// `room set` was given nothing to change.
    case nothingToSet
    /// The message limit is outside 1...`RoomPolicy.maxRotateMessages`.
    case rotateMessagesOutOfRange(UInt64)
    /// A rotation age of zero.
    case rotateAfterZero
}

extension RoomSettingError: RoomKeyError {
    /// Always a usage error.
    public var category: ErrorCategory { .usage }

    /// A one-line description.
    public var message: String {
        switch self {
        case .nothingToSet: "nothing to set"
        case let .rotateMessagesOutOfRange(n): "--rotate-messages must be between 1 and \(RoomPolicy.maxRotateMessages), not \(n)"
        case .rotateAfterZero: "--rotate-after must be longer than zero"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .nothingToSet: "give --retention, --rotate-messages or --rotate-after"
        default: nil
        }
    }
}

/// A room's local message settings.
extension Keyring {
    /// Changes the retention window and the rotation policy of a room (local settings, not shared with the other
    /// members), then prunes what a shorter window has expired. Returns the room and what was pruned.
    public func setRoomPolicy(room nameOrID: String, retentionSeconds: UInt64?, rotateMessages: UInt64?,
                              rotateAfterSeconds: UInt64?) throws -> (StoredRoom, PruneResult) {
        if retentionSeconds == nil && rotateMessages == nil && rotateAfterSeconds == nil { throw RoomSettingError.nothingToSet }
        if let n = rotateMessages, n < 1 || n > UInt64(RoomPolicy.maxRotateMessages) { throw RoomSettingError.rotateMessagesOutOfRange(n) }
        if rotateAfterSeconds == 0 { throw RoomSettingError.rotateAfterZero }
        let room = try write { db in
            var room = try findRoom(db, nameOrID)
            if let retentionSeconds { room.retentionSeconds = retentionSeconds }
            if let rotateMessages { room.rotateMessages = UInt32(rotateMessages) }
            if let rotateAfterSeconds { room.rotateAfterSeconds = rotateAfterSeconds }
            try saveRoom(db, room)
            // Every keyring change is in the audit log (PROTOCOL §7); these settings were not (an interop review).
            let set = [retentionSeconds.map { "retention \($0)s" }, rotateMessages.map { "rotate-messages \($0)" },
                       rotateAfterSeconds.map { "rotate-after \($0)s" }].compactMap { $0 }
            try audit(db, .roomPolicy, "\(Self.auditRoom(room.name, room.id)) " + set.joined(separator: ", "))
            return room
        }
        return (room, try pruneExpired())
    }
}
