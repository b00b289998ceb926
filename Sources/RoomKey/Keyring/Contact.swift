import RoomKeyCore
/// A contact: a name the user chose for someone else's identity card, and what the user knows of it.
public struct Contact: Sendable, Equatable {
    /// The local name (defaults to the card's handle).
    public let name: String
    /// The contact's current card.
    public let card: IdentityCard
    /// True once the user confirmed the safety number for this identity key.
    public let verified: Bool
    /// True when a card with a different identity key replaced an earlier one under this name.
    public let keyChanged: Bool
    /// When the contact was first added (seconds since the epoch).
    public let added: UInt64

    /// The contact's identity id.
    public var id: IdentityID { card.id }
}

/// What `addContacts` did with one card.
public enum ContactAddOutcome: Sendable, Equatable {
    /// A new contact was stored.
    case added
    /// The same card was already stored under this name.
    case unchanged
    /// A newer card for the same identity key replaced the stored one.
    case updated
    /// A version 2 (post-quantum) card for the same identity key replaced a version 1 card: an upgrade, not a key change.
    case upgraded
    /// The name held a different identity key: it was replaced, marked changed and unverified.
    case keyChanged(previous: IdentityID)
    /// The identity is already a contact under another name; nothing was stored.
    case alreadyKnown(as: String)
    /// The identity is no contact but a room member here under `handle`, not the new key of the contact under the name;
    /// nothing was stored.
    case roomMember(handle: String)
}

/// The result of adding one card.
public struct ContactAddResult: Sendable, Equatable {
    /// The contact name the card was filed under.
    public let name: String
    /// The card's identity id.
    public let id: IdentityID
    /// What happened.
    public let outcome: ContactAddOutcome
    /// Why the name may be mistaken for another (stored anyway, as `allowConfusable` was given); empty when not.
    public var lookalikes: [String] = []
}

/// Errors about contacts.
public enum ContactError: Error, Equatable, Sendable {
    /// No contact has this name.
    case notFound(name: String)
    /// `--as NAME` was given with more than one card.
    case nameForManyCards(count: Int)
    /// The input held no card.
    case noCards
    /// The card is the keyring owner's own.
    case ownCard
    /// Two cards in one input claim the same name with different identity keys.
    case conflictingCards(name: String)
    /// A card's name looks like a known name or mixes scripts, and `--allow-confusable` was not given; one clause each.
    case lookalike(descriptions: [String])
}

extension ContactError: RoomKeyError {
    /// The exit-code category.
    public var category: ErrorCategory {
        switch self {
        case .notFound: .notFound
        case .nameForManyCards: .usage
        case .noCards, .conflictingCards: .malformed
        case .ownCard: .usage
        case .lookalike: .refused
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .notFound(name): "no contact named \"\(name)\""
        case let .nameForManyCards(count): "--as names one card, but the input holds \(count)"
        case .noCards: "the input holds no identity card"
        case .ownCard: "this is your own identity card"
        case let .conflictingCards(name): "the input holds two different identity keys for \"\(name)\""
        case let .lookalike(descriptions): "nothing stored: " + descriptions.joined(separator: "; ")
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .notFound: "list contacts with 'roomkey contact list'"
        case .nameForManyCards: "add the cards one at a time, or without --as"
        case .lookalike: "check the card with its owner; to store it anyway, run again with --allow-confusable (or pick a name with --as)"
        default: nil
        }
    }
}
