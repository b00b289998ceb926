/// What an admin does with a member's leave request.
public enum LeaveDecision: Sendable {
    /// Commit the removal of this member.
    case remove(IdentityID)
    /// The member is no longer in the roster: nothing to do.
    case duplicate
    /// The request is for an epoch this receiver has not reached; receive it again later.
    case pending(BundleError)
    /// A rule failed.
    case rejected(any RoomKeyError)
    /// Not for this receiver: its own request, a room it does not hold or left, or it is not an admin.
    case notForMe
    /// A valid request that another admin, its designated one (`LeaveRequest.designatedAdmin`), acts on.
    case otherAdmin(IdentityID)
}

/// Why a leave request was refused.
public enum LeaveError: Error, Equatable, Sendable {
    /// The member is not in the roster of the request's epoch.
    case notMember(IdentityID, epoch: UInt64)
    /// The signature does not verify under the member's card.
    case badSignature(IdentityID)
    /// The member was added again after the request was made.
    case stale(IdentityID, readdedAt: UInt64)
}

extension LeaveError: RoomKeyError {
    /// Every refusal is a rejection.
    public var category: ErrorCategory { .rejected }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .notMember(id, epoch): "leave request from \(id), who is not a member at epoch \(epoch)"
        case let .badSignature(id): "leave request signature does not verify under the card of \(id)"
        case let .stale(id, epoch): "leave request from \(id) predates their return at epoch \(epoch)"
        }
    }
}

/// The rules of leave requests (docs/PROTOCOL.md §5.5): a pure function of the request and the receiver's view.
public struct LeaveAcceptance<View: ReceiverView> {
    /// The receiver's stored state.
    public let view: View
    /// The receiver's identity.
    public let receiver: IdentityID
    /// True when only the request's designated admin removes the member (a room without a remote, where each admin
    /// commits at once: two admins acting on one request would make two commits for one epoch, a fork). With a remote
    /// every admin stages the removal and the remote orders them.
    public let designatedOnly: Bool

    /// A decision maker over `view` for `receiver`.
    public init(view: View, receiver: IdentityID, designatedOnly: Bool = false) {
        self.view = view
        self.receiver = receiver
        self.designatedOnly = designatedOnly
    }

    /// Decides `requests` in order, each exactly as `decide(_:)` would on the same view, which must not change between
    /// them: each room and roster is read once, so hundreds of requests for one room do not parse its roster each.
    public func decide(_ requests: [LeaveRequest]) throws -> [LeaveDecision] {
        let remembered = LeaveAcceptance<RememberedView<View>>(view: RememberedView(view), receiver: receiver, designatedOnly: designatedOnly)
        return try requests.map { try remembered.decide($0) }
    }

    /// Decides what to do with `request`. Throws only when the view fails.
    public func decide(_ request: LeaveRequest) throws -> LeaveDecision {
        guard request.member != receiver, let room = try view.room(request.roomID), !room.left,
              let current = try view.rosterView(room.roomID, epoch: room.epoch) else { return .notForMe }
        guard current.contains(receiver), try view.roster(room.roomID, epoch: room.epoch)?[receiver]?.admin == true else {
            return .notForMe
        }
        if request.epoch > room.epoch { return .pending(.waiting("epoch \(request.epoch) of room \(room.name)")) }
        guard request.epoch >= room.joinedEpoch, let then = try view.rosterView(room.roomID, epoch: request.epoch),
              let card = try then.card(of: request.member) else {
            return .rejected(LeaveError.notMember(request.member, epoch: request.epoch))
        }
        do { try request.verify(card.signingKey) } catch { return .rejected(LeaveError.badSignature(request.member)) }
        guard current.contains(request.member) else { return .duplicate }
        var epoch = request.epoch
        while epoch < room.epoch {
            epoch += 1
            let readded = try view.commit(room.roomID, epoch: epoch)?.operations.contains { op in
                if case let .add(added) = op { added.id == request.member } else { false }
            }
            if readded == true { return .rejected(LeaveError.stale(request.member, readdedAt: epoch)) }
        }
        if designatedOnly, let chosen = LeaveRequest.designatedAdmin(for: request.member, then: then, now: current), chosen != receiver {
            return .otherAdmin(chosen)
        }
        return .remove(request.member)
    }
}

extension LeaveDecision {
    /// True when a request that is not settled now may be settled later by this receiver, so it is kept and tried
    /// again when the room moves: its epoch is ahead of the receiver's room (`roomEpoch`; nil when the receiver does
    /// not hold the room or left it). Whatever the decision (`pending`, or `notForMe` for an admin whose promotion is
    /// in the epochs it lacks), a later epoch may settle it.
    public static func worthKeeping(requestEpoch: UInt64, roomEpoch: UInt64?) -> Bool {
        guard let roomEpoch else { return false }
        return requestEpoch > roomEpoch
    }
}

/// Which admin acts on a leave request (docs/PROTOCOL.md §5.5): the same one for every admin that holds the rosters.
extension LeaveRequest {
    /// The admin that acts on a leave request by `member` made at an epoch whose roster is `then`, in a room whose
    /// current roster is `now`: the admin with the lowest id among the admins of `then` (the member aside) that are
    /// still admins in `now`, or, when none is, the lowest among the admins of `now`. Nil when the room has no other admin.
    public static func designatedAdmin(for member: IdentityID, then: RosterView, now: RosterView) -> IdentityID? {
        let kept = then.ordered.filter { $0.admin && $0.id != member && now.isAdmin($0.id) }.map(\.id).min()
        return kept ?? now.ordered.filter { $0.admin && $0.id != member }.map(\.id).min()
    }

    /// The admin that acts on a leave request `member` makes now, in a room whose roster is `roster`: the admin with
    /// the lowest id (the member aside), as `designatedAdmin(for:then:now:)` decides with both rosters this one.
    public static func designatedAdmin(for member: IdentityID, in roster: Roster) -> IdentityID? {
        roster.members.values.filter { $0.admin && $0.id != member }.map(\.id).min()
    }
}
