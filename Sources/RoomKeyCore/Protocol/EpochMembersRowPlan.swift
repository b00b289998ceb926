/// Which form the `epoch_members` row of a newly stored commit takes: a pure rule, so that reading any row costs at most
/// one whole row and one delta, and a commit that changes a few members stores about 48 × √(2n) bytes on average in a
/// room of n members instead of 48 × n.
public enum EpochMembersRowPlan {
    /// What is stored for the epoch before.
    public enum Previous: Equatable, Sendable {
        /// No row, or one that cannot be built on (a room's first epoch, one not held, a row being rewritten).
        case missing
        /// A whole row of `count` members.
        case whole(count: Int)
        /// A delta.
        case delta(EpochMembersDelta)
    }

    /// The form of a row.
    public enum Form: Equatable, Sendable {
        /// Every member (the caller builds it from the epoch's roster).
        case whole
        /// The changes since the same base as the row before.
        case delta(EpochMembersDelta)
    }

    /// The form of the row for `epoch`, whose commit makes `effects` (nil for a genesis). A row already stored for
    /// `epoch` is rewritten whole (a whole row that a delta names as its base stays whole); epoch 0, a missing row
    /// before, effects that do not apply to the row before, and a delta that would list more than √(2 × its base's
    /// count) ids or at least as many as the members it gives, are written whole.
    package static func form(epoch: UInt64, previous: Previous, existing: Bool, effects: [RosterEffect]?) -> Form {
        guard epoch > 0, !existing, let effects else { return .whole }
        var working: Working
        switch previous {
        case .missing: return .whole
        case let .whole(count): working = Working(base: epoch - 1, baseCount: count)
        case let .delta(d):
            guard d.epoch == epoch - 1 else { return .whole }
            working = Working(d)
        }
        for effect in effects where !working.apply(effect) { return .whole }
        let delta = working.delta(epoch: epoch)
        let entries = delta.entries, members = delta.baseCount - delta.removed.count + delta.added.count
        guard entries * entries <= 2 * delta.baseCount, entries < members else { return .whole }
        return .delta(delta)
    }

    /// A delta being extended by one commit's effects.
    private struct Working {
        let base: UInt64
        let baseCount: Int
        var removed: Set<IdentityID> = []
        var added: [IdentityID: ArraySlice<UInt8>] = [:]

        init(base: UInt64, baseCount: Int) { (self.base, self.baseCount) = (base, baseCount) }

        init(_ d: EpochMembersDelta) {
            (base, baseCount) = (d.base, d.baseCount)
            removed = Set(d.removed)
            for (i, id) in d.added.enumerated() {
                added[id] = d.addedKeys[(i * SigningPublicKey.length)..<((i + 1) * SigningPublicKey.length)]
            }
        }

        /// Applies one effect; false when it cannot be right (a member added twice, or removed twice since the base).
        mutating func apply(_ effect: RosterEffect) -> Bool {
            switch effect {
            case let .insert(card, _):
                guard added[card.id] == nil else { return false }
                added[card.id] = card.signingKey.bytes[...]
            case let .remove(id):
                if added.removeValue(forKey: id) != nil { return true }
                guard removed.insert(id).inserted else { return false }
            case .setAdmin:
                break
            }
            return true
        }

        func delta(epoch: UInt64) -> EpochMembersDelta {
            let ids = added.keys.sorted()
            var keys: [UInt8] = []
            keys.reserveCapacity(ids.count * SigningPublicKey.length)
            for id in ids { keys += added[id] ?? [] }
            return EpochMembersDelta(base: base, epoch: epoch, baseCount: baseCount, removed: removed.sorted(), added: ids,
                                     addedKeys: keys)
        }
    }
}
