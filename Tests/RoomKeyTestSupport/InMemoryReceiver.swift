import RoomKeyCore

/// A receiver's stored state held in dictionaries, for testing the acceptance decision (`BundleAcceptance`) without
/// a keyring, as libsignal tests its protocol over in-memory stores.
package struct InMemoryReceiver: ReceiverView {
    /// A room and one of its epochs.
    package struct EpochKey: Hashable, Sendable {
        package let room: RoomID
        package let epoch: UInt64
        package init(_ room: RoomID, _ epoch: UInt64) {
            self.room = room
            self.epoch = epoch
        }
    }

    /// What names a held sender key (the keyring's tag covers the room, owner and key id).
    package struct SenderKeyName: Hashable, Sendable {
        package let room: RoomID
        package let owner: IdentityID
        package let keyID: [UInt8]
        package init(_ info: SenderKeyInfo) {
            room = info.roomID
            owner = info.owner
            keyID = info.keyID
        }
    }

    /// A lookup failure standing in for a storage error.
    package struct StorageFailure: Error, Equatable {
        package init() {}
    }

    /// Digests of bundles applied before.
    package var seenDigests: Set<[UInt8]> = []
    /// Whole-file digests recorded before the seen digest, and the rooms that hold any.
    package var earlierDigests: Set<[UInt8]> = []
    package var earlierRooms: Set<RoomID> = []
    /// Held rooms.
    package var rooms: [RoomID: HeldRoom] = [:]
    /// Accepted commits by room and epoch.
    package var commits: [EpochKey: Commit] = [:]
    /// Rosters by room and epoch.
    package var rosters: [EpochKey: Roster] = [:]
    /// Contact cards by id.
    package var contacts: [IdentityID: IdentityCard] = [:]
    /// Sender keys held (or held and deleted by retention).
    package var senderKeys: Set<SenderKeyName> = []
    /// When true, every lookup throws `StorageFailure`.
    package var failing = false

    /// An empty receiver: no rooms, no contacts, nothing seen.
    package init() {}

    /// Holds the room `log` defines, replayed from genesis by the core's rules: its commits and rosters from epoch
    /// `storedFrom` on (default `joinedEpoch`), and the room record at the log's last epoch.
    package mutating func hold(_ log: [Commit], joinedEpoch: UInt64 = 0, storedFrom: UInt64? = nil, left: Bool = false) throws {
        guard let first = log.first else { return }
        var state = try RoomState.genesis(first)
        var states = [(first, state)]
        for commit in log.dropFirst() {
            state = try state.applying(commit)
            states.append((commit, state))
        }
        for (commit, after) in states where commit.epoch >= storedFrom ?? joinedEpoch {
            commits[EpochKey(after.roomID, commit.epoch)] = commit
            rosters[EpochKey(after.roomID, commit.epoch)] = after.roster
        }
        rooms[state.roomID] = HeldRoom(roomID: state.roomID, name: state.name, epoch: state.epoch, head: state.head,
                                       joinedEpoch: joinedEpoch, left: left, headTime: state.headTime)
    }

    /// Drops the head's time from a held room, as a room row written before it was kept holds none.
    package mutating func forgetHeadTime(_ id: RoomID) {
        guard let r = rooms[id] else { return }
        rooms[id] = HeldRoom(roomID: r.roomID, name: r.name, epoch: r.epoch, head: r.head, joinedEpoch: r.joinedEpoch, left: r.left)
    }

    /// Marks a held room forked, as `markFork` records evidence.
    package mutating func markForked(_ id: RoomID) {
        guard let r = rooms[id] else { return }
        rooms[id] = HeldRoom(roomID: r.roomID, name: r.name, epoch: r.epoch, head: r.head, joinedEpoch: r.joinedEpoch, left: r.left,
                             headTime: r.headTime, forked: true)
    }

    /// Adds a contact.
    package mutating func addContact(_ card: IdentityCard) { contacts[card.id] = card }

    /// Records a bundle digest as applied.
    package mutating func markSeen(_ digest: [UInt8]) { seenDigests.insert(digest) }

    /// Records a bundle as applied before the seen digest: by its whole-file digest, in `room`.
    package mutating func markSeenEarlier(_ digest: [UInt8], room: RoomID) {
        earlierDigests.insert(digest)
        earlierRooms.insert(room)
    }

    /// Records a sender key as held.
    package mutating func holdSenderKey(_ info: SenderKeyInfo) { senderKeys.insert(SenderKeyName(info)) }

    private func check() throws {
        if failing { throw StorageFailure() }
    }

    package func seenBundle(_ digest: [UInt8]) throws -> Bool {
        try check()
        return seenDigests.contains(digest)
    }

    package func holdsEarlierSeen(_ room: RoomID) throws -> Bool {
        try check()
        return earlierRooms.contains(room)
    }

    package func seenEarlier(_ digest: [UInt8]) throws -> Bool {
        try check()
        return earlierDigests.contains(digest)
    }

    package func room(_ id: RoomID) throws -> HeldRoom? {
        try check()
        return rooms[id]
    }

    package func commit(_ room: RoomID, epoch: UInt64) throws -> Commit? {
        try check()
        return commits[EpochKey(room, epoch)]
    }

    package func roster(_ room: RoomID, epoch: UInt64) throws -> Roster? {
        try check()
        return rosters[EpochKey(room, epoch)]
    }

    package func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView? {
        try check()
        return try rosters[EpochKey(room, epoch)].map { try RosterView($0.encoded) }
    }

    package func contactCard(_ id: IdentityID) throws -> IdentityCard? {
        try check()
        return contacts[id]
    }

    package func memberSigningKey(_ id: IdentityID) throws -> SigningPublicKey? {
        try check()
        return rosters.values.lazy.compactMap { $0[id]?.card.signingKey }.first
    }

    package func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool {
        try check()
        return senderKeys.contains(SenderKeyName(key))
    }
}
