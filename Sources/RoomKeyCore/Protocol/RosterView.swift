/// A roster read from its storage form without parsing every card: member ids, and any one card on demand.
///
/// Receiving a sender-key bundle in a large room needs only the member ids and the sender's card; this view
/// finds them by walking the length prefixes of the encoding. A view of a replayed row (`RosterRow.replay`) holds the
/// cards its commits added beside the stored encoding of its base.
public struct RosterView {
    private let bytes: [UInt8]
    private var entries: [IdentityID: Entry]
    /// Member ids with their admin flag, in the canonical (id) order of the encoding.
    public private(set) var ordered: [(id: IdentityID, admin: Bool)]

    /// Where a member's card is: a range of the stored encoding, or a card a replayed commit added.
    private enum Card { case stored(Range<Int>), added(IdentityCard) }
    private struct Entry { var card: Card; var admin: Bool }

    /// The member ids.
    public var ids: Set<IdentityID> { Set(entries.keys) }
    /// How many members.
    public var count: Int { entries.count }
    /// True when `id` is a member.
    public func contains(_ id: IdentityID) -> Bool { entries[id] != nil }
    /// True when `id` is an admin.
    public func isAdmin(_ id: IdentityID) -> Bool { entries[id]?.admin == true }

    /// Indexes a roster's storage form (see `Roster.encoded`), checking every length against the bounds.
    public init(_ bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes, what: "roster")
        try r.expectVersion(Roster.storageVersion)
        let count = try r.readCount(width: 4, "member", limit: Commit.maxOperations + 1)
        var entries: [IdentityID: Entry] = [:]
        var ordered: [(id: IdentityID, admin: Bool)] = []
        entries.reserveCapacity(count)
        ordered.reserveCapacity(count)
        for _ in 0..<count {
            let id = try IdentityID(from: &r, "member id")
            let admin = try r.readU8("admin flag")
            guard admin <= 1 else { throw .invalid(what: "roster", reason: "bad admin flag") }
            ordered.append((id, admin == 1))
            let length = Int(try r.readU16("card length"))
            guard length <= IdentityCard.maxBinaryLength else {
                throw .oversized(what: "roster card", limit: IdentityCard.maxBinaryLength, found: length)
            }
            let start = bytes.count - r.remaining
            try r.skip(length, "card")
            entries[id] = Entry(card: .stored(start..<(start + length)), admin: admin == 1)
        }
        try r.finish()
        self.bytes = bytes
        self.entries = entries
        self.ordered = ordered
    }

    /// The handle on the card of member `id` (read from the card's start, without parsing the rest), or nil if `id`
    /// is not a member.
    public func handle(of id: IdentityID) throws(WireError) -> String? {
        guard let entry = entries[id] else { return nil }
        let range: Range<Int>
        switch entry.card {
        case let .added(card): return card.handle
        case let .stored(stored): range = stored
        }
        var r = ByteReader(Array(bytes[range.lowerBound..<min(range.upperBound, range.lowerBound + 2 + Handle.maxBytes)]), what: "roster card")
        _ = try r.readU8("version")
        return try Handle.decode(try r.readPrefixed(width: 1, "handle", range: 1...Handle.maxBytes))
    }

    /// The card of member `id`, or nil if `id` is not a member.
    public func card(of id: IdentityID) throws(WireError) -> IdentityCard? {
        guard let entry = entries[id] else { return nil }
        let range: Range<Int>
        switch entry.card {
        case let .added(card): return card
        case let .stored(stored): range = stored
        }
        let card = try IdentityCard.parse(Array(bytes[range]))
        guard card.id == id else { throw .invalid(what: "roster", reason: "member id does not match card") }
        return card
    }

    /// The roster hash (`Roster.hash`) of the members this view holds, from their stored card bytes, without parsing a card.
    public var hash: [UInt8] {
        var hasher = RosterHasher(count: entries.count)
        // In id order, as the storage form holds members (a whole row is written sorted; sorting again costs little).
        for (id, admin) in ordered.sorted(by: { $0.id < $1.id }) {
            switch entries[id]?.card {
            case let .stored(range)?: hasher.add(id, admin: admin, card: bytes[range])
            case let .added(card)?: hasher.add(id, admin: admin, card: card.encoded[...])
            case nil: break
            }
        }
        return hasher.finish()
    }

    /// Re-applies accepted `commits` (epochs in order after `base`) to this view, as `Roster.replaying` does to a roster.
    package func replaying(_ commits: [Commit], from base: UInt64) throws(RosterReplayError) -> RosterView {
        var view = self
        try Commit.replay(commits, after: base) { effect in
            switch effect {
            case let .insert(card, admin):
                guard view.entries[card.id] == nil else { return false }
                view.entries[card.id] = Entry(card: .added(card), admin: admin)
            case let .remove(id):
                guard view.entries.removeValue(forKey: id) != nil else { return false }
            case let .setAdmin(id, admin):
                guard view.entries[id] != nil else { return false }
                view.entries[id]?.admin = admin
            }
            return true
        }
        if !commits.isEmpty { view.ordered = view.entries.map { ($0.key, $0.value.admin) }.sorted { $0.id < $1.id } }
        return view
    }
}

extension RosterView: StoredRoster {
    /// Reads a whole row (indexes it; cards are parsed on demand).
    package init(wholeRow bytes: [UInt8]) throws(WireError) { try self.init(bytes) }
}
