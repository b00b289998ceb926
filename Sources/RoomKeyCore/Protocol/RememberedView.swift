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

    func room(_ id: RoomID) throws -> HeldRoom? {
        if let known = rooms[id] { return known }
        let answer = try base.room(id)
        rooms[id] = .some(answer)
        return answer
    }

    func commit(_ room: RoomID, epoch: UInt64) throws -> Commit? {
        let key = EpochKey(room: room, epoch: epoch)
        if let known = commits[key] { return known }
        let answer = try base.commit(room, epoch: epoch)
        commits[key] = .some(answer)
        return answer
    }

    func roster(_ room: RoomID, epoch: UInt64) throws -> Roster? {
        let key = EpochKey(room: room, epoch: epoch)
        if let known = rosters[key] { return known }
        let answer = try base.roster(room, epoch: epoch)
        rosters[key] = .some(answer)
        return answer
    }

    func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView? {
        let key = EpochKey(room: room, epoch: epoch)
        if let known = views[key] { return known }
        let answer = try base.rosterView(room, epoch: epoch)
        views[key] = .some(answer)
        return answer
    }

    func seenBundle(_ digest: [UInt8]) throws -> Bool { try base.seenBundle(digest) }
    func holdsEarlierSeen(_ room: RoomID) throws -> Bool { try base.holdsEarlierSeen(room) }
    func seenEarlier(_ digest: [UInt8]) throws -> Bool { try base.seenEarlier(digest) }
    func members(_ room: RoomID, epoch: UInt64) throws -> EpochMembers? { try base.members(room, epoch: epoch) }
    func contactCard(_ id: IdentityID) throws -> IdentityCard? { try base.contactCard(id) }
    func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool { try base.holdsSenderKey(key) }
}
