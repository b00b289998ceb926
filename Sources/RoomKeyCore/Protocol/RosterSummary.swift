/// How far the user trusts a room member's key, as shown wherever the user decides something about a room.
public enum MemberTrust: String, Sendable, Codable, CaseIterable {
    /// The keyring owner.
    case you
    /// A contact whose safety number was confirmed.
    case verified
    /// A contact not verified (or whose changed key was accepted without verification).
    case unverified
    /// A contact whose identity key changed and is neither verified nor accepted.
    case keyChanged = "key-changed"
    /// Not one of the user's contacts.
    case notContact = "not-a-contact"

    /// The rule: the owner is `you`; an identity in `changedKeys` (the current or an older identity of a contact whose
    /// key change is unresolved) is `key-changed`; otherwise the contact whose current identity it is decides, and
    /// anyone else is not a contact.
    public static func of(_ id: IdentityID, me: IdentityID, contact: (verified: Bool, keyChanged: Bool)?,
                          changedKeys: Set<IdentityID>) -> MemberTrust {
        if id == me { return .you }
        if changedKeys.contains(id) { return .keyChanged }
        guard let contact else { return .notContact }
        return contact.keyChanged ? .keyChanged : (contact.verified ? .verified : .unverified)
    }
}

/// What a listing of rooms shows of one room's roster, counted once and then kept up to date member by member:
/// its size, the owner's role, how many members sit in each trust class, and the members on version 1 cards.
///
/// The members on version 1 cards are kept as their entries of the storage form, one after another in id order, so a
/// commit that changes a few members of a room of 10,000 splices a few entries instead of decoding and encoding them all
/// (which cost a `room remove` in such a room about 8 ms of its one-core time).
public struct RosterSummary: Codable, Equatable, Sendable {
    /// A member whose stanza would be classical (its effective card is version 1), with the name listings use.
    public struct Classical: Codable, Equatable, Sendable {
        /// The member's identity id (stored as hex).
        public let id: IdentityID
        /// The contact name, the handle, or "you (handle)".
        public let name: String
        /// Makes an entry.
        public init(id: IdentityID, name: String) {
            self.id = id
            self.name = name
        }

        private enum CodingKeys: String, CodingKey { case id, name }

        /// Reads a JSON entry (summaries stored before the binary form): the id must be 32 hex digits.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let hex = try c.decode(String.self, forKey: .id)
            guard let id = IdentityID(hex: Array(hex.utf8)) else {
                throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "not an identity id")
            }
            self.id = id
            name = try c.decode(String.self, forKey: .name)
        }

        /// Writes a JSON entry, the id in hex.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id.hex, forKey: .id)
            try c.encode(name, forKey: .name)
        }
    }

    /// How many members.
    public private(set) var members = 0
    /// True when the keyring owner is a member.
    public var isMember = false
    /// True when the keyring owner is an admin.
    public var isAdmin = false
    /// Members per trust class (raw values of `MemberTrust`).
    public private(set) var trust: [String: Int] = [:]
    /// The members on version 1 cards as storage-form entries (`32 | id in lowercase hex | u16 length | name`), in id order.
    private var entries: [UInt8] = []
    /// Where each entry starts in `entries`.
    private var starts: [Int] = []

    /// An empty summary.
    public init() {}

    /// Members on version 1 cards, in id order.
    public var classical: [Classical] {
        // Every entry was checked when it was decoded or made: 32 lowercase hex digits, then a UTF-8 name.
        starts.indices.compactMap { i in
            let at = starts[i], end = i + 1 < starts.count ? starts[i + 1] : entries.count
            return IdentityID(hex: entries[(at + 1)..<(at + 1 + Self.hexLength)]).map {
                Classical(id: $0, name: String(decoding: entries[(at + Self.entryHeader)..<end], as: UTF8.self))
            }
        }
    }

    /// How many members are on version 1 cards.
    public var classicalCount: Int { starts.count }

    /// The ids of the members on version 1 cards, in id order.
    public var classicalIDs: [IdentityID] {
        starts.compactMap { IdentityID(hex: entries[($0 + 1)..<($0 + 1 + Self.hexLength)]) }
    }

    /// How many members are in `trust`.
    public func count(_ trust: MemberTrust) -> Int { self.trust[trust.rawValue] ?? 0 }

    /// Counts a member in: its trust class and, if its effective card is version 1, its listing name.
    public mutating func add(_ id: IdentityID, trust: MemberTrust, classicalName: String?) {
        members += 1
        self.trust[trust.rawValue, default: 0] += 1
        if let classicalName { setClassical(id, name: classicalName) }
    }

    /// Counts a member out (with the trust class it was counted in).
    public mutating func remove(_ id: IdentityID, trust: MemberTrust) {
        members = max(0, members - 1)
        let left = (self.trust[trust.rawValue] ?? 0) - 1
        self.trust[trust.rawValue] = left > 0 ? left : nil
        setClassical(id, name: nil)
    }

    /// Records that a member's effective card is version 1 (with its listing name), or not (nil).
    public mutating func setClassical(_ id: IdentityID, name: String?) {
        var w = ByteWriter(capacity: Self.hexLength)
        id.writeHex(to: &w)
        let key = w.bytes
        // Byte order of ids is the order of their lowercase hex forms, so the entries stay in id order. A member added
        // after the last one (a summary counted in id order) is appended without a search.
        let appends = starts.last.map { hexOrder(at: $0, key) < 0 } ?? true
        let index = appends ? starts.count : starts.partitionPoint { hexOrder(at: $0, key) < 0 }
        let present = index < starts.count && hexOrder(at: starts[index], key) == 0
        let at = index < starts.count ? starts[index] : entries.count
        let oldLength = present ? (index + 1 < starts.count ? starts[index + 1] : entries.count) - at : 0
        var entry: [UInt8] = []
        if let name {
            var e = ByteWriter(capacity: Self.entryHeader + name.utf8.count)
            e.writeU8(UInt8(Self.hexLength))
            e.write(key)
            e.writePrefixed(width: 2, Self.storedName(name))
            entry = e.bytes
        }
        if !present, entry.isEmpty { return }
        entries.replaceSubrange(at..<(at + oldLength), with: entry)
        switch (present, entry.isEmpty) {
        case (true, true): starts.remove(at: index)
        case (false, _): starts.insert(at, at: index)
        case (true, false): break
        }
        let shift = entry.count - oldLength
        if shift != 0 {
            for i in (index + (entry.isEmpty ? 0 : 1))..<starts.count { starts[i] += shift }
        }
    }

    /// A name's UTF-8 bytes as stored: at most 65,535, cut before a character rather than inside one (a cut character
    /// would make the whole summary unreadable).
    static func storedName(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8)
        guard bytes.count > 65_535 else { return bytes }
        var end = 65_535
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[..<end])
    }

    /// Where the entry starting at `at` sorts against the lowercase hex id `key`: negative before, 0 equal, positive after.
    private func hexOrder(at: Int, _ key: [UInt8]) -> Int {
        for i in 0..<Self.hexLength {
            let a = entries[at + 1 + i], b = key[i]
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }

    /// The hex digits of an id in an entry.
    static let hexLength = 2 * IdentityID.length
    /// The bytes of an entry before its name: the id's length byte, the id, the name's length.
    static let entryHeader = 1 + hexLength + 2

    private enum CodingKeys: String, CodingKey { case members, isMember, isAdmin, trust, classical }

    /// Reads a JSON summary (summaries stored before the binary form).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        members = try c.decode(Int.self, forKey: .members)
        isMember = try c.decode(Bool.self, forKey: .isMember)
        isAdmin = try c.decode(Bool.self, forKey: .isAdmin)
        trust = try c.decode([String: Int].self, forKey: .trust)
        for entry in try c.decode([Classical].self, forKey: .classical) { setClassical(entry.id, name: entry.name) }
    }

    /// Writes a JSON summary, the classical members as a list.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(members, forKey: .members)
        try c.encode(isMember, forKey: .isMember)
        try c.encode(isAdmin, forKey: .isAdmin)
        try c.encode(trust, forKey: .trust)
        try c.encode(classical, forKey: .classical)
    }
}

extension Array {
    /// The first index whose element fails `belongsBefore`, for an array partitioned by it (a binary search).
    func partitionPoint(_ belongsBefore: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsBefore(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension RosterSummary {
    /// The first byte of the storage form (a JSON summary starts with `{`).
    public static let storageVersion: UInt8 = 1

    /// The storage form: `01 | members (u32) | flags (u8: 1 member, 2 admin) | trust classes (u8), each name (u8-prefixed)
    /// and count (u32) | classical members (u32), each id (u8-prefixed hex) and name (u16-prefixed)`.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + 4 + entries.count)
        w.writeU8(Self.storageVersion)
        w.writeU32(UInt32(clamping: members))
        w.writeU8((isMember ? 1 : 0) | (isAdmin ? 2 : 0))
        let classes = trust.sorted { $0.key < $1.key }
        w.writeU8(UInt8(clamping: classes.count))
        for (name, count) in classes.prefix(255) {
            w.writePrefixed(width: 1, Array(name.utf8.prefix(255)))
            w.writeU32(UInt32(clamping: count))
        }
        w.writeU32(UInt32(clamping: starts.count))
        w.write(entries)
        return w.bytes
    }

    /// How many classical members the storage form lists, read from its header without decoding the list; nil for
    /// anything else. Only a size for work done ahead: `decode` is what checks the whole form.
    public static func classicalCount(_ stored: [UInt8]) -> Int? {
        header(stored)?.count
    }

    /// The storage form up to its list of classical members: the summary without that list, the list's length
    /// (bounded by the bytes left), and a reader at the list's first entry; nil for anything else.
    private static func header(_ stored: [UInt8]) -> (summary: RosterSummary, count: Int, rest: ByteReader)? {
        guard stored.first == storageVersion else { return nil }
        var r = ByteReader(stored, what: "roster summary")
        var s = RosterSummary()
        guard (try? r.readU8("version")) != nil, let members = try? r.readU32("members"), let flags = try? r.readU8("flags"),
              flags & ~3 == 0, let classes = try? r.readU8("trust classes") else { return nil }
        s.members = Int(members)
        s.isMember = flags & 1 != 0
        s.isAdmin = flags & 2 != 0
        for _ in 0..<classes {
            guard let name = try? r.readPrefixed(width: 1, "trust class", range: 1...255), let key = String(validating: name, as: UTF8.self),
                  let count = try? r.readU32("trust count"), s.trust[key] == nil else { return nil }
            s.trust[key] = Int(count)
        }
        guard let count = try? r.readU32("classical members"), Int(count) <= r.remaining / 3 else { return nil }
        return (s, Int(count), r)
    }

    /// Reads the storage form; nil for anything else (summaries stored before it are JSON, read by the keyring).
    public static func decode(_ stored: [UInt8]) -> RosterSummary? {
        guard let header = header(stored) else { return nil }
        var s = header.summary
        let first = stored.count - header.rest.remaining
        s.starts.reserveCapacity(header.count)
        // One pass that checks every entry (an id of 32 lowercase hex digits, ids in increasing order, a UTF-8 name)
        // and notes where it starts, without copying it; the entries are then kept as they are stored.
        var at = first, previous: Int?
        for _ in 0..<header.count {
            let id = (at + 1)..<(at + 1 + hexLength), nameAt = at + entryHeader
            guard nameAt <= stored.count, stored[at] == UInt8(hexLength), IdentityID(hex: stored[id]) != nil,
                  previous.map({ stored[($0 + 1)..<($0 + 1 + hexLength)].lexicographicallyPrecedes(stored[id]) }) ?? true else { return nil }
            let nameEnd = nameAt + (Int(stored[nameAt - 2]) << 8 | Int(stored[nameAt - 1]))
            guard nameEnd <= stored.count, String(validating: stored[nameAt..<nameEnd], as: UTF8.self) != nil else { return nil }
            s.starts.append(at - first)
            previous = at
            at = nameEnd
        }
        guard at == stored.count else { return nil }
        s.entries = Array(stored[first...])
        return s
    }
}
