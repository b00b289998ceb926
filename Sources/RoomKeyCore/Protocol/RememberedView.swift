/// A receiver's view that asks the one under it once per question: the same room, commit or roster asked again is
/// answered from memory. For decisions made in a row on a view that does not change between them (one transaction).
final class RememberedView<Base: ReceiverView>: ReceiverView {
    private struct EpochKey: Hashable {
        let room: RoomID
        let epoch: UInt64
    }

    private let base: Base
    private var rooms: [RoomID: HeldRoom?] = [:]
    private var commits: [EpochKey: Commit?] = [:]
    private var rosters: [EpochKey: Roster?] = [:]
    private var views: [EpochKey: RosterView?] = [:]

    /// Remembers what `base` answers.
    init(_ base: Base) { self.base = base }

    func room(_ id: RoomID) throws -> HeldRoom? { try Self.remember(&rooms, id) { try base.room(id) } }

    func commit(_ room: RoomID, epoch: UInt64) throws -> Commit? {
        try Self.remember(&commits, EpochKey(room: room, epoch: epoch)) { try base.commit(room, epoch: epoch) }
    }

    func roster(_ room: RoomID, epoch: UInt64) throws -> Roster? {
        try Self.remember(&rosters, EpochKey(room: room, epoch: epoch)) { try base.roster(room, epoch: epoch) }
    }

    func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView? {
        try Self.remember(&views, EpochKey(room: room, epoch: epoch)) { try base.rosterView(room, epoch: epoch) }
    }

    /// The answer kept for `key`, or `ask`'s, kept (a nil answer too).
    private static func remember<Key: Hashable, Value>(_ memory: inout [Key: Value?], _ key: Key,
                                                       _ ask: () throws -> Value?) throws -> Value? {
        if let known = memory[key] { return known }
        let answer = try ask()
        memory[key] = .some(answer)
        return answer
    }

    func seenBundle(_ digest: [UInt8]) throws -> Bool { try base.seenBundle(digest) }
    func holdsEarlierSeen(_ room: RoomID) throws -> Bool { try base.holdsEarlierSeen(room) }
    func seenEarlier(_ digest: [UInt8]) throws -> Bool { try base.seenEarlier(digest) }
    func members(_ room: RoomID, epoch: UInt64) throws -> EpochMembers? { try base.members(room, epoch: epoch) }
    func contactCard(_ id: IdentityID) throws -> IdentityCard? { try base.contactCard(id) }
    func memberSigningKey(_ id: IdentityID) throws -> SigningPublicKey? { try base.memberSigningKey(id) }
    func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool { try base.holdsSenderKey(key) }
}
