/// One change an accepted commit made to its roster, as a stored replay row re-applies it (`RosterRow.replay`).
package enum RosterEffect: Equatable, Sendable {
    /// A member joins with this card and role.
    case insert(IdentityCard, admin: Bool)
    /// A member leaves.
    case remove(IdentityID)
    /// A member's role changes.
    case setAdmin(IdentityID, Bool)
}

extension Commit {
    /// The roster changes of this commit, in order, as `RoomState.apply` made them when the commit was accepted; nil for
    /// a commit that creates a room (a replay never starts before a whole roster, so it never replays a genesis).
    package var rosterEffects: [RosterEffect]? {
        var effects: [RosterEffect] = []
        effects.reserveCapacity(operations.count)
        for op in operations {
            switch op {
            case .create: return nil
            case let .add(card): effects.append(.insert(card, admin: false))
            case let .remove(id): effects.append(.remove(id))
            case let .promote(id): effects.append(.setAdmin(id, true))
            case let .demote(id): effects.append(.setAdmin(id, false))
            case .leave: effects.append(.remove(author))
            }
        }
        return effects
    }
}

/// A stored commit that cannot be replayed on the roster it is stored after: the keyring's rows disagree.
public struct RosterReplayError: Error, Equatable, Sendable {
    /// The epoch of the commit that did not apply.
    public let epoch: UInt64
}

extension Commit {
    /// Replays accepted `commits` (epochs in order, each the next after `base`): hands each effect to `apply`, which
    /// answers whether it applied. A genesis, an epoch out of order or an effect that does not apply throws.
    package static func replay(_ commits: [Commit], after base: UInt64,
                               apply: (RosterEffect) -> Bool) throws(RosterReplayError) {
        var epoch = base
        for commit in commits {
            guard commit.epoch == epoch &+ 1, let effects = commit.rosterEffects else { throw RosterReplayError(epoch: commit.epoch) }
            epoch = commit.epoch
            for effect in effects where !apply(effect) { throw RosterReplayError(epoch: epoch) }
        }
    }
}

/// A roster as a `room_epoch` row gives it: a whole row parses into it, and a replay row's commits are applied to it.
package protocol StoredRoster {
    /// Reads a whole row (the storage form, `Roster.encoded`).
    init(wholeRow bytes: [UInt8]) throws(WireError)
    /// Re-applies accepted `commits` (epochs in order after `base`) without the rules, which held when each was accepted.
    func replaying(_ commits: [Commit], from base: UInt64) throws(RosterReplayError) -> Self
    /// The roster hash of the members it holds.
    var hash: [UInt8] { get }
}

extension Roster: StoredRoster {
    /// Reads a whole row, without checking cards again (they were when their commit was accepted).
    package init(wholeRow bytes: [UInt8]) throws(WireError) { self = try Roster.parse(bytes, trustingStoredIDs: true) }

    /// Re-applies accepted `commits` (epochs in order, each the next) to this stored roster, without the rules (they
    /// held when each was accepted) and without checking cards again. Adding a member twice, changing a non-member, a
    /// genesis or an epoch out of order throws.
    package func replaying(_ commits: [Commit], from base: UInt64) throws(RosterReplayError) -> Roster {
        var roster = self
        try Commit.replay(commits, after: base) { effect in
            switch effect {
            case let .insert(card, _): guard roster[card.id] == nil else { return false }
            case let .remove(id), let .setAdmin(id, _): guard roster[id] != nil else { return false }
            }
            roster.apply(effect)
            return true
        }
        return roster
    }

    /// Makes one roster change, as it stands (a replay checks first that it applies; an undo knows that it does).
    package mutating func apply(_ effect: RosterEffect) {
        switch effect {
        case let .insert(card, admin): insert(Member(card: card, admin: admin))
        case let .remove(id): remove(id)
        case let .setAdmin(id, admin): setAdmin(id, admin)
        }
    }
}
