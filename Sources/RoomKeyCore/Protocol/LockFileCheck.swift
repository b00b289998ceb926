/// Whether sync may overwrite the file at a log lock path `rooms/<room>/log/<epoch>.roomkey` (docs/PROTOCOL.md §9.3):
/// only when it fails a check that every receiver makes the same way. A commit that is validly signed by an admin of
/// the previous epoch and chains to the same previous head is never overwritten, even when this keyring cannot apply
/// it (its clock, a stanza it cannot open, a wait): members with other clocks or keys may have applied it.
public enum LockFileCheck {
    /// What this keyring could read of the file.
    public enum Found: Sendable {
        /// Not a bundle, or a bundle whose opened content does not parse (why).
        case unparsable(String)
        /// A bundle this keyring cannot open: it has no stanza here, or the stanza does not open (why).
        case sealed(Bundle, String)
        /// A bundle opened here, with the commits it carries (nothing checked yet).
        case opened(Bundle, commits: [Commit])
    }

    /// What precedes the lock's epoch.
    public enum Base: Sendable {
        /// Epoch 0: the creator of the accepted genesis (only that creator can make another, a fork).
        case genesis(creator: IdentityID)
        /// The accepted state at `epoch - 1` and the time of its commit.
        case after(RoomState, time: UInt64)
    }

    /// The verdict.
    public enum Verdict: Equatable, Sendable {
        /// It carries exactly the commit expected at that epoch (same head hash) and passes every check.
        case expected
        /// It fails a check that does not depend on the receiver: it may be overwritten (why, one line).
        case replace(String)
        /// A commit that may be valid for other receivers: keep it (why this keyring cannot take it, one line).
        case keep(String)
    }

    /// Whether this keyring's stanza in a bundle that did not open here shows that the file is not what its sender
    /// sealed (docs/PROTOCOL.md §9.5): the stanza opened and the payload did not; it is a sealed box (to the identity's
    /// X25519 key, which never changes); or it is an X-Wing stanza and `rosterHoldsCurrentKey` (the roster before the
    /// epoch holds a version 2 card for this keyring with the X-Wing key it holds now: every sender seals to a version
    /// 2 roster card's key, §5.1). Otherwise an X-Wing stanza that does not open proves nothing: it may be sealed to a
    /// key this keyring no longer holds (a restore from before `id upgrade`, then another upgrade, makes a new one). A
    /// member with push access once froze a room with noise of X-Wing stanzas naming an idle admin (a review).
    public static func stanzaShowsForgery(kind: Bundle.StanzaKind, stanzaOpened: Bool, rosterHoldsCurrentKey: Bool) -> Bool {
        switch kind {
        case .sealedBox: true
        case .xwing: stanzaOpened || rosterHoldsCurrentKey
        }
    }

    /// Judges `found` at the lock of `room`'s `epoch` on `base`. `expected` is the head of the commit this keyring holds
    /// for that epoch, if any; `now` is this keyring's clock; `signed(key)` checks the bundle's signature under `key`.
    /// `senderMadeAnother` is true when the bundle names this keyring as its sender and this keyring holds a different
    /// bundle of its own for that path (its staged flight, or its outbox copy): the one sender that can tell refuses a
    /// file that only claims to be its own (a member with push access could otherwise block the epoch for good), unless
    /// `restored`: this keyring was restored from a backup (or rolled back) and has not yet caught up with the remote, so
    /// such a file may be its own commit made after the backup, and replacing it would split the room (a review).
    /// `receiver` is this keyring's id. `stanzaShowsForgery` is true when the bundle's stanza for this keyring shows that
    /// the file is not what its sender sealed: the stanza opened and the payload did not, or it is a sealed box (to the
    /// X25519 key, fixed for an identity) and did not open, or an X-Wing stanza that did not open while the roster
    /// holds this keyring's current X-Wing key (`stanzaShowsForgery(kind:...)`). A valid bundle opens for each
    /// recipient, since its sender seals one bundle key to all of them.
    public static func judge(_ found: Found, room: RoomID, epoch: UInt64, base: Base, expected: [UInt8]?, now: UInt64,
                             senderMadeAnother: Bool = false, restored: Bool = false, receiver: IdentityID? = nil,
                             stanzaShowsForgery: Bool = false,
                             signed: (SigningPublicKey) -> Bool) -> Verdict {
        let bundle: Bundle
        switch found {
        case let .unparsable(why): return .replace("it cannot be parsed: \(why)")
        case let .sealed(b, _), let .opened(b, _): bundle = b
        }
        guard bundle.roomID == room, bundle.epoch == epoch else {
            return .replace("it is a bundle for room \(bundle.roomID) epoch \(bundle.epoch)")
        }
        let commits: [Commit]
        switch found {
        case .unparsable: return .replace("it cannot be parsed")
        case let .opened(_, c): commits = c
        case let .sealed(_, why):
            // Unread, it may still be valid: only a sender who cannot have made the epoch's commit is refused outright,
            // or, at the named sender itself, a bundle it did not make.
            if senderMadeAnother && !restored {
                return .replace("it names this keyring as its sender, which made another bundle for epoch \(epoch)")
            }
            // This keyring's own bundle (a commit it sealed again for a rewound remote, as any member may) is never
            // sealed to itself: the others judge it (a review: a member replaced its own copy at every sync).
            if let receiver, bundle.sender == receiver {
                return .keep(restored ? "it names this keyring as its sender, which was restored from an older backup: it may be its own commit from after the backup"
                    : "it is this keyring's own bundle, which does not open here")
            }
            switch base {
            case let .genesis(creator) where bundle.sender != creator: return .replace("it is not from the room's creator")
            case let .after(state, _) where state.roster[bundle.sender]?.admin != true:
                return .replace("it is from \(bundle.sender), not an admin of epoch \(state.epoch)")
            default:
                // Listed here yet unopened, it is not what its sender sealed (an admin's header copied onto another
                // bundle by someone who can push: kept, it blocked the epoch for every other admin, a review).
                if stanzaShowsForgery { return .replace("it lists this keyring as a recipient, but does not open here") }
                return .keep("it cannot be opened here: \(why)")
            }
        }
        guard let commit = commits.last, commit.epoch == epoch else { return .replace("it carries no commit for epoch \(epoch)") }
        let next: RoomState
        let before: Roster
        let previousTime: UInt64?
        do throws(LogError) {
            switch base {
            case let .genesis(creator):
                guard commit.author == creator else { return .replace("its genesis is not by the room's creator") }
                next = try RoomState.genesis(commit)
                before = Roster()
                previousTime = nil
            case let .after(state, time):
                guard commit.previousHead == state.head else { return .replace("it does not chain to the head of epoch \(state.epoch)") }
                next = try state.applying(commit)
                before = state.roster
                previousTime = time
            }
            // The parts of the time rule that do not depend on a clock.
            try CommitClock.check(commit, previousTime: previousTime, now: UInt64.max)
        } catch {
            return .replace(error.message)
        }
        let leaving = commit.author == bundle.sender && commit.operations == [.leave]
        guard let card = next.roster[bundle.sender]?.card ?? (leaving ? before[bundle.sender]?.card : nil) else {
            return .replace("it is sent by \(bundle.sender), not a member of epoch \(epoch)")
        }
        guard signed(card.signingKey) else { return .replace("its signature does not verify") }
        let want = Set(next.roster.sortedIDs).subtracting([bundle.sender])
        guard Set(bundle.recipients) == want, bundle.recipients.count == want.count else {
            return .replace("it is not sealed to the roster of epoch \(epoch)")
        }
        if let expected, commit.head == expected { return .expected }
        do { try CommitClock.check(commit, previousTime: previousTime, now: now) } catch { return .keep(error.message) }
        if expected != nil { return .keep("it holds another valid commit for epoch \(epoch) than this keyring's (a fork)") }
        return .keep("it is valid here but was not applied")
    }
}
