/// What adding a verified card under a contact name does (PROTOCOL §2.6): a pure function of the card, the name, the
/// contact stored under that name and the contact that already holds the card's identity, so the keyring only loads and
/// stores. One identity has one name: a card whose identity is a contact under another name never re-points this name
/// (a review: a member's card filed under another member's name became that member's "key change", and `room promote`
/// or `room replace` of that name then acted on the wrong person).
public struct ContactAdmission: Equatable, Sendable {
    /// What to do.
    public enum Action: Equatable, Sendable {
        /// Store a new contact.
        case add
        /// Nothing to store: the identity is already the contact `as`.
        case alreadyKnown(as: String)
        /// Nothing to store: the identity is no contact but a room member here as `handle`, so it is not the new key of
        /// the contact under this name.
        case roomMember(handle: String)
        /// Nothing to store: the stored card is this one, newer, or a version 2 card this one would downgrade.
        case unchanged
        /// Replace the stored card with a newer card of the same identity key; `upgrade` when it adds an X-Wing key.
        /// `keepsVerified` is false when the handle changed (the safety number's stable id is the handle, so the
        /// number the user compared is not this card's).
        case update(upgrade: Bool, keepsVerified: Bool)
        /// Replace a card of another identity key: a key change, marked changed and unverified.
        case keyChange(previous: IdentityID)
    }

    /// The contact name the action applies to (another contact's name when the card upgrades that contact).
    public let name: String
    /// What to do.
    public let action: Action

    /// A room membership of the card's identity, for an identity no contact holds.
    public struct Membership: Equatable, Sendable {
        /// The handle it was last a member under.
        public let handle: String

        /// A membership.
        public init(handle: String) {
            self.handle = handle
        }
    }

    /// Decides for `card` under `name`, given the card stored under `name` (if any), the contact holding the card's
    /// identity under any name (if any), a contact whose key history holds it (`former`, if any): an old key of one
    /// contact is not another contact's new key (a review: carol's replaced key under the handle "bob" became bob's),
    /// and the card's identity's room membership here (`member`, if any): a room member who is no contact (a contact
    /// removed while still in a room) is not the new key of another contact under a handle other than its membership's
    /// (a review: mallory's card with the handle "bob" became bob's key change, and `room replace` of bob then removed
    /// the real bob). Under its membership's handle it may be: another admin may have added a contact's new key first,
    /// beside the old one (the review of this rule found that refused when it also asked for no member beside it).
    public static func decide(card: IdentityCard, name: String, stored: IdentityCard?,
                              holder: (name: String, card: IdentityCard)?, former: String? = nil,
                              member: Membership? = nil) -> ContactAdmission {
        if let holder, holder.name != name {
            // The same identity under another name: a version 2 card of its version 1 card upgrades that contact under
            // its own name; anything else is already known there.
            if card.isPostQuantum, !holder.card.isPostQuantum, holder.card.signingKey == card.signingKey {
                return decide(card: card, name: holder.name, stored: holder.card, holder: holder)
            }
            return ContactAdmission(name: name, action: .alreadyKnown(as: holder.name))
        }
        if holder == nil, let former, former != name { return ContactAdmission(name: name, action: .alreadyKnown(as: former)) }
        guard let stored else { return ContactAdmission(name: name, action: .add) }
        guard stored.signingKey == card.signingKey else {
            if holder == nil, let member, member.handle != card.handle {
                return ContactAdmission(name: name, action: .roomMember(handle: member.handle))
            }
            return ContactAdmission(name: name, action: .keyChange(previous: stored.id))
        }
        if stored == card || (stored.isPostQuantum && !card.isPostQuantum) {
            return ContactAdmission(name: name, action: .unchanged)
        }
        let upgrade = card.isPostQuantum && !stored.isPostQuantum
        guard card.created > stored.created || (upgrade && card.created == stored.created) else {
            return ContactAdmission(name: name, action: .unchanged)
        }
        return ContactAdmission(name: name, action: .update(upgrade: upgrade, keepsVerified: card.handle == stored.handle))
    }
}
