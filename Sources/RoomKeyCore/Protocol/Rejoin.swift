/// Taking back a room this member left (`room rejoin`): a pure function of the room's stored state.
///
/// A member's `room leave` marks the room left; the keyring still follows it as a member's, but takes no commit adding
/// the member again, since nothing tells a re-add made after the leave from one made before it. Taking the room back is
/// the member's own choice: the room is no longer left, so the next bundle that adds it again is received as for any
/// member.
public enum Rejoin {
    /// What `room rejoin` does.
    public enum Outcome: Equatable, Sendable {
        /// Unmark the room; with `newKeyDue`, this member is in the roster held here and owes a new sender key (its own
        /// were deleted when it left).
        case rejoin(newKeyDue: Bool)
        /// The room was not left: nothing to take back.
        case notLeft
    }

    /// Decides for a room that is `left` or not, whose roster held here has this member or not. A forked room is taken
    /// back too, still forked: it distributes nothing until an admin's next commit on the kept branch reaches it, which
    /// only a member receives (refusing it left a member who left during a fork out for good: a review).
    public static func decide(left: Bool, inRoster: Bool) -> Outcome {
        guard left else { return .notLeft }
        return .rejoin(newKeyDue: inRoster)
    }
}
