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

    /// A decision maker over `view` for `receiver`.
    public init(view: View, receiver: IdentityID) {
        self.view = view
        self.receiver = receiver
    }

    /// Decides `requests` in order, each exactly as `decide(_:)` would on the same view, which must not change between
    /// them: each room and roster is read once, so hundreds of requests for one room do not parse its roster each.
    public func decide(_ requests: [LeaveRequest]) throws -> [LeaveDecision] {
        let remembered = LeaveAcceptance<RememberedView<View>>(view: RememberedView(view), receiver: receiver)
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
