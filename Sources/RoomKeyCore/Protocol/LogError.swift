/// Why a commit was not accepted into a room's log.
public enum LogError: Error, Equatable, Sendable {
    /// The commit is for another room.
    case wrongRoom(expected: RoomID, found: RoomID)
    /// The commit skips epochs: an earlier one is missing (the commit can wait as pending).
    case gap(expected: UInt64, found: UInt64)
    /// The commit is for an epoch already accepted and is identical to it (a replay).
    case stale(epoch: UInt64, current: UInt64)
    /// A different valid commit for an epoch already accepted.
    case fork(epoch: UInt64, ours: [UInt8], theirs: [UInt8])
    /// The previous-head hash does not match.
    case brokenChain(epoch: UInt64)
    /// The previous-head hash does not match, and an admin of the accepted roster signed the commit: that admin holds
    /// another commit for the epoch before, so the room may have split (PROTOCOL §3.5, "Unchained").
    case otherBranch(epoch: UInt64, author: IdentityID)
    /// The author is not a member at the previous epoch.
    case authorNotMember(IdentityID)
    /// The signature does not verify under the author's key.
    case badSignature(epoch: UInt64)
    /// The author is not an admin of the previous epoch.
    case notAdmin(IdentityID)
    /// The commit's time is implausible: too far in the receiver's future, too far before its predecessor, or before 2020.
    case badTime(epoch: UInt64, time: UInt64, reason: String)
    /// An operation is not valid in this state.
    case invalidOperation(String)
    /// No admin would remain.
    case noAdminLeft
    /// The roster hash in the commit does not match the roster the operations produce.
    case rosterMismatch(epoch: UInt64)
    /// A genesis by another creator than the held one's, for the same room id: one of the two reused the other's id.
    case otherGenesis(held: IdentityID, carried: IdentityID)
}

extension LogError: RoomKeyError {
    /// A gap is pending; everything else is a rejection.
    public var category: ErrorCategory {
        if case .gap = self { return .pending }
        return .rejected
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .wrongRoom(expected, found): "commit is for room \(found), expected \(expected)"
        case let .gap(expected, found): "commit for epoch \(found) waits for epoch \(expected)"
        case let .stale(epoch, current): "commit for epoch \(epoch) was already applied (the room is at epoch \(current)); rollback refused"
        case let .fork(epoch, ours, theirs):
            "fork at epoch \(epoch): accepted head \(Hex.encode(ours)), conflicting head \(Hex.encode(theirs))"
        case let .brokenChain(epoch): "commit for epoch \(epoch) does not chain to the accepted head"
        case let .otherBranch(epoch, author):
            "commit for epoch \(epoch) by admin \(author) follows another commit for epoch \(epoch - 1) than the one accepted here: the room may have split; compare 'roomkey room fingerprint' with that admin"
        case let .authorNotMember(id): "commit author \(id) is not a member of the room"
        case let .badSignature(epoch): "signature of the commit for epoch \(epoch) does not verify"
        case let .notAdmin(id): "commit author \(id) is not an admin"
        case let .badTime(epoch, time, reason): "commit for epoch \(epoch) has time \(time), \(reason)"
        case let .invalidOperation(why): "invalid operation: \(why)"
        case .noAdminLeft: "the change would leave the room without an admin"
        case let .rosterMismatch(epoch): "roster hash of the commit for epoch \(epoch) does not match its operations"
        case let .otherGenesis(held, carried):
            "it carries a genesis by \(carried) for a room whose genesis here is by \(held): one of them reused the other's room id (if the room held here is the made-up one, 'roomkey room forget ROOM --force' drops it)"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .fork: "the room refuses to distribute keys until an admin resolves the fork"
        case .notAdmin: "ask an admin of the room to make this change"
        case .otherGenesis: "compare 'roomkey room fingerprint' with members you trust; 'roomkey room forget ROOM --force' drops the room held here"
        default: nil
        }
    }
}
