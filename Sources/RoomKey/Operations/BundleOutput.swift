import RoomKeyCore
/// A bundle produced by a command, ready to be written for delivery.
public struct BundleOutput: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's name.
    public let roomName: String
    /// The epoch of the bundle.
    public let epoch: UInt64
    /// How many recipients it is sealed to.
    public let recipientCount: Int
    /// The bundle file's bytes.
    public let bytes: [UInt8]
}

/// Writes a bundle where it belongs (a named file or the outbox) and returns the path. It runs inside the
/// keyring transaction, so a bundle that cannot be written leaves the keyring unchanged.
public typealias BundleDelivery = (BundleOutput) throws -> String

/// What a membership change or rotation produced.
public struct CommitResult: Sendable {
    /// The room after the change.
    public let room: StoredRoom
    /// The bundle's path.
    public let bundlePath: String
    /// How many recipients the bundle is sealed to.
    public let recipientCount: Int
    /// The remote the change was staged for instead of committed (the room has a git remote, which orders its epochs:
    /// `sync` publishes the change); `room` is then unchanged and `bundlePath` empty.
    public var stagedFor: String? = nil
    /// For a member's leave request: the admin that acts on it (`LeaveRequest.designatedAdmin`), id and handle.
    public var leaveRequestFor: (id: IdentityID, handle: String)? = nil
    /// How many operations the commit (or staged change) holds: a member named twice, by name and by id, is one.
    public var operationCount = 0
}
