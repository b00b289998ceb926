/// A roster read from its storage form without parsing every card: member ids, and any one card on demand.
///
/// Receiving a sender-key bundle in a large room needs only the member ids and the sender's card; this view
/// finds them by walking the length prefixes of the encoding.
public struct RosterView {
    private let bytes: [UInt8]
    private let cardRanges: [IdentityID: Range<Int>]
    /// Member ids with their admin flag, in the canonical (id) order of the encoding.
    public let ordered: [(id: IdentityID, admin: Bool)]

    /// The member ids.
    public var ids: Set<IdentityID> { Set(cardRanges.keys) }
    /// How many members.
    public var count: Int { cardRanges.count }
    /// True when `id` is a member.
    public func contains(_ id: IdentityID) -> Bool { cardRanges[id] != nil }

    /// Indexes a roster's storage form (see `Roster.encoded`), checking every length against the bounds.
    public init(_ bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes, what: "roster")
        try r.expectVersion(Roster.storageVersion)
        let count = try r.readCount(width: 4, "member", limit: Commit.maxOperations + 1)
        var ranges: [IdentityID: Range<Int>] = [:]
        var ordered: [(id: IdentityID, admin: Bool)] = []
        ranges.reserveCapacity(count)
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
            ranges[id] = start..<(start + length)
        }
        try r.finish()
        self.bytes = bytes
        self.cardRanges = ranges
        self.ordered = ordered
    }

    /// The handle on the card of member `id` (read from the card's start, without parsing the rest), or nil if `id`
    /// is not a member.
    public func handle(of id: IdentityID) throws(WireError) -> String? {
        guard let range = cardRanges[id] else { return nil }
        var r = ByteReader(Array(bytes[range.lowerBound..<min(range.upperBound, range.lowerBound + 2 + Handle.maxBytes)]), what: "roster card")
        _ = try r.readU8("version")
        return try Handle.decode(try r.readPrefixed(width: 1, "handle", range: 1...Handle.maxBytes))
    }

    /// The card of member `id`, or nil if `id` is not a member.
    public func card(of id: IdentityID) throws(WireError) -> IdentityCard? {
        guard let range = cardRanges[id] else { return nil }
        let card = try IdentityCard.parse(Array(bytes[range]))
        guard card.id == id else { throw .invalid(what: "roster", reason: "member id does not match card") }
        return card
    }
}
