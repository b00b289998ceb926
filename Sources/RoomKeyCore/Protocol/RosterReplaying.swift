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

extension Roster {
    /// Re-applies accepted `commits` (epochs in order, each the next) to this stored roster, without the rules (they
    /// held when each was accepted) and without checking cards again. Adding a member twice, changing a non-member, a
    /// genesis or an epoch out of order throws.
    package func replaying(_ commits: [Commit], from base: UInt64) throws(RosterReplayError) -> Roster {
        var roster = self
        var epoch = base
        for commit in commits {
            guard commit.epoch == epoch &+ 1, let effects = commit.rosterEffects else { throw RosterReplayError(epoch: commit.epoch) }
            epoch = commit.epoch
            for effect in effects {
                switch effect {
                case let .insert(card, admin):
                    guard roster[card.id] == nil else { throw RosterReplayError(epoch: epoch) }
                    roster.insert(Member(card: card, admin: admin))
                case let .remove(id):
                    guard roster[id] != nil else { throw RosterReplayError(epoch: epoch) }
                    roster.remove(id)
                case let .setAdmin(id, admin):
                    guard roster[id] != nil else { throw RosterReplayError(epoch: epoch) }
                    roster.setAdmin(id, admin)
                }
            }
        }
        return roster
    }
}
