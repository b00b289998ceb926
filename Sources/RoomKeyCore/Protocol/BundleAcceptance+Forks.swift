/// Fork evidence (PROTOCOL §3.5): a different commit for the held epoch, or a commit for the next epoch on another
/// head of it, signed by an admin.
extension BundleAcceptance {
    /// A commit for the epoch after the accepted one that names another head for the accepted epoch: when an admin of
    /// the accepted roster signed it, that admin holds another commit for the accepted epoch, and the room forked there
    /// (a review: two admins' commits for one epoch, each delivered to one half of the room, with the same members on
    /// both branches, left the room split for good with no fork shown, the next commits only refused as unchained).
    /// Only a commit made at or after the accepted head counts: a branch resolved here earlier, replayed, holds commits
    /// made before the commits that followed the resolution, and must change nothing (a review of this rule: replaying
    /// the old branch's next commit marked a resolved room forked again). Otherwise the commit proves nothing:
    /// *rejected* as before.
    func unchained(_ commit: Commit, on state: RoomState) throws -> BundleDecision {
        guard let author = state.roster[commit.author], author.admin, commit.time >= state.headTime ?? 0,
              (try? commit.verifySignature(author.card.signingKey)) != nil else {
            throw LogError.brokenChain(epoch: commit.epoch)
        }
        return .fork(ForkEvidence(epoch: state.epoch, ours: state.head, theirs: commit.previousHead))
    }

    /// A different commit for the held epoch: fork evidence only when it and the commits after it are valid there.
    func fork(_ content: borrowing BundleContent, room: HeldRoom, conflicting commit: Commit,
              stored: Commit) throws -> BundleDecision {
        var branch: RoomState
        let branchBase: Roster
        if commit.epoch == 0 {
            // Anyone can sign a genesis of their own for a room id they saw: only the same creator signing two is a fork.
            guard commit.author == stored.author else { throw LogError.otherGenesis(held: stored.author, carried: commit.author) }
            try CommitClock.check(commit, previousTime: nil, now: now)
            branch = try RoomState.genesis(commit)
            branchBase = Roster()
        } else {
            guard let prior = try held({ try view.commit(room.roomID, epoch: commit.epoch - 1) }),
                  let roster = try held({ try view.roster(room.roomID, epoch: commit.epoch - 1) }) else {
                throw BundleError.epochUnknown(commit.epoch - 1)
            }
            guard commit.previousHead == prior.head else { throw LogError.brokenChain(epoch: commit.epoch) }
            try CommitClock.check(commit, previousTime: prior.time, now: now)
            branchBase = roster
            branch = try RoomState(at: prior, name: room.name, roster: roster).applying(commit)
        }
        var previousTime = commit.time
        var beforeLast = branchBase
        for later in content.commits where later.epoch > commit.epoch {
            try CommitClock.check(later, previousTime: previousTime, now: now)
            beforeLast = branch.roster
            branch = try branch.applying(later)
            previousTime = later.time
        }
        try checkSender(content, roster: branch.roster, leaving: beforeLast)
        return .fork(ForkEvidence(epoch: commit.epoch, ours: stored.head, theirs: commit.head))
    }
}
