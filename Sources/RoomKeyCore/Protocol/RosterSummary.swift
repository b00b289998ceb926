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
    /// Members on version 1 cards, in id order.
    public private(set) var classical: [Classical] = []

    /// An empty summary.
    public init() {}

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
        // Byte order of ids is the order of their lowercase hex forms: the stored order is unchanged.
        let index = classical.partitionPoint { $0.id < id }
        let present = index < classical.count && classical[index].id == id
        switch (present, name) {
        case (true, nil): classical.remove(at: index)
        case let (true, name?): classical[index] = Classical(id: id, name: name)
        case let (false, name?): classical.insert(Classical(id: id, name: name), at: index)
        case (false, nil): break
        }
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
        var w = ByteWriter(capacity: 16 + classical.count * 48)
        w.writeU8(Self.storageVersion)
        w.writeU32(UInt32(clamping: members))
        w.writeU8((isMember ? 1 : 0) | (isAdmin ? 2 : 0))
        let classes = trust.sorted { $0.key < $1.key }
        w.writeU8(UInt8(clamping: classes.count))
        for (name, count) in classes.prefix(255) {
            w.writePrefixed(width: 1, Array(name.utf8.prefix(255)))
            w.writeU32(UInt32(clamping: count))
        }
        w.writeU32(UInt32(clamping: classical.count))
        for entry in classical {
            w.writeU8(UInt8(IdentityID.length * 2))
            entry.id.writeHex(to: &w)
            w.writePrefixed(width: 2, Array(entry.name.utf8.prefix(65_535)))
        }
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
        var s = header.summary, r = header.rest
        s.classical.reserveCapacity(header.count)
        for _ in 0..<header.count {
            guard let hex = try? r.readPrefixed(width: 1, "member id", range: 0...255), let id = IdentityID(hex: hex),
                  let name = try? r.readPrefixed(width: 2, "member name", range: 0...65_535),
                  let text = String(validating: name, as: UTF8.self) else { return nil }
            s.classical.append(Classical(id: id, name: text))
        }
        guard (try? r.finish()) != nil else { return nil }
        return s
    }
}
