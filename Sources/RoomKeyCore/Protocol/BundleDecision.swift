/// What a receiver does with a bundle, decided from the bundle and a read-only view of its state.
public enum BundleDecision: Sendable {
    /// Store these changes.
    case apply(AcceptedBundle)
    /// These exact bytes were applied before; nothing to do.
    case duplicate
    /// Valid as far as it can be checked now; retry when something else applies, and keep it for later runs only if
    /// `keep` (a bundle for an unknown room from a stranger is retried in this run but never stored). `rank` says who
    /// vouches for it, and so how soon the pending store drops it (`WaitingRank`).
    case pending(BundleError, keep: Bool, rank: WaitingRank = .stranger)
    /// A rule failed; store nothing.
    case rejected(any RoomKeyError)
    /// Checked evidence that the room forked; only the room's fork mark may change.
    case fork(ForkEvidence)
    /// For a room this receiver left, a bundle whose commits add it again: nothing is stored; the member takes the room
    /// back only by choice (`room rejoin`), then receives the bundle again.
    case addsBack(room: String)
}

/// How a waiting bundle ranks in the pending store, by who vouches for it: when the store is full, the oldest of the
/// lowest rank goes first, and strangers together keep at most a small share.
public enum WaitingRank: Int, Sendable, Comparable {
    /// No card this receiver knows signed it.
    case stranger = 0
    /// Signed by a card this receiver knows (a contact, a card in a roster held here) of someone who is not a member of
    /// the room's current roster: a member just added whose add has not arrived, but also a contact in no room here or
    /// a member removed since, whose bundles must not push a member's out (a hostile review).
    case known = 1
    /// Signed by a member of the room's current roster (or a bundle otherwise checked as far as it can be now).
    case member = 2

    /// Lower ranks go first.
    public static func < (a: WaitingRank, b: WaitingRank) -> Bool { a.rawValue < b.rawValue }
}

/// The changes an applied bundle makes.
public struct AcceptedBundle: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's state after the carried commits; nil when only a sender key arrived.
    public let state: RoomState?
    /// The new commits, in epoch order, to store.
    public let commits: [Commit]
    /// The roster the first of `commits` produced (the others' come from `forEachRoster`): a log of 1,000 commits in a
    /// room of 10,000 kept every roster in memory until it was stored (a hostile review measured 828 MB).
    let firstRoster: Roster?
    /// For a room this receiver did not hold: the first epoch whose roster holds the receiver.
    public let joinedEpoch: UInt64?
    /// True when the bundle's sender key is new here and is to be stored.
    public let storesKey: Bool
    /// True when the receiver is in the new roster (it then owes its own new sender key).
    public let receiverIsMember: Bool
}

extension AcceptedBundle {
    /// Hands each new commit to `body` with the roster it produced, in order, holding one roster at a time: the first
    /// commit's as the rules made it, each later one's by applying that commit's effects to the one before (as a stored
    /// replay does; the rules held for each when it was accepted).
    public func forEachRoster(_ body: (Commit, Roster) throws -> Void) throws {
        guard let first = commits.first, var roster = firstRoster else { return }
        try body(first, roster)
        for commit in commits.dropFirst() {
            guard let effects = commit.rosterEffects else { throw RosterReplayError(epoch: commit.epoch) }
            for effect in effects { roster.apply(effect) }
            try body(commit, roster)
        }
    }
}

/// Two different commits for one epoch, each checked as valid on the same predecessor and properly distributed.
public struct ForkEvidence: Sendable, Equatable {
    /// The epoch both commits claim.
    public let epoch: UInt64
    /// The accepted head.
    public let ours: [UInt8]
    /// The conflicting head.
    public let theirs: [UInt8]
}
