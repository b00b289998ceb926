/// The handles of a roster's members, indexed by handle, so that checking a change for handle collisions costs what
/// the change adds, not a pass over the roster: a script of thousands of lines for one room, or a staged rebase of a
/// large intent, builds it once and keeps it up to date with `record` as each change is applied.
public struct HandleIndex: Sendable {
    private var handleOf: [IdentityID: String] = [:]
    private var holders: [String: Set<IdentityID>] = [:]

    /// An index of no one.
    public init() {}

    /// An index of `members`.
    public init(members: some Sequence<(id: IdentityID, handle: String)>) {
        for m in members { insert(m.id, m.handle) }
    }

    /// An index of the members of `roster`.
    public init(_ roster: Roster) {
        handleOf.reserveCapacity(roster.count)
        holders.reserveCapacity(roster.count)
        for m in roster.members.values { insert(m.id, m.card.handle) }
    }

    /// The collisions adding `adding` (in order) would make with the indexed members less `removed`: each added
    /// identity whose handle a remaining member has (the one with the lowest id is named), or an identity added
    /// before it. An identity that remains a member, or is named twice, is not a handle collision (the membership
    /// rules decide about it).
    public func collisions(adding: [(id: IdentityID, handle: String)], removing removed: Set<IdentityID> = []) -> [HandleCollision] {
        var added = Set<IdentityID>()
        var addedOwner: [String: IdentityID] = [:]
        var found: [HandleCollision] = []
        for a in adding {
            if handleOf[a.id] != nil && !removed.contains(a.id) { continue }
            guard added.insert(a.id).inserted else { continue }
            if let member = holders[a.handle]?.filter({ !removed.contains($0) }).min() {
                found.append(HandleCollision(handle: a.handle, added: a.id, existing: member, existingIsMember: true))
            } else if let earlier = addedOwner[a.handle] {
                found.append(HandleCollision(handle: a.handle, added: a.id, existing: earlier, existingIsMember: false))
            } else {
                addedOwner[a.handle] = a.id
            }
        }
        return found
    }

    /// The collisions the adds of `ops` make with the indexed members less the ones `ops` removes (a key swap, the old
    /// key out and the new one in, is not a collision).
    public func collisions(of ops: [Operation]) -> [HandleCollision] {
        let adding = ops.addedCards.map { (id: $0.id, handle: $0.handle) }
        if adding.isEmpty { return [] }
        var removed = Set<IdentityID>()
        for case let .remove(id) in ops { removed.insert(id) }
        return collisions(adding: adding, removing: removed)
    }

    /// Records `ops`, applied by `author`, so the index follows the roster they changed.
    public mutating func record(_ ops: [Operation], author: IdentityID) {
        for op in ops {
            switch op {
            case let .create(_, creator): insert(creator.id, creator.handle)
            case let .add(card): insert(card.id, card.handle)
            case let .remove(id): remove(id)
            case .leave: remove(author)
            case .promote, .demote: break
            }
        }
    }

    private mutating func insert(_ id: IdentityID, _ handle: String) {
        remove(id)
        handleOf[id] = handle
        holders[handle, default: []].insert(id)
    }

    private mutating func remove(_ id: IdentityID) {
        guard let handle = handleOf.removeValue(forKey: id) else { return }
        holders[handle]?.remove(id)
        if holders[handle]?.isEmpty == true { holders[handle] = nil }
    }
}
