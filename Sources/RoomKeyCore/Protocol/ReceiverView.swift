/// What a receiver holds about one room, without its roster: the acceptance decision's starting point.
public struct HeldRoom: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's name.
    public let name: String
    /// The last accepted epoch.
    public let epoch: UInt64
    /// The accepted head.
    public let head: [UInt8]
    /// The first epoch this receiver holds (it joined then).
    public let joinedEpoch: UInt64
    /// True when this receiver left the room.
    public let left: Bool
    /// The time of the accepted head's commit, when the row keeps it (else the decision reads that commit).
    public let headTime: UInt64?
    /// True when the room is marked forked (fork evidence was recorded and no admin resolved it since).
    public let forked: Bool

    /// Describes a held room.
    public init(roomID: RoomID, name: String, epoch: UInt64, head: [UInt8], joinedEpoch: UInt64, left: Bool,
                headTime: UInt64? = nil, forked: Bool = false) {
        self.forked = forked
        self.roomID = roomID
        self.name = name
        self.epoch = epoch
        self.head = head
        self.joinedEpoch = joinedEpoch
        self.left = left
        self.headTime = headTime
    }
}

/// A read-only view of a receiver's stored state: everything the acceptance decision may consult. Storage implements
/// it over the keyring; tests implement it in memory. Errors it throws are storage failures, never rule failures.
public protocol ReceiverView {
    /// True when a bundle with this digest was applied before.
    func seenBundle(_ digest: [UInt8]) throws -> Bool
    /// True when the room holds bundles recorded before the seen digest, by the hash of the whole file.
    func holdsEarlierSeen(_ room: RoomID) throws -> Bool
    /// True when a bundle with this whole-file digest was recorded before the seen digest.
    func seenEarlier(_ digest: [UInt8]) throws -> Bool
    /// The held room, if any.
    func room(_ id: RoomID) throws -> HeldRoom?
    /// The accepted commit of an epoch, if held.
    func commit(_ room: RoomID, epoch: UInt64) throws -> Commit?
    /// The roster of an epoch, if held.
    func roster(_ room: RoomID, epoch: UInt64) throws -> Roster?
    /// The roster of an epoch as ids plus cards on demand (cheaper than `roster` for large rooms), if held.
    func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView?
    /// The members of an epoch with their signing keys (what a sender-key bundle is checked against), if held.
    func members(_ room: RoomID, epoch: UInt64) throws -> EpochMembers?
    /// A contact's current card, if the id is a contact.
    func contactCard(_ id: IdentityID) throws -> IdentityCard?
    /// The identity key of a member with this id in any roster held here (any room, any epoch), if one holds it.
    func memberSigningKey(_ id: IdentityID) throws -> SigningPublicKey?
    /// True when this sender key is held, or was held and deleted by retention.
    func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool
}

extension ReceiverView {
    /// By default, the members of the epoch's roster.
    public func members(_ room: RoomID, epoch: UInt64) throws -> EpochMembers? {
        try roster(room, epoch: epoch).map(EpochMembers.init(roster:))
    }
}
