/// The acceptance rules of bundles (docs/PROTOCOL.md §3.3, §3.5, §5.4): a pure function of the bundle, its opened
/// content, the receiver's view and clock. Storage loads, asks, and stores what the decision says.
public struct BundleAcceptance<View: ReceiverView> {
    /// How many epochs ahead of a held room a bundle may wait.
    public static var maxEpochsAhead: UInt64 { 64 }
    /// The receiver's stored state.
    public let view: View
    /// The receiver's identity.
    public let receiver: IdentityID
    /// The receiver's clock (seconds since the Unix epoch).
    public let now: UInt64

    /// A decision maker over `view` for `receiver` at time `now`.
    public init(view: View, receiver: IdentityID, now: UInt64) {
        self.view = view
        self.receiver = receiver
        self.now = now
    }

    /// The largest bundle that may wait for a room of `members` members.
    public static func maxWaitingSize(members: Int) -> Int { min(1024 * 1024 + 4096 * members, 64 * 1024 * 1024) }

    /// Decides what to do with `content`, opened from a bundle whose full bytes are `size` long. `digest` is what the
    /// keyring records of it once applied (from `Bundle.seenDigest`); `earlierDigest` makes what keyrings recorded before
    /// that (from a hash of the whole file), asked only in a room that holds such records. Throws only when the view,
    /// or `earlierDigest`, fails.
    public func decide(_ content: borrowing BundleContent, digest: [UInt8], earlierDigest: () throws -> [UInt8],
                       size: Int) throws -> BundleDecision {
        do {
            return try rules(content, digest: digest, earlierDigest: earlierDigest, size: size)
        } catch let failure as ViewFailure {
            throw failure.underlying
        } catch let error as BundleError where error.category == .pending {
            return .pending(error, keep: true, rank: .member)
        } catch let error as any RoomKeyError {
            return .rejected(error)
        }
    }

    /// What the clear header settles before the payload is opened (and its commits parsed), for a sender whose card is
    /// known nowhere here: for a room not held here it waits, not kept, as `decide` would find it (`join`); for a held
    /// room more than `maxEpochsAhead` ahead it is rejected (too far ahead). Nil when the payload must be opened. A
    /// hostile review made a receiver parse a stranger's 185 MB bundle first.
    public func decideBeforeOpening(_ bundle: Bundle) throws -> BundleDecision? {
        do {
            let known = try held({ try view.contactCard(bundle.sender) }) != nil || held({ try view.memberSigningKey(bundle.sender) }) != nil
            if known { return nil }
            guard let room = try held({ try view.room(bundle.roomID) }) else { return .pending(.unknownSender(bundle.sender), keep: false) }
            // A held room's id is no secret (the remote's folder names, every bundle's header), and the header's epoch is
            // the sender's to choose: capping the commit count at epoch + 1 bounds nothing for a stranger, who sets the
            // epoch past a million. A sender known nowhere here can only make a bundle wait, and only this near (`wait`).
            if bundle.epoch > room.epoch, bundle.epoch - room.epoch > Self.maxEpochsAhead {
                return .rejected(BundleError.tooFarAhead(epoch: bundle.epoch, current: room.epoch, limit: Self.maxEpochsAhead))
            }
            return nil
        } catch let failure as ViewFailure {
            throw failure.underlying
        }
    }

    private func rules(_ content: borrowing BundleContent, digest: [UInt8], earlierDigest: () throws -> [UInt8],
                       size: Int) throws -> BundleDecision {
        let bundle = content.bundle
        if try held({ try view.seenBundle(digest) }) { return .duplicate }
        // Bundles applied before the seen digest are known by their whole-file hash. A sender key deleted by retention
        // may have been forgotten since (the ledger keeps the newest deletions), so only this keeps such a bundle out.
        if try held({ try view.holdsEarlierSeen(bundle.roomID) }) {
            let earlier = try held(earlierDigest)
            if try held({ try view.seenEarlier(earlier) }) { return .duplicate }
        }
        let commits = content.commits
        for commit in commits where commit.roomID != bundle.roomID {
            throw BundleError.roomMismatch(header: bundle.roomID, commit: commit.roomID)
        }
        for (a, b) in zip(commits, commits.dropFirst()) where a.epoch == .max || b.epoch != a.epoch + 1 { throw BundleError.commitsOutOfOrder }
        if let last = commits.last, last.epoch != bundle.epoch {
            throw BundleError.epochMismatch(header: bundle.epoch, content: last.epoch)
        }
        if let info = content.senderKeyInfo, info.epoch != bundle.epoch {
            throw BundleError.epochMismatch(header: bundle.epoch, content: info.epoch)
        }
        guard let room = try held({ try view.room(bundle.roomID) }) else { return try join(content, size: size) }
        // A room this member left takes no commit adding it back: nothing tells a re-add made after the leave from one
        // made before it (taking it, a review found, undid a member's leave without a word). Receive says so: taking
        // the room back is the member's choice (`room rejoin`).
        if room.left {
            let addsBack = commits.contains { $0.epoch > room.epoch && $0.operations.contains { if case let .add(card) = $0 { card.id == receiver } else { false } } }
            if addsBack { return .addsBack(room: room.name) }
            return try followWhileLeft(content, room: room, size: size)
        }
        return try heldRoom(content, room: room, size: size)
    }

    /// A room this member left is received as by any member (commits applied, sender keys kept, fork evidence marked),
    /// but owes no rotation. Dropping its commits made a rejoined member seal its next key to a roster an admin had
    /// removed someone from since (a review: the removed member read it), and dropping fork evidence let it rejoin a
    /// losing branch unmarked and seal to members the room never added (the next review).
    private func followWhileLeft(_ content: borrowing BundleContent, room: HeldRoom, size: Int) throws -> BundleDecision {
        let decision = try heldRoom(content, room: room, size: size)
        guard case let .apply(accepted) = decision else { return decision }
        return .apply(AcceptedBundle(roomID: accepted.roomID, state: accepted.state, commits: accepted.commits,
                                     firstRoster: accepted.firstRoster, joinedEpoch: nil,
                                     storesKey: accepted.storesKey, receiverIsMember: false))
    }

    /// The rules for a room held here: commits already accepted, then new ones, or a sender key of a held epoch.
    private func heldRoom(_ content: borrowing BundleContent, room: HeldRoom, size: Int) throws -> BundleDecision {
        let bundle = content.bundle
        let commits = content.commits
        // Commits already accepted must be byte-identical: a different one is a fork, or nothing at all. The hash chain
        // settles that without reading them; only when it does not are they compared one by one.
        let known = commits.prefix { $0.epoch <= room.epoch }
        if try !chainsToAccepted(known, room: room) {
            for commit in known {
                guard let stored = try held({ try view.commit(room.roomID, epoch: commit.epoch) }) else {
                    throw BundleError.epochUnknown(commit.epoch)
                }
                guard stored.encoded != commit.encoded else { continue }
                // Only a conflict with the accepted head can be evidence: once the room moved past an epoch, an old
                // branch (replayed after a resolution, or kept by an admin removed since) changes nothing.
                guard commit.epoch == room.epoch else { throw BundleError.staleConflict(epoch: commit.epoch, current: room.epoch) }
                return try fork(content, room: room, conflicting: commit, stored: stored)
            }
        }
        let fresh = commits.filter { $0.epoch > room.epoch }
        guard let first = fresh.first else {
            if bundle.epoch > room.epoch { return try wait(content, room: room, size: size, for: "epoch \(bundle.epoch)") }
            return try senderKey(content, room: room)
        }
        guard first.epoch == room.epoch + 1 else { return try wait(content, room: room, size: size, for: "epoch \(room.epoch + 1)") }
        // The head's time comes from the room when its row keeps it: a genesis commit carries every card, and reading
        // it only for its time costs as much as reading the roster.
        guard let roster = try held({ try view.roster(room.roomID, epoch: room.epoch) }),
              let headTime = try room.headTime ?? held({ try view.commit(room.roomID, epoch: room.epoch)?.time }) else {
            throw BundleError.epochUnknown(room.epoch)
        }
        var state = RoomState(roomID: room.roomID, name: room.name, epoch: room.epoch, head: room.head, headTime: headTime,
                              roster: roster)
        if first.previousHead != room.head { return try unchained(first, on: state) }
        if Self.addedCards(fresh) > Self.earlyRecipientsCheckAdds {
            try checkClaimedRecipients(bundle, commits: fresh, base: roster.sortedIDs)
        }
        var applied: [Commit] = []
        var firstRoster: Roster?
        var previousTime = headTime
        var beforeLast = state.roster
        for commit in fresh {
            try CommitClock.check(commit, previousTime: previousTime, now: now)
            beforeLast = state.roster
            state = try state.applying(commit)
            applied.append(commit)
            if firstRoster == nil { firstRoster = state.roster }
            previousTime = commit.time
        }
        try checkSender(content, roster: state.roster, leaving: beforeLast)
        return .apply(AcceptedBundle(roomID: room.roomID, state: state, commits: applied, firstRoster: firstRoster, joinedEpoch: nil,
                                     storesKey: content.senderKeyInfo != nil, receiverIsMember: state.roster[receiver] != nil))
    }

    /// True when `known` (consecutive carried commits, none past the room's epoch) are the accepted ones: each names
    /// the head of the one before it and the newest is the accepted commit of its epoch (the accepted head itself at
    /// the room's epoch). A head hashes its commit and the previous head, so every earlier one is then equal too.
    private func chainsToAccepted(_ known: ArraySlice<Commit>, room: HeldRoom) throws -> Bool {
        guard let newest = known.last else { return true }
        for (a, b) in zip(known, known.dropFirst()) where b.previousHead != a.head { return false }
        if newest.epoch == room.epoch { return newest.head == room.head }
        return try held({ try view.commit(room.roomID, epoch: newest.epoch) })?.encoded == newest.encoded
    }

    /// A room this receiver does not hold: only a contact can bring it, signed, with the whole log from genesis.
    private func join(_ content: borrowing BundleContent, size: Int) throws -> BundleDecision {
        let bundle = content.bundle
        guard let card = try held({ try view.contactCard(bundle.sender) }) else {
            // No room is joined through a stranger; but a stranger whose card a roster here holds must have signed it.
            if let key = try held({ try view.memberSigningKey(bundle.sender) }) { try verify(content, signer: key, id: bundle.sender) }
            return .pending(.unknownSender(bundle.sender), keep: false)
        }
        try verify(content, card: card)
        let commits = content.commits
        guard let genesis = commits.first, genesis.epoch == 0 else {
            let limit = Self.maxWaitingSize(members: 0)
            if size > limit { throw BundleError.tooLargeToWait(size: size, limit: limit) }
            // Verified under a contact's card, but no roster here holds the sender: it ranks below a held room's members.
            return .pending(.waiting("the log of room \(bundle.roomID)"), keep: true, rank: .known)
        }
        try checkClaimedRecipients(bundle, commits: commits, base: [])
        try CommitClock.check(genesis, previousTime: nil, now: now)
        var state = try RoomState.genesis(genesis)
        var applied = [genesis]
        let firstRoster = state.roster
        var joined: UInt64? = state.roster[receiver] != nil ? 0 : nil
        var beforeLast = Roster()
        for (previous, commit) in zip(commits, commits.dropFirst()) {
            try CommitClock.check(commit, previousTime: previous.time, now: now)
            beforeLast = state.roster
            state = try state.applying(commit)
            applied.append(commit)
            if joined == nil, state.roster[receiver] != nil { joined = commit.epoch }
        }
        try checkSender(content, roster: state.roster, leaving: beforeLast, verified: card.signingKey)
        return .apply(AcceptedBundle(roomID: bundle.roomID, state: state, commits: applied, firstRoster: firstRoster,
                                     joinedEpoch: joined ?? state.epoch,
                                     storesKey: content.senderKeyInfo != nil, receiverIsMember: state.roster[receiver] != nil))
    }

    /// A bundle with no new commit for an epoch this receiver holds: a sender key, new here, from a member of that epoch.
    private func senderKey(_ content: borrowing BundleContent, room: HeldRoom) throws -> BundleDecision {
        let bundle = content.bundle
        // The epoch's member ids and signing keys are all this needs: its roster's cards stay closed.
        guard let members = try held({ try view.members(room.roomID, epoch: bundle.epoch) }) else {
            throw BundleError.epochUnknown(bundle.epoch)
        }
        guard let key = members.signingKey(of: bundle.sender) else { throw BundleError.senderNotMember(bundle.sender, epoch: bundle.epoch) }
        try verify(content, signer: key, id: bundle.sender)
        try checkRecipients(bundle, isMember: members.contains, count: members.count, all: { members.ids })
        guard let info = content.senderKeyInfo else { throw BundleError.noOp(epoch: bundle.epoch) }
        if try held({ try view.holdsSenderKey(info) }) { throw BundleError.noOp(epoch: bundle.epoch) }
        return .apply(AcceptedBundle(roomID: room.roomID, state: nil, commits: [], firstRoster: nil, joinedEpoch: nil, storesKey: true,
                                     receiverIsMember: members.contains(receiver)))
    }

    /// A bundle that needs an earlier epoch first: kept only when it is near, small enough, and, whenever the sender's
    /// card is known here, signed by it.
    private func wait(_ content: borrowing BundleContent, room: HeldRoom, size: Int, for what: String) throws -> BundleDecision {
        let bundle = content.bundle
        if bundle.epoch > room.epoch, bundle.epoch - room.epoch > Self.maxEpochsAhead {
            throw BundleError.tooFarAhead(epoch: bundle.epoch, current: room.epoch, limit: Self.maxEpochsAhead)
        }
        guard let current = try held({ try view.rosterView(room.roomID, epoch: room.epoch) }) else {
            throw BundleError.epochUnknown(room.epoch)
        }
        let limit = Self.maxWaitingSize(members: current.count)
        if size > limit { throw BundleError.tooLargeToWait(size: size, limit: limit) }
        let signer = try knownSigner(bundle.sender, current: current)
        if let signer { try verify(content, signer: signer, id: bundle.sender) }
        // Only a member of the room's current roster ranks with the room's own waiting bundles; anyone else whose card is
        // known is checked the same way and ranks below them (a hostile review found a contact in no room here sending
        // bundles for the room, padded to its waiting size, that evicted a member's waiting sender key).
        let rank: WaitingRank = signer == nil ? .stranger : (try current.card(of: bundle.sender) != nil ? .member : .known)
        return .pending(.waiting("\(what) of room \(room.name)"), keep: true, rank: rank)
    }

    /// The sender's identity key if this receiver knows it: from the current roster, a contact, or any roster held here.
    private func knownSigner(_ id: IdentityID, current: RosterView) throws -> SigningPublicKey? {
        if let card = try current.card(of: id) { return card.signingKey }
        if let card = try held({ try view.contactCard(id) }) { return card.signingKey }
        return try held { try view.memberSigningKey(id) }
    }

    /// A commit that differs from the accepted one of its epoch. It is evidence of a fork only when it chains to the
    /// accepted head before it, is valid there (so its author was an admin then), every later commit it brings is valid
    /// on its branch, and the bundle is signed by its sender and sealed to exactly that branch's roster minus the sender.

    /// The sender is in `roster`, signed the bundle with that card, and sealed it to exactly the rest of `roster`. An
    /// admin whose last carried commit is its own `[leave]` signs with its card in `leaving` (the roster before that
    /// commit) and seals to the whole new roster.
    /// `verified` is the key the signature was checked under already, if it was.
    func checkSender(_ content: borrowing BundleContent, roster: Roster, leaving: Roster,
                             verified: SigningPublicKey? = nil) throws {
        let bundle = content.bundle
        let leaves = content.commits.last.map { $0.author == bundle.sender && $0.operations == [.leave] } ?? false
        guard let card = roster[bundle.sender]?.card ?? (leaves ? leaving[bundle.sender]?.card : nil) else {
            throw BundleError.senderNotMember(bundle.sender, epoch: bundle.epoch)
        }
        if roster[bundle.sender] == nil, content.senderKeyInfo != nil { throw BundleError.keyFromLeaver }
        if card.signingKey != verified { try verify(content, card: card) }
        try checkRecipients(bundle, isMember: { roster[$0] != nil }, count: roster.count, all: { roster.sortedIDs })
    }

    private func verify(_ content: borrowing BundleContent, card: IdentityCard) throws {
        try verify(content, signer: card.signingKey, id: card.id)
    }

    private func verify(_ content: borrowing BundleContent, signer: SigningPublicKey, id: IdentityID) throws {
        do { try content.verify(signer: signer) } catch { throw BundleError.badSignature(id) }
    }

    /// The stanza recipients are exactly the members minus the sender (recipients are unique: the parser checks).
    private func checkRecipients(_ bundle: Bundle, isMember: (IdentityID) -> Bool, count: Int, all: () -> [IdentityID]) throws {
        let expected = count - (isMember(bundle.sender) ? 1 : 0)
        if bundle.recipients.count == expected, bundle.recipients.allSatisfy({ $0 != bundle.sender && isMember($0) }) { return }
        let got = Set(bundle.recipients)
        let want = Set(all()).subtracting([bundle.sender])
        throw BundleError.recipientsMismatch(extra: got.subtracting(want).sorted(), missing: want.subtracting(got).sorted())
    }

    /// Runs a view call, marking its errors as storage failures rather than rule failures.
    func held<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw ViewFailure(underlying: error) }
    }
}

/// A storage error raised through the view, passed through the decision unchanged.
struct ViewFailure: Error {
    let underlying: any Error
}
