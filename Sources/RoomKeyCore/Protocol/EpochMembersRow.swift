/// How a keyring stores the members of one epoch (`epoch_members`): whole (`EpochMembers`, version 1), or as the
/// members who left and joined since the whole row of an earlier epoch (`EpochMembersDelta`, version 2). A commit in a
/// room of 10,000 members then stores the few members it changed instead of 480 KB again (a hostile review grew a
/// keyring to 540 MB with 1,000 tiny commits).
public enum EpochMembersRow: Equatable, Sendable {
    /// Every member of the epoch.
    case whole(EpochMembers)
    /// The changes since a whole row.
    case delta(EpochMembersDelta)

    /// Reads a stored row by its version byte: 1 whole, 2 a delta; any other version is refused.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> EpochMembersRow {
        guard let version = bytes.first else { throw .truncated(what: "epoch members row", needed: 1, available: 0) }
        switch version {
        case EpochMembers.storageVersion: return .whole(try EpochMembers.parse(bytes))
        case EpochMembersDelta.version: return .delta(try EpochMembersDelta.parse(bytes))
        default: throw .unknownVersion(what: "epoch members row", expected: EpochMembersDelta.version, found: version)
        }
    }

    /// The member count of a whole row, read from its header alone (its length checked against it); nil for a delta.
    public static func wholeCount(_ bytes: [UInt8]) throws(WireError) -> Int? {
        guard bytes.first == EpochMembers.storageVersion else { return nil }
        var r = ByteReader(bytes, what: "epoch members")
        _ = try r.readU8("version")
        let count = try r.readCount(width: 4, "member", limit: Roster.maxMembers)
        guard r.remaining == count * EpochMembers.entryLength else {
            throw .invalid(what: "epoch members", reason: "\(r.remaining) bytes for \(count) members")
        }
        return count
    }
}

/// The members of epoch `epoch` as changes to the whole row stored for epoch `base`: ids of base members who are not
/// members any more, and members who are not in the base (or left and came back), with their signing keys.
///
/// Encoding: `02 || u64 base || u64 epoch || u32 base count || u32 removed count || removed ids (16 each) ||
/// u32 added count || per added member: id (16) || signing key (32)`, each list in strictly increasing id order.
public struct EpochMembersDelta: Equatable, Sendable {
    /// The row version of a delta.
    public static let version: UInt8 = 2

    /// The epoch of the whole row it changes.
    public let base: UInt64
    /// The epoch it holds the members of (after `base`).
    public let epoch: UInt64
    /// How many members the base row holds (checked when it is applied).
    public let baseCount: Int
    /// Base members who are not members at `epoch`, in increasing order.
    public let removed: [IdentityID]
    /// Members at `epoch` with their signing keys (`addedKeys`, 32 bytes each), in increasing id order.
    public let added: [IdentityID]
    /// The added members' signing keys, in the order of `added`.
    let addedKeys: [UInt8]

    /// How many ids it lists.
    public var entries: Int { removed.count + added.count }

    /// A delta from sorted lists (the caller keeps them sorted and unique).
    init(base: UInt64, epoch: UInt64, baseCount: Int, removed: [IdentityID], added: [IdentityID], addedKeys: [UInt8]) {
        (self.base, self.epoch, self.baseCount) = (base, epoch, baseCount)
        (self.removed, self.added, self.addedKeys) = (removed, added, addedKeys)
    }

    /// The row bytes.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 29 + removed.count * IdentityID.length + added.count * EpochMembers.entryLength)
        w.writeU8(Self.version)
        w.writeU64(base)
        w.writeU64(epoch)
        w.writeU32(UInt32(baseCount))
        w.writeU32(UInt32(removed.count))
        for id in removed { id.write(to: &w) }
        w.writeU32(UInt32(added.count))
        for (i, id) in added.enumerated() {
            id.write(to: &w)
            w.write(addedKeys[(i * SigningPublicKey.length)..<((i + 1) * SigningPublicKey.length)])
        }
        return w.bytes
    }

    /// Parses a delta strictly: counts bounded and checked against the bytes left before anything is allocated, ids
    /// strictly increasing in each list, an epoch after its base, no trailing bytes.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> EpochMembersDelta {
        var r = ByteReader(bytes, what: "epoch members delta")
        try r.expectVersion(version)
        let base = try r.readU64("base epoch"), epoch = try r.readU64("epoch")
        guard epoch > base else { throw .invalid(what: "epoch members delta", reason: "epoch \(epoch) is not after its base \(base)") }
        let baseCount = try r.readCount(width: 4, "base member", limit: Roster.maxMembers)
        let removedCount = try r.readCount(width: 4, "removed member", limit: baseCount)
        guard r.remaining >= removedCount * IdentityID.length else {
            throw .truncated(what: "epoch members delta", needed: removedCount * IdentityID.length, available: r.remaining)
        }
        let removed = try sortedIDs(&r, count: removedCount, "removed member id")
        let addedCount = try r.readCount(width: 4, "added member", limit: Roster.maxMembers)
        guard r.remaining == addedCount * EpochMembers.entryLength else {
            if r.remaining < addedCount * EpochMembers.entryLength {
                throw .truncated(what: "epoch members delta", needed: addedCount * EpochMembers.entryLength, available: r.remaining)
            }
            throw .trailingBytes(what: "epoch members delta", count: r.remaining - addedCount * EpochMembers.entryLength)
        }
        let (added, keys) = try EpochMembers.readEntries(&r, count: addedCount, what: "epoch members delta")
        try r.finish()
        return EpochMembersDelta(base: base, epoch: epoch, baseCount: baseCount, removed: removed, added: added, addedKeys: keys)
    }

    private static func sortedIDs(_ r: inout ByteReader, count: Int, _ field: String) throws(WireError) -> [IdentityID] {
        var ids: [IdentityID] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            let id = try IdentityID(from: &r, field)
            if let last = ids.last, !(last < id) { throw .invalid(what: "epoch members delta", reason: "ids out of order") }
            ids.append(id)
        }
        return ids
    }
}

extension EpochMembers {
    /// The members `delta` gives on this base row: every removed id must be a member here and every added one must not
    /// be, unless it is removed too (a member who left and came back); the base's count must be the delta's.
    public func applying(_ delta: EpochMembersDelta) throws(WireError) -> EpochMembers {
        guard count == delta.baseCount else {
            throw .invalid(what: "epoch members delta", reason: "made on \(delta.baseCount) members, applied to \(count)")
        }
        var out: [IdentityID] = [], keys: [UInt8] = []
        let total = count - delta.removed.count + delta.added.count
        out.reserveCapacity(max(0, total))
        keys.reserveCapacity(max(0, total) * SigningPublicKey.length)
        var r = 0, a = 0, removedMatched = 0
        for (i, id) in ids.enumerated() {
            while a < delta.added.count, delta.added[a] < id {
                out.append(delta.added[a])
                keys += delta.addedKeys[(a * SigningPublicKey.length)..<((a + 1) * SigningPublicKey.length)]
                a += 1
            }
            while r < delta.removed.count, delta.removed[r] < id { r += 1 }
            let isRemoved = r < delta.removed.count && delta.removed[r] == id
            if isRemoved { removedMatched += 1 }
            if a < delta.added.count, delta.added[a] == id, !isRemoved {
                throw .invalid(what: "epoch members delta", reason: "adds a member of its base")
            }
            if !isRemoved {
                out.append(id)
                keys += key(at: i)
            }
        }
        while a < delta.added.count {
            out.append(delta.added[a])
            keys += delta.addedKeys[(a * SigningPublicKey.length)..<((a + 1) * SigningPublicKey.length)]
            a += 1
        }
        guard removedMatched == delta.removed.count else {
            throw .invalid(what: "epoch members delta", reason: "removes a member its base does not hold")
        }
        return EpochMembers(ids: out, keyBytes: keys)
    }
}
