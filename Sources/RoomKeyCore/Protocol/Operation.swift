/// One membership change inside a commit.
public enum Operation: Equatable, Sendable {
    /// Creates the room (epoch 0 only, first operation): its name and the creator's card; the creator becomes admin.
    case create(name: String, creator: IdentityCard)
    /// Adds a member (not an admin).
    case add(IdentityCard)
    /// Removes a member other than the author.
    case remove(IdentityID)
    /// Makes a member an admin.
    case promote(IdentityID)
    /// Makes an admin a plain member.
    case demote(IdentityID)
    /// The author, an admin, leaves the room (members ask an admin with a `LeaveRequest`).
    case leave

    package enum Tag: UInt8 { case create = 1, add, remove, promote, demote, leave }

    /// A short word for logs and JSON.
    public var verb: String {
        switch self {
        case .create: "create"
        case .add: "add"
        case .remove: "remove"
        case .promote: "promote"
        case .demote: "demote"
        case .leave: "leave"
        }
    }

    /// The identity the operation is about (the author for `leave`, which has none of its own).
    public var subject: IdentityID? {
        switch self {
        case let .create(_, creator): creator.id
        case let .add(card): card.id
        case let .remove(id), let .promote(id), let .demote(id): id
        case .leave: nil
        }
    }

    /// The number of bytes `write(to:)` appends, so a large commit is encoded into one buffer of the right size.
    package var encodedLength: Int {
        switch self {
        case let .create(name, creator): 1 + 1 + name.utf8.count + 2 + creator.encoded.count
        case let .add(card): 1 + 2 + card.encoded.count
        case .remove, .promote, .demote: 1 + IdentityID.length
        case .leave: 1
        }
    }

    package func write(to w: inout ByteWriter) {
        switch self {
        case let .create(name, creator):
            w.writeU8(Tag.create.rawValue)
            w.writePrefixed(width: 1, Array(name.utf8))
            w.writePrefixed(width: 2, creator.encoded)
        case let .add(card):
            w.writeU8(Tag.add.rawValue)
            w.writePrefixed(width: 2, card.encoded)
        case let .remove(id):
            w.writeU8(Tag.remove.rawValue)
            w.write(id.bytes)
        case let .promote(id):
            w.writeU8(Tag.promote.rawValue)
            w.write(id.bytes)
        case let .demote(id):
            w.writeU8(Tag.demote.rawValue)
            w.write(id.bytes)
        case .leave:
            w.writeU8(Tag.leave.rawValue)
        }
    }

    package static func read(from r: inout ByteReader) throws(WireError) -> Operation {
        let raw = try r.readU8("operation")
        guard let tag = Tag(rawValue: raw) else { throw .invalid(what: "operation", reason: "unknown operation \(raw)") }
        switch tag {
        case .create:
            let name = try Handle.decode(try r.readPrefixed(width: 1, "room name", range: 1...Handle.maxBytes), what: "room name")
            return .create(name: name, creator: try readCard(&r))
        case .add: return .add(try readCard(&r))
        case .remove: return .remove(try IdentityID(from: &r, "member id"))
        case .promote: return .promote(try IdentityID(from: &r, "member id"))
        case .demote: return .demote(try IdentityID(from: &r, "member id"))
        case .leave: return .leave
        }
    }

    private static func readCard(_ r: inout ByteReader) throws(WireError) -> IdentityCard {
        try IdentityCard.parse(try r.readPrefixed(width: 2, "card", range: 1...IdentityCard.maxBinaryLength))
    }
}

extension [Operation] {
    /// The cards of the `add` operations, in order.
    public var addedCards: [IdentityCard] { compactMap { if case let .add(card) = $0 { card } else { nil } } }
}
