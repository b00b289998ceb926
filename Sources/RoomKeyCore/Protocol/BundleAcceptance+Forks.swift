/// Fork evidence (PROTOCOL §3.5): a different commit for the held epoch; and a commit for the next epoch on another
/// head of it, signed by an admin, which is reported but marks nothing.
extension BundleAcceptance {
    /// A commit for the epoch after the accepted one that names another head for the accepted epoch. Signed by an admin
    /// of the accepted roster, it shows that admin holding another commit for the accepted epoch: the room may have
    /// split (a protocol review: two admins' commits for one epoch, each delivered to one half of the room, with the same
    /// members on both branches, showed nothing but "does not chain"), so the error says so. It marks nothing: a branch
    /// resolved here earlier, replayed, would otherwise freeze the room again at every replay, and no time or head tells
    /// an old branch from a live one (two reviews of a rule that marked the room). Otherwise it proves nothing.
    func unchained(_ commit: Commit, on state: RoomState) throws -> BundleDecision {
        guard let author = state.roster[commit.author], author.admin,
              (try? commit.verifySignature(author.card.signingKey)) != nil else {
            throw LogError.brokenChain(epoch: commit.epoch)
        }
        throw LogError.otherBranch(epoch: commit.epoch, author: commit.author)
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
        // A room marked forked already is not marked again (a review: each replay of the evidence wrote another audit
        // entry, though the exit code says nothing was stored; the review of that fix alternated two pieces of it).
        if room.forked {
            throw LogError.fork(epoch: commit.epoch, ours: stored.head, theirs: commit.head)
        }
        return .fork(ForkEvidence(epoch: commit.epoch, ours: stored.head, theirs: commit.head))
    }
}
