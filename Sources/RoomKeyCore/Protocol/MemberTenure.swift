/// The epochs during which one identity was a member of a room: what decrypting a message needs from the roster of its
/// epoch and of every later one (is the sender a member then, under which handle, was it removed since), in one value.
///
/// A stay runs from the epoch of the commit that added the member (or created the room) up to, not including, the epoch
/// of the commit that removed it (or in which it left); a member's card never changes during a stay, so neither does
/// its handle. Stays are kept in epoch order and never overlap.
public struct MemberTenure: Equatable, Sendable {
    /// One continuous membership.
    public struct Stay: Equatable, Sendable {
        /// The epoch whose commit added the member.
        public let joined: UInt64
        /// The epoch whose commit removed the member; nil while it is still a member.
        public var left: UInt64?
        /// The handle of the card the member was added with.
        public let handle: String

        /// True when the member belonged to the roster of `epoch` during this stay.
        public func covers(_ epoch: UInt64) -> Bool { joined <= epoch && left.map { epoch < $0 } ?? true }
    }

    /// The member.
    public let member: IdentityID
    /// Its stays, oldest first.
    public private(set) var stays: [Stay]

    /// A member that has not joined yet.
    public init(member: IdentityID) {
        self.member = member
        self.stays = []
    }

    /// The most stays one value holds (a member added and removed this many times).
    public static let maxStays = 65_535

    /// The last epoch this tenure records a change at (nil before the first join).
    public var latestEpoch: UInt64? { stays.last.map { $0.left ?? $0.joined } }

    /// Records that the commit of `epoch` added the member with a card of `handle` (ignored while it is a member).
    private mutating func join(at epoch: UInt64, handle: String) {
        if let last = stays.last, last.left == nil { return }
        stays.append(Stay(joined: epoch, left: nil, handle: handle))
        // Beyond `maxStays` the oldest stay goes, never the current one: a member added back that often stays a member
        // (only messages from its oldest stays stop being recognised).
        if stays.count > Self.maxStays { stays.removeFirst(stays.count - Self.maxStays) }
    }

    /// Records that the commit of `epoch` removed the member, or that it left; a member added and removed by the same
    /// commit was never in a roster, so that stay is dropped.
    private mutating func leave(at epoch: UInt64) {
        guard let last = stays.indices.last, stays[last].left == nil else { return }
        if stays[last].joined >= epoch { stays.removeLast() } else { stays[last].left = epoch }
    }

    /// The stay that covers `epoch`, if the member belonged to that epoch's roster.
    public func stay(at epoch: UInt64) -> Stay? { stays.last { $0.covers(epoch) } }

    /// The decision a message needs: the sender's handle at `epoch`, after checking it was a member then and, with
    /// `everyEpoch`, in every epoch since through `current` (a member removed since is no longer believed, whatever
    /// epoch its message claims); without it, only at `epoch` and at `current`. Throws `senderNotMember` naming the
    /// first epoch at which it was not.
    public func senderHandle(at epoch: UInt64, current: UInt64, everyEpoch: Bool, room: String) throws(MessageError) -> String {
        guard let stay = stay(at: epoch) else { throw .senderNotMember(member, epoch: epoch, room: room) }
        if let left = stay.left, left <= current {
            if everyEpoch || self.stay(at: current) == nil {
                throw .senderNotMember(member, epoch: everyEpoch ? left : current, room: room)
            }
        }
        return stay.handle
    }

    /// One membership change a commit makes to one member.
    public enum Change: Equatable, Sendable {
        /// Added (or, for `create`, made the creator) with a card of this handle.
        case join(handle: String)
        /// Removed, or left.
        case leave
    }

    /// What a commit changes in its members' tenures, by member, each member's changes in operation order. The same
    /// operations `RoomState.apply` accepted: create and add bring a card, remove an id, leave the author.
    public static func changes(of commit: Commit) -> [IdentityID: [Change]] {
        var changes: [IdentityID: [Change]] = [:]
        for op in commit.operations {
            switch op {
            case let .create(_, creator): changes[creator.id, default: []].append(.join(handle: creator.handle))
            case let .add(card): changes[card.id, default: []].append(.join(handle: card.handle))
            case let .remove(id): changes[id, default: []].append(.leave)
            case .leave: changes[commit.author, default: []].append(.leave)
            case .promote, .demote: break
            }
        }
        return changes
    }

    /// Applies this member's `changes` from the commit of `epoch`. Commits apply in epoch order: one at or before
    /// `latestEpoch` was applied already and changes nothing.
    public mutating func apply(_ changes: [Change], at epoch: UInt64) {
        if let latest = latestEpoch, epoch <= latest { return }
        for change in changes {
            switch change {
            case let .join(handle): join(at: epoch, handle: handle)
            case .leave: leave(at: epoch)
            }
        }
    }
}

extension MemberTenure {
    package static let storageVersion: UInt8 = 1
    private static let open = UInt64.max

    /// Storage form: `01 || member id (16) || u16 count || per stay: u64 joined || u64 left (all ones while a member)
    /// || u8 handle length || handle`.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 1 + IdentityID.length + 2 + stays.count * 24)
        w.writeU8(Self.storageVersion)
        member.write(to: &w)
        let kept = stays.suffix(Self.maxStays)
        w.writeU16(UInt16(kept.count))
        for stay in kept {
            w.writeU64(stay.joined)
            w.writeU64(stay.left ?? Self.open)
            w.writePrefixed(width: 1, Array(stay.handle.utf8))
        }
        return w.bytes
    }

    /// Reads the storage form, checking every length and that stays are in order and do not overlap.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> MemberTenure {
        var r = ByteReader(bytes, what: "member tenure")
        try r.expectVersion(storageVersion)
        var tenure = MemberTenure(member: try IdentityID(from: &r, "member id"))
        let count = try r.readCount(width: 2, "stay", limit: maxStays)
        var floor: UInt64 = 0
        for index in 0..<count {
            let joined = try r.readU64("joined epoch")
            let leftRaw = try r.readU64("left epoch")
            let handle = try Handle.decode(try r.readPrefixed(width: 1, "handle", range: 1...Handle.maxBytes))
            let left = leftRaw == open ? nil : leftRaw
            guard joined >= floor, left.map({ $0 > joined }) ?? (index == count - 1) else {
                throw .invalid(what: "member tenure", reason: "stays out of order")
            }
            floor = left ?? open
            tenure.stays.append(Stay(joined: joined, left: left, handle: handle))
        }
        try r.finish()
        return tenure
    }
}
