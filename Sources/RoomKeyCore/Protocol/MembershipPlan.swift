/// How one contact stands in a room: under its current identity key, under an older key a key change replaced, or not at all.
public enum ContactPresence: Equatable, Sendable {
    /// Its current identity is a member.
    case current
    /// An older identity of the contact is a member and the current one is not; `pending` when the key change is
    /// neither verified nor accepted yet.
    case oldKey(IdentityID, pending: Bool)
    /// Neither its current identity nor an older one is a member.
    case absent
}

/// Why a `replace` is not allowed.
public enum ReplaceRefusal: Error, Equatable, Sendable {
    /// The contact's identity key never changed: there is nothing to replace.
    case keyNotChanged
    /// The contact's current identity is a member already (the swap was made).
    case alreadyReplaced
    /// No older identity of the contact is a member of the room.
    case oldKeyNotMember
    /// The new key is neither verified nor accepted: nothing may be sealed to it yet.
    case keyChangePending
}

/// Pure rules that turn what a user asks for into the operations of one commit: key-change replacement, the
/// declarative roster diff, and which identities keys may not be sealed to while a key change is pending.
public enum MembershipPlan {
    /// Where a contact with identity `current` and older identities `previous` (oldest first) stands in `roster`.
    /// When several older identities are members, the newest of them is named.
    public static func presence(roster: Roster, current: IdentityID, previous: [IdentityID], keyChangePending: Bool) -> ContactPresence {
        presence(isMember: { roster[$0] != nil }, current: current, previous: previous, keyChangePending: keyChangePending)
    }

    /// The same, for a roster known only through `isMember` (a lazy `RosterView`).
    public static func presence(isMember: (IdentityID) -> Bool, current: IdentityID, previous: [IdentityID],
                                keyChangePending: Bool) -> ContactPresence {
        if isMember(current) { return .current }
        if let old = previous.last(where: isMember) { return .oldKey(old, pending: keyChangePending) }
        return .absent
    }

    /// The key-change rule for sealing: of `recipients`, the identities keys may not be sealed to, in the order given.
    /// Only the *new* key of a contact whose change is pending (`pendingNewKeys`) is blocked; an older key the roster
    /// holds is what the room already sealed to, so removals, rotations and offboarding go on.
    public static func unsealable(recipients: [IdentityID], pendingNewKeys: Set<IdentityID>) -> [IdentityID] {
        recipients.filter { pendingNewKeys.contains($0) }
    }

    /// The operations that swap a contact's older identities in `roster` for its current card `new`, in one commit:
    /// add the new card, promote it if an old identity was an admin, then remove every old identity.
    public static func replace(roster: Roster, new: IdentityCard, previous: [IdentityID],
                               keyChangePending: Bool) throws(ReplaceRefusal) -> [Operation] {
        let old = previous.filter { $0 != new.id && roster[$0] != nil }
        if previous.isEmpty { throw .keyNotChanged }
        if old.isEmpty { throw roster[new.id] != nil ? .alreadyReplaced : .oldKeyNotMember }
        if keyChangePending { throw .keyChangePending }
        var ops: [Operation] = roster[new.id] == nil ? [.add(new)] : []
        let wasAdmin = old.contains { roster[$0]?.admin == true }
        if wasAdmin, roster[new.id]?.admin != true { ops.append(.promote(new.id)) }
        ops += old.map { .remove($0) }
        return ops
    }

    /// The operations that make `roster` hold exactly `members` (plus `author`, who always stays), as one commit:
    /// adds (in the order given), promotions, demotions, then removals (each in id order).
    ///
    /// With `admins`, the admins become exactly those (an id in `admins` that is not among `members` is ignored: pass
    /// its card in `members` too) and the author keeps its role; without, members who stay keep their roles, and added members are plain members, except that an
    /// identity added in place of an admin (`successors`: old id -> new id) becomes an admin. Because the author
    /// stays an admin, an admin always remains. An empty result means the roster is already as asked.
    public static func operations(from roster: Roster, members: [IdentityCard], admins: Set<IdentityID>? = nil,
                                  author: IdentityID, successors: [IdentityID: IdentityID] = [:]) -> [Operation] {
        var wanted: [IdentityCard] = []
        var seen: Set<IdentityID> = [author]
        for card in members where seen.insert(card.id).inserted { wanted.append(card) }
        let wantedIDs = seen
        var adds: [Operation] = []
        for card in wanted where roster[card.id] == nil { adds.append(.add(card)) }
        let removed = roster.sortedIDs.filter { !wantedIDs.contains($0) }
        var targetAdmin: [IdentityID: Bool] = [:]
        for id in wantedIDs where id != author {
            if let admins {
                targetAdmin[id] = admins.contains(id)
            } else if let m = roster[id] {
                targetAdmin[id] = m.admin
            } else {
                targetAdmin[id] = successors.contains { old, new in new == id && roster[old]?.admin == true && removed.contains(old) }
            }
        }
        var promotions: [Operation] = []
        var demotions: [Operation] = []
        for id in targetAdmin.keys.sorted() {
            let now = roster[id]?.admin ?? false
            let want = targetAdmin[id] ?? false
            if want, !now { promotions.append(.promote(id)) }
            if !want, now { demotions.append(.demote(id)) }
        }
        return adds + promotions + demotions + removed.map { .remove($0) }
    }
}
