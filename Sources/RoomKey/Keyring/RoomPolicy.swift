import RoomKeyCore
/// A room's local message settings: how long superseded sender keys stay usable, and when this member's own
/// sender key rotates without a membership change (Megolm-style: after N messages or T time).
public enum RoomPolicy {
    /// Default retention of superseded keys: 72 hours.
    public static let defaultRetentionSeconds: UInt64 = 72 * 3_600
    /// Default message count after which an own sender key rotates.
    public static let defaultRotateMessages: UInt32 = 1_000
    /// Default age after which an own sender key rotates: 7 days.
    public static let defaultRotateAfterSeconds: UInt64 = 7 * 86_400
    /// The largest message limit accepted (the chain itself ends at 2^32 - 1).
    public static let maxRotateMessages: UInt32 = 1 << 30

    /// Why an own sender key must rotate before the next message, or nil when it may still be used.
    public static func rotationReason(messagesSent: UInt32, storedAt: UInt64, now: UInt64, room: StoredRoom) -> String? {
        if messagesSent >= room.rotateMessages { return "it has encrypted \(messagesSent) messages (limit \(room.rotateMessages))" }
        if now >= storedAt, now - storedAt >= room.rotateAfterSeconds {
            return "it is older than \(DurationText.format(room.rotateAfterSeconds))"
        }
        return nil
    }
}

/// What `prune` deleted.
public struct PruneResult: Sendable, Equatable {
    /// Sender keys deleted (with their ratchet state and kept message keys).
    public let senderKeys: Int
    /// Rooms in which something was deleted.
    public let rooms: Int
    /// Pending bundles deleted because they waited longer than the window.
    public var pendingBundles = 0
}
