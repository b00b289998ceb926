/// The members of one epoch as a sender-key bundle's check needs them: each member's id with its card's signing key, in
/// id order. Far smaller than the roster (48 bytes a member instead of a whole card), so a receiver checks a bundle's
/// sender, signature and recipients against it without opening the roster.
///
/// Storage form: `version (1) | count (u32) | per member in strictly increasing id order: id (16) || signing key (32)`.
public struct EpochMembers: Equatable, Sendable {
    /// The storage form's version.
    public static let storageVersion: UInt8 = 1
    /// One member's length in the storage form.
    static let entryLength = IdentityID.length + SigningPublicKey.length

    /// Member ids in increasing order.
    public let ids: [IdentityID]
    /// The members' signing keys, 32 bytes each in the order of `ids`, in one buffer (a room of 10,000 members would
    /// otherwise make 10,000 arrays each time its members are read, for the one or two keys a check asks for).
    private let keyBytes: [UInt8]

    /// The members of `roster`.
    public init(roster: Roster) {
        let sorted = roster.sorted
        ids = sorted.map(\.id)
        var keys: [UInt8] = []
        keys.reserveCapacity(sorted.count * SigningPublicKey.length)
        for member in sorted { keys += member.card.signingKey.bytes }
        keyBytes = keys
    }

    /// How many members.
    public var count: Int { ids.count }

    /// True when `id` is a member.
    public func contains(_ id: IdentityID) -> Bool { index(of: id) != nil }

    /// The signing key of member `id`'s card, nil when `id` is not a member.
    public func signingKey(of id: IdentityID) -> SigningPublicKey? {
        guard let i = index(of: id) else { return nil }
        return try? SigningPublicKey(bytes: Array(key(at: i)))
    }

    /// The signing key bytes of the member at `index` in `ids`.
    func key(at index: Int) -> ArraySlice<UInt8> {
        let start = index * SigningPublicKey.length
        return keyBytes[start..<(start + SigningPublicKey.length)]
    }

    private func index(of id: IdentityID) -> Int? {
        var low = 0, high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low < ids.count && ids[low] == id ? low : nil
    }

    /// The storage form.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 5 + ids.count * Self.entryLength)
        w.writeU8(Self.storageVersion)
        w.writeU32(UInt32(ids.count))
        for (i, id) in ids.enumerated() {
            id.write(to: &w)
            w.write(key(at: i))
        }
        return w.bytes
    }

    /// Members from ids in increasing order and their keys, 32 bytes each in the same order.
    init(ids: [IdentityID], keyBytes: [UInt8]) {
        self.ids = ids
        self.keyBytes = keyBytes
    }

    /// Parses the storage form strictly: known version, bounded count checked against the bytes before anything is
    /// allocated, ids strictly increasing (so unique), no trailing bytes.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> EpochMembers {
        var r = ByteReader(bytes, what: "epoch members")
        try r.expectVersion(storageVersion)
        let count = try r.readCount(width: 4, "member", limit: Roster.maxMembers)
        guard r.remaining == count * entryLength else {
            if r.remaining < count * entryLength {
                throw .truncated(what: "epoch members", needed: count * entryLength, available: r.remaining)
            }
            throw .trailingBytes(what: "epoch members", count: r.remaining - count * entryLength)
        }
        let (ids, keys) = try readEntries(&r, count: count, what: "epoch members")
        try r.finish()
        return EpochMembers(ids: ids, keyBytes: keys)
    }

    /// Reads `count` entries `id (16) || signing key (32)` (the caller checked that they fit), ids strictly increasing.
    static func readEntries(_ r: inout ByteReader, count: Int, what: String) throws(WireError) -> (ids: [IdentityID], keys: [UInt8]) {
        var ids: [IdentityID] = []
        var keys: [UInt8] = []
        ids.reserveCapacity(count)
        keys.reserveCapacity(count * SigningPublicKey.length)
        for _ in 0..<count {
            let id = try IdentityID(from: &r, "member id")
            if let last = ids.last, !(last < id) { throw .invalid(what: what, reason: "ids out of order") }
            // Any 32 bytes are a signing key here, as `SigningPublicKey(bytes:)` takes them; a bad one fails its verify.
            try r.read(SigningPublicKey.length, "signing key", appendingTo: &keys)
            ids.append(id)
        }
        return (ids, keys)
    }
}
