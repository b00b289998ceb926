import Synchronization

/// A room member: their card (as the log recorded it) and role.
public struct Member: Equatable, Sendable {
    /// The card the member was added with.
    public let card: IdentityCard
    /// True for admins, who may commit changes.
    public var admin: Bool

    /// The member's identity id.
    public var id: IdentityID { card.id }

    /// A member with `card` and role.
    package init(card: IdentityCard, admin: Bool) {
        self.card = card
        self.admin = admin
    }
}

/// The members of a room at one epoch, keyed by identity id.
public struct Roster: Equatable, Sendable {
    /// Members by id.
    public private(set) var members: [IdentityID: Member] = [:] { didSet { encoding = EncodingCache() } }
    /// The canonical member encoding, computed once per roster value (a large roster is hashed and stored once
    /// per commit); every mutation starts a fresh cache.
    private var encoding = EncodingCache()
    package static let hashDomain = Array("roomkey/roster/v1".utf8) + [0]
    package static let storageVersion: UInt8 = 1
    /// The most members a room may have (every member must fit in one bundle's stanzas).
    public static let maxMembers = 100_000

    /// An empty roster.
    public init() {}

    /// The member ids in id order, kept while every change keeps it cheaply: a roster read from storage comes in id
    /// order, and a removal keeps it. nil after an insert out of order (a new room's members, in the order given), until
    /// the roster is read again; then the order is sorted when asked for.
    private var knownOrder: [IdentityID]? = []

    /// Members sorted by id, the canonical order.
    public var sorted: [Member] { sortedIDs.compactMap { members[$0] } }
    /// Member ids in the canonical order.
    public var sortedIDs: [IdentityID] { knownOrder ?? members.keys.sorted() }

    /// Rosters are equal when their members are; the cache does not count.
    public static func == (a: Roster, b: Roster) -> Bool { a.members == b.members }
    /// How many members.
    public var count: Int { members.count }
    /// How many admins, kept as members change (a script's line or a staged intent checks it without a scan).
    public private(set) var adminCount = 0

    /// The member with `id`, if any.
    public subscript(id: IdentityID) -> Member? { members[id] }

    /// Adds or replaces a member.
    package mutating func insert(_ member: Member) {
        if let old = members.updateValue(member, forKey: member.id) {
            if old.admin { adminCount -= 1 }
        } else if knownOrder != nil {
            if knownOrder?.last.map({ $0 < member.id }) ?? true { knownOrder?.append(member.id) } else { knownOrder = nil }
        }
        if member.admin { adminCount += 1 }
    }
    /// Removes a member.
    package mutating func remove(_ id: IdentityID) {
        guard let old = members.removeValue(forKey: id) else { return }
        if old.admin { adminCount -= 1 }
        if let order = knownOrder {
            let at = Self.position(of: id, in: order)
            if at < order.count, order[at] == id { knownOrder?.remove(at: at) } else { knownOrder = nil }
        }
    }

    /// The first index of `ids` (in increasing order) whose id is not below `id`.
    private static func position(of id: IdentityID, in ids: [IdentityID]) -> Int {
        var (low, high) = (0, ids.count)
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }
    /// Sets a member's role.
    package mutating func setAdmin(_ id: IdentityID, _ admin: Bool) {
        guard let old = members[id]?.admin, old != admin else { return }
        members[id]?.admin = admin
        adminCount += admin ? 1 : -1
    }

    /// `BLAKE2b-256("roomkey/roster/v1" 00 || u32 count || per member in id order: id || admin (u8) || u16 card length || card)`.
    /// Hashes the storage form if it is kept, else the same bytes piece by piece without building it (a commit whose
    /// roster is stored as a replay never needs the megabytes of a large room's form).
    public var hash: [UInt8] {
        if let stored = encoding.bytes.withLock({ $0 }) {
            return stored.withUnsafeBytes { all in
                Self.hashDomain.withUnsafeBytes { BLAKE2b.hash(raw: [$0, UnsafeRawBufferPointer(rebasing: all.dropFirst())]) }
            }
        }
        var hasher = RosterHasher(count: members.count)
        for id in sortedIDs {
            guard let m = members[id] else { continue }
            hasher.add(id, admin: m.admin, card: m.card.encoded[...])
        }
        return hasher.finish()
    }

    /// Appends one member as the storage form (and so the hash) holds it: `id || admin (u8) || u16 card length || card`.
    package static func writeMember(_ id: IdentityID, admin: Bool, card: ArraySlice<UInt8>, to w: inout ByteWriter) {
        id.write(to: &w)
        w.writeU8(admin ? 1 : 0)
        w.writeU16(UInt16(card.count))
        w.write(card)
    }

    /// The storage form, built in one pass over the members in id order and kept: its bytes after the version are the
    /// hashed member encoding, so hashing and storing a roster share one buffer.
    private var storageForm: [UInt8] {
        if let bytes = encoding.bytes.withLock({ $0 }) { return bytes }
        let entries = sorted
        var size = 5
        for m in entries { size += IdentityID.length + 3 + m.card.encoded.count }
        var w = ByteWriter(capacity: size)
        w.writeU8(Self.storageVersion)
        w.writeU32(UInt32(members.count))
        for m in entries { Self.writeMember(m.id, admin: m.admin, card: m.card.encoded[...], to: &w) }
        let bytes = w.bytes
        encoding.bytes.withLock { $0 = bytes }
        return bytes
    }

    /// Storage form: `01 || the hashed member encoding`.
    public var encoded: [UInt8] { storageForm }

    /// Lets go of the kept storage form (megabytes for a large roster) in this value and its copies once it has been
    /// hashed and stored; asking for it again computes it again.
    package func forgetEncoding() { encoding.bytes.withLock { $0 = nil } }

    /// Reads the storage form; cards are not re-verified (they were when their commit was accepted).
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> Roster {
        try parse(bytes, trustingStoredIDs: false)
    }

    /// `parse`; with `trustingStoredIDs` (a row this keyring sealed, whose ids were checked when it was stored) each
    /// member's id is taken as stored instead of derived again from its card.
    package static func parse(_ bytes: [UInt8], trustingStoredIDs: Bool) throws(WireError) -> Roster {
        var r = ByteReader(bytes, what: "roster")
        try r.expectVersion(storageVersion)
        let count = try r.readCount(width: 4, "member", limit: Commit.maxOperations + 1)
        var roster = Roster()
        roster.members.reserveCapacity(count)
        for _ in 0..<count {
            let id = try IdentityID(from: &r, "member id")
            let admin = try r.readU8("admin flag")
            let card = try IdentityCard.parse(try r.readPrefixed(width: 2, "card", range: 1...IdentityCard.maxBinaryLength),
                                              storedID: trustingStoredIDs ? id : nil)
            guard card.id == id, admin <= 1 else { throw .invalid(what: "roster", reason: "member id does not match card") }
            roster.insert(Member(card: card, admin: admin == 1))
        }
        try r.finish()
        return roster
    }
}

/// Holds a roster's encoding once computed; a roster value and its copies share it until one of them changes.
private final class EncodingCache: Sendable {
    // Copies of a roster value share this; any of them may be read from several threads at once.
    let bytes = Mutex<[UInt8]?>(nil)
}

/// The roster hash (`Roster.hash`) fed member by member, in id order, without building the storage form: the encoding
/// after its version byte is gathered into 64 KiB pieces and hashed piece by piece.
package struct RosterHasher: ~Copyable {
    private var stream: BLAKE2b.Stream
    private var piece: ByteWriter
    /// How many bytes are gathered before they are hashed.
    private static let pieceSize = 64 * 1024

    /// Starts the hash of a roster of `count` members.
    package init(count: Int) {
        stream = BLAKE2b.Stream()
        piece = ByteWriter(capacity: Self.pieceSize + IdentityID.length + 3 + IdentityCard.maxBinaryLength)
        Roster.hashDomain.withUnsafeBytes { stream.update($0) }
        piece.writeU32(UInt32(count))
    }

    /// Adds the next member (members come in id order).
    package mutating func add(_ id: IdentityID, admin: Bool, card: ArraySlice<UInt8>) {
        Roster.writeMember(id, admin: admin, card: card, to: &piece)
        if piece.bytes.count >= Self.pieceSize {
            piece.bytes.withUnsafeBytes { stream.update($0) }
            piece.removeAll()
        }
    }

    /// The 32-byte roster hash.
    package consuming func finish() -> [UInt8] {
        piece.bytes.withUnsafeBytes { stream.update($0) }
        return stream.finish()
    }
}
