/// A handle that would be shown twice in one room: an identity being added has the handle of another.
public struct HandleCollision: Equatable, Sendable {
    /// The shared handle.
    public let handle: String
    /// The identity being added.
    public let added: IdentityID
    /// The identity that has the handle already: a member, or one added before `added` in the same change.
    public let existing: IdentityID
    /// True when `existing` is a member already; false when it is being added in the same change.
    public let existingIsMember: Bool
}

/// How members are named to people: which handles collide, and the label that tells colliding members apart.
///
/// Pure rules over (id, handle) pairs, so every listing and every check applies the same ones.
public enum MemberNames {
    /// The fewest hex digits of an identity id shown next to a handle that is not unique.
    public static let shortIDDigits = 8

    /// The collisions that adding `adding` (in order) to `members` would make: each added identity whose handle
    /// a different member, or a different identity added before it, already has. An identity that is already a
    /// member, or is named twice, is not a handle collision (the membership rules decide about it). `members` are
    /// distinct identities, as in a roster: an id listed twice keeps the handle listed last.
    public static func collisions(members: [(id: IdentityID, handle: String)],
                                  adding: [(id: IdentityID, handle: String)]) -> [HandleCollision] {
        HandleIndex(members: members).collisions(adding: adding)
    }

    /// The label of each identity: its handle, or `handle (short id)` when another identity has the same handle or
    /// another's label would read the same. The short id is the first 8 hex digits of the identity id, more when
    /// two identities with the same handle share them.
    public static func labels(_ people: [(id: IdentityID, handle: String)]) -> [IdentityID: String] {
        var handleOf: [IdentityID: String] = [:]
        for p in people { handleOf[p.id] = p.handle }
        let byHandle = Dictionary(grouping: handleOf.keys, by: { handleOf[$0] ?? "" })
        var labels: [IdentityID: String] = [:]
        for (handle, ids) in byHandle where ids.count > 1 {
            let digits = distinguishingDigits(ids)
            for id in ids { labels[id] = "\(handle) (\(id.hex.prefix(digits)))" }
        }
        // A unique handle that reads like another member's label (`bob (3fa2c1d0)`) gets its own short id too.
        let suffixed = Set(labels.values)
        for (handle, ids) in byHandle where ids.count == 1 {
            let id = ids[0]
            labels[id] = suffixed.contains(handle) ? "\(handle) (\(id.shortHex))" : handle
        }
        return labels
    }

    /// For each identity whose handle looks like another identity's different handle (same UTS #39 skeleton, as
    /// "bоb" with a Cyrillic о and "bob", or "bob" with a zero-width space): those others, sorted by id.
    /// Identical handles are not listed: `labels` already tells them apart.
    public static func lookalikes(_ people: [(id: IdentityID, handle: String)]) -> [IdentityID: [IdentityID]] {
        // One skeleton per person; only skeletons that two different handles share are grouped.
        let skeletons = people.map { Lookalikes.skeleton($0.handle) }
        var firstHandle: [String: (handle: String, shared: Bool)] = [:]
        firstHandle.reserveCapacity(people.count)
        for (p, skeleton) in zip(people, skeletons) {
            if let first = firstHandle[skeleton] {
                if !first.shared, first.handle != p.handle { firstHandle[skeleton] = (first.handle, true) }
            } else {
                firstHandle[skeleton] = (p.handle, false)
            }
        }
        var bySkeleton: [String: [(id: IdentityID, handle: String)]] = [:]
        for (p, skeleton) in zip(people, skeletons) where firstHandle[skeleton]?.shared == true { bySkeleton[skeleton, default: []].append(p) }
        var found: [IdentityID: [IdentityID]] = [:]
        for group in bySkeleton.values {
            for p in group {
                let others = group.filter { $0.handle != p.handle && $0.id != p.id }.map(\.id).sorted()
                if !others.isEmpty { found[p.id] = others }
            }
        }
        return found
    }

    /// The labels of one roster met one member at a time: built from the members whose handles collide (`colliding`,
    /// every identity whose handle another one has too), it names any member exactly as `labels` over the whole
    /// roster would.
    public struct Labeler: Sendable {
        private let labels: [IdentityID: String]
        private let suffixed: Set<String>

        /// Prepares the labels of the colliding members.
        public init(colliding: [(id: IdentityID, handle: String)]) {
            labels = MemberNames.labels(colliding)
            suffixed = Set(labels.values)
        }

        /// The label of member `id` with `handle`.
        public func label(_ id: IdentityID, _ handle: String) -> String {
            if let label = labels[id] { return label }
            return suffixed.contains(handle) ? "\(handle) (\(id.shortHex))" : handle
        }
    }

    /// The fewest hex digits (at least `shortIDDigits`) that tell `ids` apart.
    static func distinguishingDigits(_ ids: [IdentityID]) -> Int {
        let hexes = ids.map(\.hex)
        var digits = shortIDDigits
        while digits < IdentityID.length * 2, Set(hexes.map { $0.prefix(digits) }).count < hexes.count { digits += 1 }
        return digits
    }
}

extension IdentityID {
    /// The first 8 hex digits: enough to tell members with the same handle apart in text.
    public var shortHex: String { String(hex.prefix(MemberNames.shortIDDigits)) }
}

extension Roster {
    /// Each member's label for listings; see `MemberNames.labels`.
    public var displayLabels: [IdentityID: String] {
        MemberNames.labels(sorted.map { ($0.id, $0.card.handle) })
    }
}
