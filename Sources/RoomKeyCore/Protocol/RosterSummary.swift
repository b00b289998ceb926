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
        /// The member's identity id (hex).
        public let id: String
        /// The contact name, the handle, or "you (handle)".
        public let name: String
        /// Makes an entry.
        public init(id: IdentityID, name: String) {
            self.id = id.hex
            self.name = name
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
        let hex = id.hex
        let index = classical.partitionPoint { $0.id < hex }
        let present = index < classical.count && classical[index].id == hex
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
